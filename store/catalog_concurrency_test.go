package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

// TestCatalogWritesUnderConcurrency: upserts that move products between categories, racing
// deletions and re-creations of those categories (on PostgreSQL their locks can cross and deadlock),
// fail only by a data rule, and product_count matches the products afterwards.
func TestCatalogWritesUnderConcurrency(t *testing.T) {
	url, opts := freshDatabase(t)
	opts.MaxOpenConns = 16
	db := migrated(t, url, opts)
	ctx := context.Background()
	var (
		mu         sync.Mutex
		categories []int64
		unexpected []error
	)
	for i := range 4 {
		c, err := store.CreateCategory(ctx, db, fmt.Sprintf("C%d", i))
		if err != nil {
			t.Fatal(err)
		}
		categories = append(categories, c.ID)
	}
	category := func(i int) int64 {
		mu.Lock()
		defer mu.Unlock()
		return categories[i]
	}
	mayCreate := func(context.Context) error { return nil }
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range 60 {
				i := r.IntN(4)
				var err error
				if r.IntN(2) == 0 {
					_, err = store.UpsertProduct(ctx, db, fmt.Sprintf("P%d", r.IntN(10)), store.ProductFields{CategoryID: category(i)}, mayCreate)
				} else if err = store.DeleteCategory(ctx, db, fmt.Sprintf("C%d", i)); err == nil {
					var c *model.Category
					if c, err = store.CreateCategory(ctx, db, fmt.Sprintf("C%d", i)); err == nil {
						mu.Lock()
						categories[i] = c.ID
						mu.Unlock()
					}
				}
				var input *model.InputError
				if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) && !errors.As(err, &input) {
					mu.Lock()
					unexpected = append(unexpected, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for i, err := range unexpected {
		if i < 5 {
			t.Errorf("a write failed for no data rule: %v", err)
		}
	}
	var drift []struct{ ID, Count, Actual int64 }
	err := db.NewRaw(`SELECT c.id, c.product_count AS count, (SELECT COUNT(*) FROM products p WHERE p.category_id = c.id) AS actual FROM categories c`).Scan(ctx, &drift)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range drift {
		if d.Count != d.Actual {
			t.Errorf("category %d: product_count %d, products %d", d.ID, d.Count, d.Actual)
		}
	}
}
