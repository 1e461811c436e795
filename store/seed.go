package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/model"
)

// seedBatch is how many products one INSERT carries: large enough to amortise round trips, small
// enough to stay under SQLite's and PostgreSQL's bound-parameter limits (7 columns × 1000).
const seedBatch = 1000

// Seed adds n sample products spread evenly over `categories` sample categories (created if
// missing), for demos and benchmarks. Names continue after products already seeded, so it can be
// run again to grow the catalog. progress, if not nil, is called after each batch with the count
// inserted so far.
func Seed(ctx context.Context, db *bun.DB, n, categories int, progress func(done int)) error {
	if categories < 1 {
		return fmt.Errorf("need at least one category")
	}
	ids := make([]int64, categories)
	for i := range ids {
		name := fmt.Sprintf("Category %02d", i+1)
		c, err := CategoryByName(ctx, db, name)
		if err != nil {
			if c, err = CreateCategory(ctx, db, name); err != nil {
				return err
			}
		}
		ids[i] = c.ID
	}
	// Continue after the highest sample number present (not the count: products may have been
	// deleted since, and names are unique). Numbers are zero-padded, so the greatest name is the
	// greatest number.
	var last sql.NullString
	err := db.NewSelect().Model((*model.Product)(nil)).ColumnExpr("MAX(name)").
		Where("name LIKE ?", "Product _______").
		Where("name BETWEEN ? AND ?", "Product 0000000", "Product 9999999").
		Scan(ctx, &last)
	if err != nil {
		return err
	}
	var start int
	if last.Valid {
		if _, err := fmt.Sscanf(last.String, "Product %d", &start); err != nil {
			return fmt.Errorf("reading the last sample product number from %q: %w", last.String, err)
		}
	}
	for done := 0; done < n; {
		size := min(seedBatch, n-done)
		batch := make([]model.Product, size)
		perCategory := make(map[int64]int64, categories)
		t := now()
		for i := range batch {
			k := start + done + i
			cat := ids[k%categories]
			perCategory[cat]++
			name := fmt.Sprintf("Product %07d", k+1)
			batch[i] = model.Product{
				Name:        name,
				NameKey:     nameKey(name),
				Description: fmt.Sprintf("Sample product number %d.", k+1),
				Price:       float64(k%10000)/100 + 1,
				Quantity:    float64(k % 50),
				CategoryID:  cat,
				CreatedAt:   t,
			}
		}
		err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
				return err
			}
			for cat, delta := range perCategory {
				if err := addToProductCount(ctx, tx, cat, delta); err != nil {
					return err
				}
			}
			return NotifyCatalogChanged(ctx, tx)
		})
		if err != nil {
			return err
		}
		done += size
		if progress != nil {
			progress(done)
		}
	}
	return nil
}
