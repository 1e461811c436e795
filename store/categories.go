package store

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/model"
)

// CreateCategory inserts a category named name; ErrConflict when the name is taken.
func CreateCategory(ctx context.Context, db bun.IDB, name string) (*model.Category, error) {
	if err := checkName("name", name); err != nil {
		return nil, err
	}
	c := new(model.Category)
	err := runInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		*c = model.Category{Name: name, NameKey: nameKey(name), CreatedAt: now()} // afresh on a retry
		if _, err := tx.NewInsert().Model(c).Returning("id").Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return conflict("a category named %q, or one whose name looks the same, already exists", name)
			}
			return err
		}
		return NotifyCatalogChanged(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// CategoryByName returns the category named name, or ErrNotFound.
func CategoryByName(ctx context.Context, db bun.IDB, name string) (*model.Category, error) {
	c := new(model.Category)
	err := db.NewSelect().Model(c).Where("name = ?", name).Scan(ctx)
	return c, found(err, "no category named %q", name)
}

// Categories lists every category by name, in code-point order on both databases (PostgreSQL would
// otherwise sort by its locale's collation, SQLite by bytes).
func Categories(ctx context.Context, db bun.IDB) ([]*model.Category, error) {
	var cs []*model.Category
	order := "name"
	if IsPostgres(db) {
		order = `name COLLATE "C"`
	}
	err := db.NewSelect().Model(&cs).OrderExpr(order).Scan(ctx)
	return cs, err
}

// RenameCategory renames a category; ErrNotFound when it is absent, ErrConflict when newName is taken.
func RenameCategory(ctx context.Context, db bun.IDB, name, newName string) (*model.Category, error) {
	if err := checkName("newName", newName); err != nil {
		return nil, err
	}
	c := new(model.Category)
	err := runInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewUpdate().Model(c).Set("name = ?", newName).Set("name_key = ?", nameKey(newName)).
			Where("name = ?", name).Returning("*").Scan(ctx)
		if err != nil && isUniqueViolation(err) {
			return conflict("a category named %q, or one whose name looks the same, already exists", newName)
		}
		if err := found(err, "no category named %q", name); err != nil {
			return err
		}
		return NotifyCatalogChanged(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// DeleteCategory deletes an empty category: ErrConflict while it has products, ErrNotFound when absent.
func DeleteCategory(ctx context.Context, db bun.IDB, name string) error {
	return runInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		c, err := CategoryByName(ctx, tx, name)
		if err != nil {
			return err
		}
		if c.ProductCount > 0 {
			return conflict("category %q still has %d products", name, c.ProductCount)
		}
		_, err = tx.NewDelete().Model(c).WherePK().Exec(ctx)
		if err != nil && isForeignKeyViolation(err) {
			// A product was added between the check and the delete.
			return conflict("category %q still has products", name)
		}
		if err != nil {
			return err
		}
		return NotifyCatalogChanged(ctx, tx)
	})
}

// addToProductCount keeps categories.product_count in step with the products table; it runs in the
// transaction that inserts, moves or deletes the product.
func addToProductCount(ctx context.Context, tx bun.IDB, categoryID, delta int64) error {
	_, err := tx.NewUpdate().Model((*model.Category)(nil)).
		Set("product_count = product_count + ?", delta).
		Where("id = ?", categoryID).
		Exec(ctx)
	return err
}
