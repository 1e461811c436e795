package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/model"
)

// Catalog serves the product listing, the API's hot path, through prepared statements: bun
// interpolates arguments into the SQL text, which costs a parse and plan per query, so these few
// fixed queries are prepared once and scanned by hand instead.
type Catalog struct {
	pages  [2][2]*sql.Stmt // [names only?][in one category?]
	counts [2]*sql.Stmt    // [in one category?]
}

// NewCatalog prepares the listing statements on db. Close releases them.
func NewCatalog(ctx context.Context, db *bun.DB) (*Catalog, error) {
	pages, counts := catalogQueries(IsPostgres(db))
	c := &Catalog{}
	queries := map[*(*sql.Stmt)]string{
		&c.pages[0][0]: pages[0][0], &c.pages[0][1]: pages[0][1],
		&c.pages[1][0]: pages[1][0], &c.pages[1][1]: pages[1][1],
		&c.counts[0]: counts[0], &c.counts[1]: counts[1],
	}
	for stmt, query := range queries {
		if IsPostgres(db) {
			query = numberPlaceholders(query)
		}
		prepared, err := db.DB.PrepareContext(ctx, query)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("prepare catalog query: %w", err)
		}
		*stmt = prepared
	}
	return c, nil
}

// catalogQueries are the listing's statements for PostgreSQL or SQLite, indexed as Catalog's, with
// ? placeholders (NewCatalog numbers them for PostgreSQL).
func catalogQueries(postgres bool) (pages [2][2]string, counts [2]string) {
	// On SQLite the text columns are read as +column, SQLite's no-op unary plus (the same value,
	// text stays text): a column so written is an expression, which has no declared type, and
	// modernc.org/sqlite looks up the declared type of every TEXT value it reads (into a new Go
	// string, to convert DATE and TIMESTAMP columns). That is 3 allocations a row, 153 a page of
	// 50, out of ~14 a row. PostgreSQL has no unary plus for text, nor the cost.
	text := "+"
	if postgres {
		text = ""
	}
	detailed := `SELECT p.id, ` + text + `p.name, ` + text + `p.description, p.price, p.quantity, p.category_id, ` + text + `c.name, `
	namesOnly := `SELECT p.id, ` + text + `p.name, `
	const (
		// The count rides with the page (an uncorrelated subquery, evaluated once): one query and
		// one snapshot per page. An empty page has no row to carry it; Count is the fallback.
		total        = `SELECT COALESCE(SUM(product_count), 0) FROM categories`
		withTotal    = `(` + total + `)`
		withTotalIn  = `(` + total + ` WHERE id = ?)`
		detailedFrom = ` FROM products AS p JOIN categories AS c ON c.id = p.category_id`
		namesFrom    = ` FROM products AS p`
	)
	// `LIMIT ? + 0`, not `LIMIT ?`: SQLite (3.51 here) reads a bare parameter's bound value
	// while planning, and so marks the statement to be prepared again whenever that parameter is
	// bound — every execution, which parsed and planned the page query each time (a third of its
	// cost). An expression is evaluated when the statement runs; the plan needs no LIMIT value.
	// TestCatalogQueriesStayPrepared checks it with SQLite's own count of re-preparations.
	const limit = ` LIMIT ? + 0`
	// The planner uses products_category_id_id_idx for a category and the primary key otherwise.
	pages[0][0] = detailed + withTotal + detailedFrom + ` WHERE p.id > ? ORDER BY p.id` + limit
	pages[0][1] = detailed + withTotalIn + detailedFrom + ` WHERE p.id > ? AND p.category_id = ? ORDER BY p.id` + limit
	pages[1][0] = namesOnly + withTotal + namesFrom + ` WHERE p.id > ? ORDER BY p.id` + limit
	pages[1][1] = namesOnly + withTotalIn + namesFrom + ` WHERE p.id > ? AND p.category_id = ? ORDER BY p.id` + limit
	counts[0] = total
	counts[1] = total + ` WHERE id = ?`
	return pages, counts
}

// Close releases the prepared statements.
func (c *Catalog) Close() {
	for _, s := range []*sql.Stmt{c.pages[0][0], c.pages[0][1], c.pages[1][0], c.pages[1][1], c.counts[0], c.counts[1]} {
		if s != nil {
			_ = s.Close()
		}
	}
}

// Page returns a page of products by keyset pagination on the primary key, so that a deep page
// costs what the first one does. A detailed page comes with each product's category.
func (c *Catalog) Page(ctx context.Context, f ProductFilter) (*ProductPage, error) {
	if f.First < 0 || f.First > MaxPageSize {
		return nil, invalid("first", "first must be 0 to %d", MaxPageSize)
	}
	limit := f.First
	var afterID int64
	if f.After != "" {
		id, err := decodeCursor(f.After)
		if err != nil {
			return nil, err
		}
		afterID = id
	}
	page := &ProductPage{}
	// Even for first: 0 the query runs (LIMIT 1), so that hasNextPage says whether items follow.
	args := make([]any, 0, 4)
	if f.CategoryID != 0 {
		args = append(args, f.CategoryID, afterID, f.CategoryID)
	} else {
		args = append(args, afterID)
	}
	args = append(args, limit+1)
	rows, err := c.pages[b2i(f.NamesOnly)][b2i(f.CategoryID != 0)].QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page.Products = make([]*model.Product, 0, limit+1)
	products := make([]model.Product, limit+1) // one allocation for the page's products
	categories := map[int64]*model.Category{}  // one object per category, as the loaders would give
	for rows.Next() {
		if len(page.Products) == len(products) {
			return nil, fmt.Errorf("catalog page: more than the %d rows asked for", len(products))
		}
		p := &products[len(page.Products)]
		if f.NamesOnly {
			err = rows.Scan((*int64Column)(&p.ID), &p.Name, (*intColumn)(&page.Total))
		} else {
			var categoryName string
			err = rows.Scan((*int64Column)(&p.ID), &p.Name, &p.Description, (*float64Column)(&p.Price), (*float64Column)(&p.Quantity),
				(*int64Column)(&p.CategoryID), &categoryName, (*intColumn)(&page.Total))
			if err != nil {
				return nil, err
			}
			cat := categories[p.CategoryID]
			if cat == nil {
				cat = &model.Category{ID: p.CategoryID, Name: categoryName}
				categories[p.CategoryID] = cat
			}
			p.Category = cat
		}
		if err != nil {
			return nil, err
		}
		page.Products = append(page.Products, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	page.TotalKnown = len(page.Products) > 0
	if len(page.Products) > limit {
		page.Products, page.HasNextPage = page.Products[:limit], true
	}
	return page, nil
}

// Count counts the products of a category (or all with categoryID 0) from the per-category counts
// every product write maintains: a sum over categories, not a scan of products.
func (c *Catalog) Count(ctx context.Context, categoryID int64) (int, error) {
	var n int64
	var err error
	if categoryID == 0 {
		err = c.counts[0].QueryRowContext(ctx).Scan(&n)
	} else {
		err = c.counts[1].QueryRowContext(ctx, categoryID).Scan(&n)
		if isNoRows(err) {
			return 0, nil
		}
	}
	return int(n), err
}

// The numbers of a page are scanned through these sql.Scanners rather than into *int64, *float64
// and *int: database/sql converts into those by reflection, and into *int through a decimal
// string (strconv.FormatInt, then ParseInt: an allocation for every number of three digits or
// more), for each of a page's few hundred numbers. The scanners take the values as the drivers
// give them: int64 and float64 from both, and PostgreSQL's NUMERIC (the SUM of a BIGINT) as its
// text in a []byte.
type (
	int64Column   int64
	intColumn     int
	float64Column float64
)

func (c *int64Column) Scan(src any) error {
	n, err := scanInt(src)
	*c = int64Column(n)
	return err
}

func (c *intColumn) Scan(src any) error {
	n, err := scanInt(src)
	*c = intColumn(n)
	return err
}

func (c *float64Column) Scan(src any) error {
	switch v := src.(type) {
	case float64:
		*c = float64Column(v)
	case int64:
		*c = float64Column(v)
	default:
		return fmt.Errorf("catalog: a number column holds %T", src)
	}
	return nil
}

func scanInt(src any) (int64, error) {
	switch v := src.(type) {
	case int64:
		return v, nil
	case []byte:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("catalog: an integer column holds %q", v)
		}
		return n, nil
	}
	return 0, fmt.Errorf("catalog: an integer column holds %T", src)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// numberPlaceholders turns ? into PostgreSQL's $1, $2, … (the queries above have no ? in literals).
func numberPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
