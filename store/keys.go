package store

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/model"
)

// SigningKeys lists the stored signing keys of an algorithm, oldest first.
func SigningKeys(ctx context.Context, db bun.IDB, algorithm string) ([]model.SigningKey, error) {
	var keys []model.SigningKey
	err := db.NewSelect().Model(&keys).Where("algorithm = ?", algorithm).Order("created_at", "kid").Scan(ctx)
	return keys, err
}

// AddSigningKey stores a new signing key.
func AddSigningKey(ctx context.Context, db bun.IDB, k *model.SigningKey) error {
	k.CreatedAt = now()
	_, err := db.NewInsert().Model(k).Exec(ctx)
	return err
}

// DeleteSigningKeys removes keys by kid.
func DeleteSigningKeys(ctx context.Context, db bun.IDB, kids []string) error {
	if len(kids) == 0 {
		return nil
	}
	_, err := db.NewDelete().Model((*model.SigningKey)(nil)).Where("kid IN (?)", bun.List(kids)).Exec(ctx)
	return err
}
