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
	pages  [pageVariants]*sql.Stmt // by pageVariant
	counts [2]*sql.Stmt            // [in one category?]
}

// pageVariants is how many page queries there are: one for every set of columns read, in one
// category or in all.
const pageVariants = int(AllColumns+1) * 2

// pageVariant indexes the page query reading the columns read, in one category or in all.
func pageVariant(read Columns, inCategory bool) int { return int(read)<<1 | b2i(inCategory) }

// NewCatalog prepares the listing statements on db. Close releases them.
//
// Every variant is prepared up front, 32 page queries: ~1 ms at startup on SQLite and ~5 ms on
// PostgreSQL (0.25 and 1.2 ms for the 4 before), and ~300 KB of SQLite's memory on the connection
// they are prepared on (other connections prepare a statement when they first run it, so only the
// variants clients use). That keeps preparation, and its errors, off the requests.
func NewCatalog(ctx context.Context, db *bun.DB) (*Catalog, error) {
	pages, counts := catalogQueries(IsPostgres(db))
	c := &Catalog{}
	prepare := func(stmt **sql.Stmt, query string) error {
		if IsPostgres(db) {
			query = numberPlaceholders(query)
		}
		prepared, err := db.DB.PrepareContext(ctx, query)
		if err != nil {
			return fmt.Errorf("prepare catalog query: %w", err)
		}
		*stmt = prepared
		return nil
	}
	for i := range pages {
		if err := prepare(&c.pages[i], pages[i]); err != nil {
			c.Close()
			return nil, err
		}
	}
	for i := range counts {
		if err := prepare(&c.counts[i], counts[i]); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// catalogQueries are the listing's statements for PostgreSQL or SQLite, indexed as Catalog's, with
// ? placeholders (NewCatalog numbers them for PostgreSQL).
func catalogQueries(postgres bool) (pages [pageVariants]string, counts [2]string) {
	for read := range AllColumns + 1 {
		for _, inCategory := range []bool{false, true} {
			pages[pageVariant(read, inCategory)] = pageQuery(postgres, read, inCategory)
		}
	}
	counts[0] = catalogTotal
	counts[1] = catalogTotal + ` WHERE id = ?`
	return pages, counts
}

// catalogTotal counts the catalog's products from the per-category counts.
const catalogTotal = `SELECT COALESCE(SUM(product_count), 0) FROM categories`

// pageQuery is the page query reading the columns read (in Page's order of scanning), in one
// category or in all.
func pageQuery(postgres bool, read Columns, inCategory bool) string {
	// On SQLite the text columns are read as +column, SQLite's no-op unary plus (the same value,
	// text stays text): a column so written is an expression, which has no declared type, and
	// modernc.org/sqlite looks up the declared type of every TEXT value it reads (into a new Go
	// string, to convert DATE and TIMESTAMP columns). That is 3 allocations a row, 153 a page of
	// 50, out of ~14 a row. PostgreSQL has no unary plus for text, nor the cost.
	text := "+"
	if postgres {
		text = ""
	}
	q := `SELECT p.id, ` + text + `p.name, `
	if read&ColumnDescription != 0 {
		q += text + `p.description, `
	}
	if read&ColumnPrice != 0 {
		q += `p.price, `
	}
	if read&ColumnQuantity != 0 {
		q += `p.quantity, `
	}
	if read&ColumnCategory != 0 {
		q += `p.category_id, ` + text + `c.name, `
	}
	// The count rides with the page (an uncorrelated subquery, evaluated once): one query and one
	// snapshot per page. An empty page has no row to carry it; Count is the fallback.
	if inCategory {
		q += `(` + catalogTotal + ` WHERE id = ?)`
	} else {
		q += `(` + catalogTotal + `)`
	}
	q += ` FROM products AS p`
	if read&ColumnCategory != 0 {
		q += ` JOIN categories AS c ON c.id = p.category_id`
	}
	// The planner uses products_category_id_id_idx for a category and the primary key otherwise.
	q += ` WHERE p.id > ?`
	if inCategory {
		q += ` AND p.category_id = ?`
	}
	// `LIMIT ? + 0`, not `LIMIT ?`: SQLite (3.51 here) reads a bare parameter's bound value
	// while planning, and so marks the statement to be prepared again whenever that parameter is
	// bound — every execution, which parsed and planned the page query each time (a third of its
	// cost). An expression is evaluated when the statement runs; the plan needs no LIMIT value.
	// TestCatalogQueriesStayPrepared checks it with SQLite's own count of re-preparations.
	return q + ` ORDER BY p.id LIMIT ? + 0`
}

// Close releases the prepared statements.
func (c *Catalog) Close() {
	for _, s := range append(c.pages[:], c.counts[:]...) {
		if s != nil {
			_ = s.Close()
		}
	}
}

// Page returns a page of products by keyset pagination on the primary key, so that a deep page
// costs what the first one does. It reads the columns the filter does not omit (none but IDs and
// names for NamesOnly); a product read with its category comes with it.
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
	read := AllColumns &^ f.Omit
	if f.NamesOnly {
		read = 0
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
	rows, err := c.pages[pageVariant(read, f.CategoryID != 0)].QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page.Products = make([]*model.Product, 0, limit+1)
	products := make([]model.Product, limit+1) // one allocation for the page's products
	categories := map[int64]*model.Category{}  // one object per category, as the loaders would give
	var categoryName string
	dest := make([]any, 0, 8)
	for rows.Next() {
		if len(page.Products) == len(products) {
			return nil, fmt.Errorf("catalog page: more than the %d rows asked for", len(products))
		}
		p := &products[len(page.Products)]
		if err := rows.Scan(pageColumns(dest[:0], read, p, &categoryName, &page.Total)...); err != nil {
			return nil, err
		}
		if read&ColumnCategory != 0 {
			cat := categories[p.CategoryID]
			if cat == nil {
				cat = &model.Category{ID: p.CategoryID, Name: categoryName}
				categories[p.CategoryID] = cat
			}
			p.Category = cat
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

// pageColumns appends to dest where a row of the page query reading read goes, in its order.
func pageColumns(dest []any, read Columns, p *model.Product, categoryName *string, total *int) []any {
	dest = append(dest, (*int64Column)(&p.ID), &p.Name)
	if read&ColumnDescription != 0 {
		dest = append(dest, &p.Description)
	}
	if read&ColumnPrice != 0 {
		dest = append(dest, (*float64Column)(&p.Price))
	}
	if read&ColumnQuantity != 0 {
		dest = append(dest, (*float64Column)(&p.Quantity))
	}
	if read&ColumnCategory != 0 {
		dest = append(dest, (*int64Column)(&p.CategoryID), categoryName)
	}
	return append(dest, (*intColumn)(total))
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
