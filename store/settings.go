package store

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/model"
)

// SettingOrInit returns the setting named key, first storing value under it if it is absent. When
// several instances race, the first insert wins and every instance returns the same stored value.
func SettingOrInit(ctx context.Context, db bun.IDB, key, value string) (string, error) {
	_, err := db.NewInsert().Model(&model.Setting{Key: key, Value: value}).On("CONFLICT (key) DO NOTHING").Exec(ctx)
	if err != nil {
		return "", err
	}
	s := new(model.Setting)
	if err := db.NewSelect().Model(s).Where("key = ?", key).Scan(ctx); err != nil {
		return "", err
	}
	return s.Value, nil
}
