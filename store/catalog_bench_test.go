package store_test

import (
	"context"
	"testing"

	"github.com/shopql/shopql/store"
)

// BenchmarkCatalogPage reads the catalog's first page of 50, detailed, with the columns of the
// listing query of the performance issues, with prices only and names only, through the prepared
// statements.
func BenchmarkCatalogPage(b *testing.B) {
	url, opts := freshDatabase(b)
	db := migrated(b, url, opts)
	ctx := context.Background()
	if err := store.Seed(ctx, db, 1000, 20, nil); err != nil {
		b.Fatal(err)
	}
	c, err := store.NewCatalog(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	for _, bc := range []struct {
		name string
		f    store.ProductFilter
	}{
		{"detailed", store.ProductFilter{First: 50}},
		// What the catalog query (items { name price category { name } }) reads.
		{"catalog", store.ProductFilter{First: 50, Omit: store.ColumnDescription | store.ColumnQuantity}},
		{"price", store.ProductFilter{First: 50, Omit: store.AllColumns &^ store.ColumnPrice}},
		{"names", store.ProductFilter{First: 50, NamesOnly: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				page, err := c.Page(ctx, bc.f)
				if err != nil || len(page.Products) != 50 {
					b.Fatalf("page: %v, %d products", err, len(page.Products))
				}
			}
		})
	}
}
