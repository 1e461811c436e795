package app

import (
	"context"

	"github.com/shopql/shopql/store"
)

// Seed opens the configured database, applies migrations and adds n sample products in the given
// number of categories (see store.Seed).
func Seed(ctx context.Context, cfg Config, n, categories int, progress func(done int)) error {
	db, err := store.Open(ctx, cfg.DatabaseURL, store.Options{SearchPath: cfg.SearchPath})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := store.Migrate(ctx, db); err != nil {
		return err
	}
	return store.Seed(ctx, db, n, categories, progress)
}
