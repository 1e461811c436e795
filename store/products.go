package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/model"
)

// Page sizes of products(first:): the schema's default (its `first: Int = 50`, which a test holds
// to this) and the largest ProductFilter.First.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// ProductFields are the writable fields of a product besides its name.
type ProductFields struct {
	Description string
	Price       float64
	Quantity    float64
	CategoryID  int64
}

func (f *ProductFields) check() error {
	// -0 passes "not negative"; store and echo it as 0.
	if f.Price == 0 {
		f.Price = 0
	}
	if f.Quantity == 0 {
		f.Quantity = 0
	}
	if err := checkText("description", f.Description, maxDescriptionLen); err != nil {
		return err
	}
	if err := checkAmount("price", f.Price); err != nil {
		return err
	}
	return checkAmount("quantity", f.Quantity)
}

// CreateProduct inserts a product: ErrConflict when the name is taken, *model.InputError when the
// fields are invalid or the category does not exist.
func CreateProduct(ctx context.Context, db bun.IDB, name string, f ProductFields) (*model.Product, error) {
	if err := checkName("name", name); err != nil {
		return nil, err
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	p := new(model.Product)
	err := runInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		*p = *newProduct(name, f) // afresh on a retry
		if err := insertProduct(ctx, tx, p); err != nil {
			return err
		}
		if err := attachCategory(ctx, tx, p); err != nil {
			return err
		}
		if err := announceProduct(ctx, tx, productEvent(model.ChangeKindCreated, p)); err != nil {
			return err
		}
		return NotifyCatalogChanged(ctx, tx)
	})
	return p, err
}

func productEvent(kind model.ChangeKind, p *model.Product, otherCategories ...int64) ProductEvent {
	return ProductEvent{Kind: kind, ID: p.ID, Name: p.Name, Categories: append([]int64{p.CategoryID}, otherCategories...)}
}

// UpsertProduct creates the product named name or replaces the fields of the existing one.
// mayCreate is asked inside the transaction, after the lookup found no product of that name and
// before one is inserted: its error refuses the creation (and rolls the transaction back), so the
// caller's rule for creating holds even when a concurrent delete or create races the upsert.
func UpsertProduct(ctx context.Context, db bun.IDB, name string, f ProductFields, mayCreate func(context.Context) error) (*model.Product, error) {
	if err := checkName("name", name); err != nil {
		return nil, err
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		p := new(model.Product)
		err := runInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
			*p = *newProduct(name, f) // afresh on a retry
			if err := NotifyCatalogChanged(ctx, tx); err != nil {
				return err
			}
			old := new(model.Product)
			q := tx.NewSelect().Model(old).Column("id", "category_id", "created_at").Where("name = ?", name)
			if IsPostgres(tx) {
				q = q.For("UPDATE")
			}
			switch err := q.Scan(ctx); {
			case errors.Is(err, sql.ErrNoRows):
				if err := mayCreate(ctx); err != nil {
					return err
				}
				if err := insertProduct(ctx, tx, p); err != nil {
					return err
				}
				if err := attachCategory(ctx, tx, p); err != nil {
					return err
				}
				return announceProduct(ctx, tx, productEvent(model.ChangeKindCreated, p))
			case err != nil:
				return err
			}
			p.ID, p.CreatedAt = old.ID, old.CreatedAt
			_, err := tx.NewUpdate().Model(p).Column("description", "price", "quantity", "category_id").WherePK().Exec(ctx)
			if err != nil {
				return categoryError(err, f.CategoryID)
			}
			if err := attachCategory(ctx, tx, p); err != nil {
				return err
			}
			if old.CategoryID == p.CategoryID {
				return announceProduct(ctx, tx, productEvent(model.ChangeKindUpdated, p))
			}
			if err := announceProduct(ctx, tx, productEvent(model.ChangeKindUpdated, p, old.CategoryID)); err != nil {
				return err
			}
			// Lower ID first, so that two moves in opposite directions cannot deadlock.
			first, second := moveCounts(old.CategoryID, p.CategoryID)
			if err := addToProductCount(ctx, tx, first.id, first.delta); err != nil {
				return err
			}
			return addToProductCount(ctx, tx, second.id, second.delta)
		})
		// Another transaction inserted the same name between our lookup and insert: now it exists,
		// so the next attempt updates it.
		if errors.Is(err, ErrConflict) && attempt == 0 {
			continue
		}
		return p, err
	}
}

type countDelta struct{ id, delta int64 }

func moveCounts(from, to int64) (countDelta, countDelta) {
	if from < to {
		return countDelta{from, -1}, countDelta{to, 1}
	}
	return countDelta{to, 1}, countDelta{from, -1}
}

func newProduct(name string, f ProductFields) *model.Product {
	return &model.Product{
		Name: name, NameKey: nameKey(name), Description: f.Description, Price: f.Price, Quantity: f.Quantity,
		CategoryID: f.CategoryID, CreatedAt: now(),
	}
}

func insertProduct(ctx context.Context, tx bun.IDB, p *model.Product) error {
	if _, err := tx.NewInsert().Model(p).Returning("id").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return conflict("a product named %q, or one whose name looks the same, already exists", p.Name)
		}
		return categoryError(err, p.CategoryID)
	}
	return addToProductCount(ctx, tx, p.CategoryID, 1)
}

// attachCategory loads the product's category into p.Category: every product the store returns
// carries it.
func attachCategory(ctx context.Context, db bun.IDB, p *model.Product) error {
	p.Category = new(model.Category)
	return db.NewSelect().Model(p.Category).Where("id = ?", p.CategoryID).Scan(ctx)
}

func categoryError(err error, categoryID int64) error {
	if isForeignKeyViolation(err) {
		return invalid("categoryId", "no category with ID %d", categoryID)
	}
	return err
}

// DeleteProduct deletes the product named name, or reports ErrNotFound.
func DeleteProduct(ctx context.Context, db bun.IDB, name string) error {
	return runInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		p := new(model.Product)
		err := tx.NewDelete().Model(p).Where("name = ?", name).Returning("id, category_id").Scan(ctx)
		if err := found(err, "no product named %q", name); err != nil {
			return err
		}
		p.Name = name
		if err := announceProduct(ctx, tx, productEvent(model.ChangeKindDeleted, p)); err != nil {
			return err
		}
		if err := NotifyCatalogChanged(ctx, tx); err != nil {
			return err
		}
		return addToProductCount(ctx, tx, p.CategoryID, -1)
	})
}

// ProductByName returns the product named name, or ErrNotFound.
func ProductByName(ctx context.Context, db bun.IDB, name string) (*model.Product, error) {
	p := new(model.Product)
	err := db.NewSelect().Model(p).Relation("Category").Where("p.name = ?", name).Scan(ctx)
	return p, found(err, "no product named %q", name)
}

// ProductFilter selects a page of products in ID order.
type ProductFilter struct {
	CategoryID int64  // 0: all categories
	After      string // cursor from a previous page
	First      int    // page size, 0..MaxPageSize (outside that range ErrInvalid)
	NamesOnly  bool   // load only IDs and names
	// Omit are the columns the page may leave out: their fields stay zero. The zero value reads
	// every column, so a caller that does not say gets complete products.
	Omit Columns
}

// Columns is a set of the optional columns of a catalog page; a product's ID and name are always
// read (the cursor and ProductCatalog.names are made of them).
type Columns uint8

const (
	ColumnDescription Columns = 1 << iota
	ColumnPrice
	ColumnQuantity
	// ColumnCategory is the product's category: CategoryID and Category, with its name.
	ColumnCategory

	// AllColumns is every optional column.
	AllColumns = ColumnDescription | ColumnPrice | ColumnQuantity | ColumnCategory
)

// ProductPage is one page of products, whether more follow and, with the page, their total.
type ProductPage struct {
	Products    []*model.Product
	HasNextPage bool
	// Total is how many products match the filter, read with the page when TotalKnown (the page
	// is not empty).
	Total      int
	TotalKnown bool
}

// StartCursor is the cursor of the page's first product, or "" for an empty page.
func (p *ProductPage) StartCursor() string {
	if len(p.Products) == 0 {
		return ""
	}
	return Cursor(p.Products[0])
}

// Cursor is the opaque cursor of a listed product: the page after it starts with the next one.
func Cursor(p *model.Product) string { return encodeCursor(p.ID) }

// EndCursor is the cursor of the page's last product, or "" for an empty page.
func (p *ProductPage) EndCursor() string {
	if len(p.Products) == 0 {
		return ""
	}
	return Cursor(p.Products[len(p.Products)-1])
}

// ProductsByCategoryIDs returns the products of each category, in ID order, reading at most limit
// products in all. complete reports whether a category's list is whole: when the limit cuts the
// read short, the lists of the category it stopped in and of every later one (by ID) are not.
func ProductsByCategoryIDs(ctx context.Context, db bun.IDB, ids []int64, limit int) (byCategory map[int64][]*model.Product, complete func(categoryID int64) bool, err error) {
	var ps []*model.Product
	err = db.NewSelect().Model(&ps).Relation("Category").
		Where("p.category_id IN (?)", bun.List(ids)).
		Order("p.category_id", "p.id").
		Limit(int64(limit) + 1).
		Scan(ctx)
	if err != nil {
		return nil, nil, err
	}
	complete = func(int64) bool { return true }
	if len(ps) > limit {
		cut := ps[limit].CategoryID
		complete = func(id int64) bool { return id < cut }
		ps = ps[:limit]
	}
	byCategory = make(map[int64][]*model.Product, len(ids))
	for _, p := range ps {
		byCategory[p.CategoryID] = append(byCategory[p.CategoryID], p)
	}
	return byCategory, complete, nil
}

const cursorPrefix = "p:"

func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString(strconv.AppendInt([]byte(cursorPrefix), id, 10))
}

func decodeCursor(s string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(raw), cursorPrefix); ok {
			if id, err := strconv.ParseInt(rest, 10, 64); err == nil && id > 0 {
				return id, nil
			}
		}
	}
	return 0, invalid("after", "after is not a cursor from this API")
}
