package store_test

import (
	"context"
	"testing"

	"github.com/shopql/shopql/store"
)

// BenchmarkCatalogPage reads the catalog's first page of 50, detailed (the listing query of the
// performance issues) and names only, through the prepared statements.
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
