package store_test

import (
	"context"
	"testing"

	"github.com/shopql/shopql/store"
)

// TestCatalogPageReadsWhatWasWritten: a page gives back names, descriptions and numbers exactly as
// stored, text that looks like a number included (on SQLite the page reads its text columns as
// +column, which must leave text as it is), on a names-only page and for every set of omitted
// columns, which stay zero.
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
	filters := []store.ProductFilter{{First: 10, NamesOnly: true}}
	for omit := range store.AllColumns + 1 {
		filters = append(filters, store.ProductFilter{First: 10, Omit: omit}, store.ProductFilter{First: 10, CategoryID: cat.ID, Omit: omit})
	}
	for _, f := range filters {
		page, err := c.Page(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Products) != len(want) || page.Total != len(want) || !page.TotalKnown {
			t.Fatalf("%+v: %d products, total %d (known %v)", f, len(page.Products), page.Total, page.TotalKnown)
		}
		omitted := f.Omit
		if f.NamesOnly {
			omitted = store.AllColumns
		}
		for i, p := range page.Products {
			w := want[i]
			// An omitted column leaves its field zero.
			if omitted&store.ColumnDescription != 0 {
				w.description = ""
			}
			if omitted&store.ColumnPrice != 0 {
				w.price = 0
			}
			if omitted&store.ColumnQuantity != 0 {
				w.quantity = 0
			}
			wantCategoryID, wantCategory := cat.ID, "007"
			if omitted&store.ColumnCategory != 0 {
				wantCategoryID, wantCategory = 0, ""
			}
			if p.Name != w.name || p.Description != w.description || p.Price != w.price || p.Quantity != w.quantity ||
				p.CategoryID != wantCategoryID || (p.Category == nil) != (wantCategory == "") || p.Category != nil && p.Category.Name != wantCategory {
				t.Errorf("%+v: product %d is %q %q %g %g in %d (%+v), want %q %q %g %g in %d (%q)", f, i,
					p.Name, p.Description, p.Price, p.Quantity, p.CategoryID, p.Category, w.name, w.description, w.price, w.quantity, wantCategoryID, wantCategory)
			}
		}
	}
}
