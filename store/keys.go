package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/model"
)

// SigningKeys lists the stored signing keys of an algorithm, oldest first.
func SigningKeys(ctx context.Context, db bun.IDB, algorithm string) ([]model.SigningKey, error) {
	var keys []model.SigningKey
	err := db.NewSelect().Model(&keys).Where("algorithm = ?", algorithm).Order("created_at", "kid").Scan(ctx)
	return keys, err
}

// AddSigningKeyIfDue stores k unless a key of its algorithm created after dueBefore exists, and
// reports whether it did. The check and the insert hold the table's write lock (SQLite's write
// transactions run one at a time; PostgreSQL locks the table against other writers), so that
// instances starting or rotating together add one key, not one each: a key added beside another
// that an instance has not loaded yet would sign tokens the other instance cannot verify.
func AddSigningKeyIfDue(ctx context.Context, db *bun.DB, k *model.SigningKey, dueBefore time.Time) (added bool, err error) {
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if IsPostgres(tx) {
			if _, err := tx.ExecContext(ctx, "LOCK TABLE signing_keys IN EXCLUSIVE MODE"); err != nil {
				return err
			}
		}
		recent, err := tx.NewSelect().Model((*model.SigningKey)(nil)).
			Where("algorithm = ? AND created_at > ?", k.Algorithm, dueBefore.UTC()).Exists(ctx)
		if err != nil || recent {
			return err
		}
		k.CreatedAt = now()
		_, err = tx.NewInsert().Model(k).Exec(ctx)
		added = err == nil
		return err
	})
	return added, err
}

// DeleteSigningKeys removes keys by kid.
func DeleteSigningKeys(ctx context.Context, db bun.IDB, kids []string) error {
	if len(kids) == 0 {
		return nil
	}
	_, err := db.NewDelete().Model((*model.SigningKey)(nil)).Where("kid IN (?)", bun.List(kids)).Exec(ctx)
	return err
}
