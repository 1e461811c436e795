package store_test

import (
	"context"
	"testing"

	"github.com/shopql/shopql/store"
)

// TestCatalogPageReadsWhatWasWritten: a page gives back names, descriptions and numbers exactly as
// stored, text that looks like a number included (on SQLite the page reads its text columns as
// +column, which must leave text as it is), on a detailed and a names-only page.
func TestCatalogPageReadsWhatWasWritten(t *testing.T) {
	url, opts := freshDatabase(t)
	db := migrated(t, url, opts)
	ctx := context.Background()
	cat, err := store.CreateCategory(ctx, db, "007")
	if err != nil {
		t.Fatal(err)
	}
	mayCreate := func(context.Context) error { return nil }
	want := []struct {
		name, description string
		price, quantity   float64
	}{
		{"123", "1e5", 12.5, 3},
		{" 7", "", 0, 0.25},
		{"Ünïcode ✓", "0x10", 1e9, 1000},
	}
	for _, w := range want {
		f := store.ProductFields{Description: w.description, Price: w.price, Quantity: w.quantity, CategoryID: cat.ID}
		if _, err := store.UpsertProduct(ctx, db, w.name, f, mayCreate); err != nil {
			t.Fatal(err)
		}
	}
	c, err := store.NewCatalog(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	for _, f := range []store.ProductFilter{{First: 10}, {First: 10, CategoryID: cat.ID}, {First: 10, NamesOnly: true}} {
		page, err := c.Page(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Products) != len(want) || page.Total != len(want) || !page.TotalKnown {
			t.Fatalf("%+v: %d products, total %d (known %v)", f, len(page.Products), page.Total, page.TotalKnown)
		}
		for i, p := range page.Products {
			w := want[i]
			if p.Name != w.name {
				t.Errorf("%+v: product %d named %q, want %q", f, i, p.Name, w.name)
			}
			if f.NamesOnly {
				continue
			}
			if p.Description != w.description || p.Price != w.price || p.Quantity != w.quantity || p.CategoryID != cat.ID ||
				p.Category == nil || p.Category.Name != "007" {
				t.Errorf("%+v: product %d is %q %g %g in %d (%+v), want %q %g %g in %d (007)", f, i,
					p.Description, p.Price, p.Quantity, p.CategoryID, p.Category, w.description, w.price, w.quantity, cat.ID)
			}
		}
	}
}
