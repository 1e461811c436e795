package app_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
	"github.com/shopql/shopql/graph"
	"github.com/shopql/shopql/store"
)

// shop is a server with an admin and a logged-in user, and helpers to fill its catalog.
type shop struct {
	*apptest.Server
	anon, user, admin *apptest.Client
}

func newShop(t *testing.T, adjust ...func(*app.Config)) *shop {
	s := apptest.New(t, append([]func(*app.Config){apptest.WithAdmin}, adjust...)...)
	c := s.Client()
	admin, _ := c.Admin()
	user, _ := c.User("ann@example.com")
	return &shop{Server: s, anon: c, user: user, admin: admin}
}

func (s *shop) category(t *testing.T, name string) string {
	t.Helper()
	var out struct{ CreateCategory struct{ ID string } }
	s.user.MustDo(`mutation($n: String!) { createCategory(name: $n) { id } }`, map[string]any{"n": name}, &out)
	return out.CreateCategory.ID
}

func (s *shop) product(t *testing.T, name, categoryID string, price float64) {
	t.Helper()
	s.user.MustDo(createProduct, productVars(name, categoryID, price), nil)
}

const createProduct = `mutation($n: String!, $in: ProductInput!) { createProduct(name: $n, input: $in) { id name price category { id } } }`

func productVars(name, categoryID string, price float64) map[string]any {
	return map[string]any{"n": name, "in": map[string]any{"description": "about " + name, "price": price, "quantity": 3, "categoryId": categoryID}}
}

type catalog struct {
	Detailed   bool
	Names      []string
	Items      []struct{ Name string }
	Message    *string
	TotalCount int
	PageInfo   struct {
		EndCursor   *string
		HasNextPage bool
	}
}

const productsQuery = `query($first: Int, $after: String, $cat: ID) {
  products(first: $first, after: $after, categoryId: $cat) {
    detailed names items { name } message totalCount pageInfo { endCursor hasNextPage }
  }
}`

func products(t *testing.T, c *apptest.Client, vars map[string]any) catalog {
	t.Helper()
	var out struct{ Products catalog }
	c.MustDo(productsQuery, vars, &out)
	return out.Products
}

func TestProductsAnonymousSeeNamesOnly(t *testing.T) {
	s := newShop(t)
	tools := s.category(t, "Tools")
	s.product(t, "Hammer", tools, 12.5)
	s.product(t, "Saw", tools, 20)

	anon := products(t, s.anon, nil)
	if anon.Detailed || anon.Items != nil || anon.Message == nil || *anon.Message != "Detailed info only after you login." ||
		strings.Join(anon.Names, ",") != "Hammer,Saw" || anon.TotalCount != 2 {
		t.Fatalf("anonymous catalog: %+v", anon)
	}
	detailed := products(t, s.user, nil)
	if !detailed.Detailed || len(detailed.Items) != 2 || detailed.Message != nil || detailed.TotalCount != 2 {
		t.Fatalf("detailed catalog: %+v", detailed)
	}
	// Asking for product fields anonymously yields null items, not an error.
	var out struct {
		Products struct{ Items []any }
	}
	s.anon.MustDo(`{ products { items { price description category { name } } } }`, nil, &out)
	if out.Products.Items != nil {
		t.Fatal("anonymous caller got items")
	}
}

func TestProductsPagination(t *testing.T) {
	s := newShop(t)
	a, b := s.category(t, "A"), s.category(t, "B")
	for i := range 7 {
		cat := a
		if i%2 == 1 {
			cat = b
		}
		s.product(t, fmt.Sprintf("p%d", i), cat, float64(i))
	}

	var names []string
	vars := map[string]any{"first": 3}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		page := products(t, s.user, vars)
		names = append(names, page.Names...)
		if page.TotalCount != 7 {
			t.Fatalf("totalCount %d", page.TotalCount)
		}
		if !page.PageInfo.HasNextPage {
			break
		}
		vars["after"] = *page.PageInfo.EndCursor
	}
	if got := strings.Join(names, ","); got != "p0,p1,p2,p3,p4,p5,p6" {
		t.Fatalf("pages: %s", got)
	}

	inB := products(t, s.anon, map[string]any{"cat": b, "first": 10})
	if got := strings.Join(inB.Names, ","); got != "p1,p3,p5" || inB.TotalCount != 3 || inB.PageInfo.HasNextPage {
		t.Fatalf("category filter: %+v", inB)
	}
	empty := products(t, s.anon, map[string]any{"first": 0})
	if len(empty.Names) != 0 || empty.PageInfo.EndCursor != nil || !empty.PageInfo.HasNextPage {
		t.Fatalf("first 0 (items follow): %+v", empty)
	}
	last := products(t, s.anon, map[string]any{"first": 0, "after": *inB.PageInfo.EndCursor, "cat": b})
	if last.PageInfo.HasNextPage {
		t.Fatalf("first 0 after the last item: %+v", last)
	}

	for name, vars := range map[string]map[string]any{
		"negative first": {"first": -1},
		"forged cursor":  {"after": "not-a-cursor"},
		"bad category":   {"cat": "x"},
	} {
		if r := s.anon.Do(productsQuery, vars); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("%s: want BAD_USER_INPUT, got %s", name, r)
		}
	}
}

// TestProductsFirstOutOfRange: first is 0 to 100, as the schema says; a larger page is refused
// rather than silently cut, and 100 itself is served in full.
func TestProductsFirstOutOfRange(t *testing.T) {
	s := newShop(t)
	cat := s.category(t, "Bulk")
	for i := range 101 {
		s.product(t, fmt.Sprintf("item %03d", i), cat, 1)
	}
	page := products(t, s.anon, map[string]any{"first": 100})
	if len(page.Names) != 100 || !page.PageInfo.HasNextPage || page.TotalCount != 101 {
		t.Fatalf("got %d names, hasNext %v, total %d", len(page.Names), page.PageInfo.HasNextPage, page.TotalCount)
	}
	for _, first := range []int{101, 1000, math.MaxInt32} {
		r := s.anon.Do(productsQuery, map[string]any{"first": first})
		if r.Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "first" || !strings.Contains(r.Errors[0].Message, "0 to 100") {
			t.Errorf("first %d: %s", first, r)
		}
	}
}

// TestProductsRelayConnection: edges pair each item with its cursor, an edge's cursor pages from
// that item on, startCursor and endCursor are the first and last edges' cursors, hasPreviousPage
// is true past the first page; anonymously edges are null like items.
func TestProductsRelayConnection(t *testing.T) {
	s := newShop(t)
	cat := s.category(t, "Relay")
	for i := range 5 {
		s.product(t, fmt.Sprintf("r%d", i), cat, 1)
	}
	type conn struct {
		Items []struct{ Name string }
		Edges []struct {
			Cursor string
			Node   struct{ Name string }
		}
		PageInfo struct {
			StartCursor, EndCursor       *string
			HasNextPage, HasPreviousPage bool
		}
	}
	const q = `query($first: Int, $after: String) { products(first: $first, after: $after) {
	  items { name } edges { cursor node { name } } pageInfo { startCursor endCursor hasNextPage hasPreviousPage } } }`
	page := func(c *apptest.Client, vars map[string]any) conn {
		var out struct{ Products conn }
		c.MustDo(q, vars, &out)
		return out.Products
	}
	first := page(s.user, map[string]any{"first": 2})
	if len(first.Edges) != 2 || first.Edges[0].Node.Name != "r0" || first.Edges[1].Node.Name != "r1" ||
		first.PageInfo.HasPreviousPage || !first.PageInfo.HasNextPage ||
		*first.PageInfo.StartCursor != first.Edges[0].Cursor || *first.PageInfo.EndCursor != first.Edges[1].Cursor {
		t.Fatalf("first page: %+v", first)
	}
	// Paging from the first edge's cursor starts with the second item.
	next := page(s.user, map[string]any{"first": 3, "after": first.Edges[0].Cursor})
	if len(next.Edges) != 3 || next.Edges[0].Node.Name != "r1" || next.Items[2].Name != "r3" || !next.PageInfo.HasPreviousPage {
		t.Fatalf("page after the first edge: %+v", next)
	}
	empty := page(s.user, map[string]any{"first": 0})
	if empty.Edges == nil || len(empty.Edges) != 0 || empty.PageInfo.StartCursor != nil || empty.PageInfo.EndCursor != nil {
		t.Fatalf("empty page: %+v", empty)
	}
	if anon := page(s.anon, map[string]any{"first": 2}); anon.Edges != nil || anon.Items != nil || anon.PageInfo.StartCursor == nil {
		t.Fatalf("anonymous page: %+v", anon)
	}
}

func TestProductLifecycle(t *testing.T) {
	s := newShop(t)
	tools, garden := s.category(t, "Tools"), s.category(t, "Garden")
	s.product(t, "Hammer", tools, 10)

	const upsert = `mutation($n: String!, $in: ProductInput!) { upsertProduct(name: $n, input: $in) { name price quantity description category { name } } }`
	var out struct {
		UpsertProduct struct {
			Name     string
			Price    float64
			Category struct{ Name string }
		}
	}
	s.user.MustDo(upsert, productVars("Hammer", garden, 11), &out)
	if out.UpsertProduct.Price != 11 || out.UpsertProduct.Category.Name != "Garden" {
		t.Fatalf("upsert update: %+v", out)
	}
	s.user.MustDo(upsert, productVars("Rake", garden, 5), &out)
	if got := products(t, s.user, map[string]any{"cat": garden}); got.TotalCount != 2 {
		t.Fatalf("garden count after move and insert: %d", got.TotalCount)
	}
	if got := products(t, s.user, map[string]any{"cat": tools}); got.TotalCount != 0 {
		t.Fatalf("tools count after move: %d", got.TotalCount)
	}

	var one struct {
		Product *struct{ Name, Description string }
	}
	s.user.MustDo(`{ product(name: "Rake") { name description } }`, nil, &one)
	if one.Product == nil || one.Product.Description != "about Rake" {
		t.Fatalf("product: %+v", one.Product)
	}
	s.user.MustDo(`{ product(name: "Nothing") { name } }`, nil, &one)
	if one.Product != nil {
		t.Fatal("absent product must be null")
	}

	assertAuthError(t, s.user.Do(`mutation { deleteProduct(name: "Rake") }`, nil), "FORBIDDEN", "ADMIN_REQUIRED")
	assertAuthError(t, s.anon.Do(`mutation { deleteProduct(name: "Rake") }`, nil), "UNAUTHENTICATED", "TOKEN_MISSING")
	s.admin.MustDo(`mutation { deleteProduct(name: "Rake") }`, nil, nil)
	if r := s.admin.Do(`mutation { deleteProduct(name: "Rake") }`, nil); r.Code() != "NOT_FOUND" {
		t.Fatalf("delete absent product: %s", r)
	}
	if got := products(t, s.user, nil); got.TotalCount != 1 {
		t.Fatalf("count after delete: %d", got.TotalCount)
	}
}

func TestProductInputRules(t *testing.T) {
	s := newShop(t)
	cat := s.category(t, "Tools")
	s.product(t, "Hammer", cat, 1)
	tests := []struct {
		name string
		vars map[string]any
		code string
	}{
		{"duplicate name", productVars("Hammer", cat, 1), "CONFLICT"},
		{"negative price", productVars("Saw", cat, -1), "BAD_USER_INPUT"},
		{"unknown category", productVars("Saw", "999999", 1), "BAD_USER_INPUT"},
		{"malformed category ID", productVars("Saw", "abc", 1), "BAD_USER_INPUT"},
		{"blank name", productVars("   ", cat, 1), "BAD_USER_INPUT"},
		{"NUL in name", productVars("Sa\x00w", cat, 1), "BAD_USER_INPUT"},
		{"control character in name", productVars("Sa\nw", cat, 1), "BAD_USER_INPUT"},
		{"name too long", productVars(strings.Repeat("n", 201), cat, 1), "BAD_USER_INPUT"},
		{"huge price", productVars("Saw", cat, 1e300), "BAD_USER_INPUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := s.user.Do(createProduct, tt.vars); r.Code() != tt.code {
				t.Fatalf("want %s, got %s", tt.code, r)
			}
		})
	}
	// -0 is not negative, and is stored and answered as 0.
	var out struct{ CreateProduct struct{ Price float64 } }
	s.user.MustDo(createProduct, productVars("Zero", cat, math.Copysign(0, -1)), &out)
	if math.Signbit(out.CreateProduct.Price) {
		t.Fatalf("price -0 answered as -0")
	}
	s.admin.MustDo(`mutation { deleteProduct(name: "Zero") }`, nil, nil)

	negativeQuantity := productVars("Saw", cat, 1)
	negativeQuantity["in"].(map[string]any)["quantity"] = -0.5
	if r := s.user.Do(createProduct, negativeQuantity); r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("negative quantity: %s", r)
	}
	if got := products(t, s.user, nil); got.TotalCount != 1 || len(got.Names) != 1 {
		t.Fatalf("failed writes changed the catalog: %+v", got)
	}
}

func TestNamesAreStoredVerbatim(t *testing.T) {
	s := newShop(t)
	weird := []string{`Robert'); DROP TABLE products;--`, `"quoted" \ back`, "emoji 🛠️ and ünïcödé", "  spaced  ", "%_wildcards%"}
	cat := s.category(t, weird[0])
	for _, name := range weird {
		s.product(t, name, cat, 1)
		var out struct{ Product *struct{ Name string } }
		s.user.MustDo(`query($n: String!) { product(name: $n) { name } }`, map[string]any{"n": name}, &out)
		if out.Product == nil || out.Product.Name != name {
			t.Fatalf("stored %q, read %+v", name, out.Product)
		}
	}
	if got := products(t, s.user, nil); got.TotalCount != len(weird) {
		t.Fatalf("total %d", got.TotalCount)
	}
}

func TestCategoryRules(t *testing.T) {
	s := newShop(t)
	tools := s.category(t, "Tools")
	s.category(t, "Garden")
	s.product(t, "Hammer", tools, 1)

	tests := []struct {
		name   string
		client *apptest.Client
		doc    string
		code   string
	}{
		{"duplicate", s.user, `mutation { createCategory(name: "Tools") { id } }`, "CONFLICT"},
		{"rename onto taken name", s.user, `mutation { renameCategory(name: "Garden", newName: "Tools") { id } }`, "CONFLICT"},
		{"rename absent", s.user, `mutation { renameCategory(name: "Nope", newName: "Other") { id } }`, "NOT_FOUND"},
		{"delete with products", s.admin, `mutation { deleteCategory(name: "Tools") }`, "CONFLICT"},
		{"delete absent", s.admin, `mutation { deleteCategory(name: "Nope") }`, "NOT_FOUND"},
		{"delete needs admin", s.user, `mutation { deleteCategory(name: "Garden") }`, "FORBIDDEN"},
		{"categories need a token", s.anon, `{ categories { name } }`, "UNAUTHENTICATED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := tt.client.Do(tt.doc, nil); r.Code() != tt.code {
				t.Fatalf("want %s, got %s", tt.code, r)
			}
		})
	}

	s.user.MustDo(`mutation { renameCategory(name: "Garden", newName: "Outdoor") { name } }`, nil, nil)
	s.admin.MustDo(`mutation { deleteCategory(name: "Outdoor") }`, nil, nil)
	var out struct {
		Categories []struct {
			Name     string
			Products []struct{ Name string }
		}
		Category *struct{ Name string }
	}
	s.user.MustDo(`{ categories { name products { name } } category(name: "Tools") { name } }`, nil, &out)
	if len(out.Categories) != 1 || out.Categories[0].Name != "Tools" || len(out.Categories[0].Products) != 1 || out.Category == nil {
		t.Fatalf("categories: %+v", out)
	}
}

// TestConcurrentDuplicateCreation races creations of one name: exactly one wins, the rest get
// CONFLICT, and nothing else fails.
func TestConcurrentDuplicateCreation(t *testing.T) {
	s := newShop(t)
	cat := s.category(t, "Tools")
	const n = 12
	race := func(doc string, vars map[string]any) {
		t.Helper()
		var wg sync.WaitGroup
		var ok, conflicts atomic.Int32
		for range n {
			wg.Go(func() {
				switch r := s.user.Do(doc, vars); {
				case len(r.Errors) == 0:
					ok.Add(1)
				case r.Code() == "CONFLICT":
					conflicts.Add(1)
				default:
					t.Errorf("unexpected failure: %s", r)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 || conflicts.Load() != n-1 {
			t.Fatalf("%d succeeded, %d conflicts", ok.Load(), conflicts.Load())
		}
	}
	race(`mutation { createCategory(name: "Garden") { id } }`, nil)
	race(createProduct, productVars("Hammer", cat, 1))

	// Concurrent upserts of one new name all succeed and leave one product.
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s.user.MustDo(`mutation($n: String!, $in: ProductInput!) { upsertProduct(name: $n, input: $in) { id } }`, productVars("Saw", cat, float64(i)), nil)
		})
	}
	wg.Wait()
	if got := products(t, s.user, nil); got.TotalCount != 2 || len(got.Names) != 2 {
		t.Fatalf("after races: %+v", got)
	}
}

// queryCounter counts the SQL statements the server runs.
type queryCounter struct{ n atomic.Int64 }

func (q *queryCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}
func (q *queryCounter) AfterQuery(context.Context, *bun.QueryEvent) { q.n.Add(1) }

func TestNestedListsDoNotQueryPerItem(t *testing.T) {
	counter := &queryCounter{}
	s := newShop(t, func(c *app.Config) {
		c.RevocationSyncInterval = time.Hour
		c.QueryHooks = []bun.QueryHook{counter}
	})
	for i := range 5 {
		cat := s.category(t, fmt.Sprintf("c%d", i))
		for j := range 4 {
			s.product(t, fmt.Sprintf("c%d-p%d", i, j), cat, 1)
		}
	}

	measure := func(doc string) int64 {
		before := counter.n.Load()
		s.user.MustDo(doc, nil, nil)
		return counter.n.Load() - before
	}
	// The categories, then the products of all of them at once (with their categories joined),
	// then the products of those categories at once. (A catalog page is one prepared statement
	// with the categories joined, by construction: see store.Catalog.)
	if n := measure(`{ categories { name products { name category { name products { name } } } } }`); n == 0 || n > 3 {
		t.Fatalf("nested categories ran %d queries (0: the hook saw none)", n)
	}
}

func TestGETTransport(t *testing.T) {
	s := newShop(t)
	get := func(query string) *apptest.Response {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/graphql?query="+url.QueryEscape(query), nil)
		return s.anon.Send(req)
	}
	r := get(`{ products { names } }`)
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		t.Fatalf("GET query: %s", r)
	}
	r = get(`mutation { createCategory(name: "X") { id } }`)
	if len(r.Errors) == 0 || r.Status < 400 {
		t.Fatalf("GET mutation must fail: %s", r)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	s := apptest.New(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		res, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
}

// TestCategoryProductsAreBounded: Category.products is not paged, so it serves at most
// graph.MaxCategoryProducts products per request, counted over every category in the response.
func TestCategoryProductsAreBounded(t *testing.T) {
	s := newShop(t, func(c *app.Config) { c.ResponseCacheTTL = 0 })
	ctx := context.Background()
	if err := store.Seed(ctx, s.App.DB, graph.MaxCategoryProducts, 2, nil); err != nil {
		t.Fatal(err)
	}
	count := func(r *apptest.Response) int { return strings.Count(string(r.Data), `"name"`) }
	tooMany := func(t *testing.T, r *apptest.Response) {
		t.Helper()
		if r.Code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "products(categoryId:") {
			t.Fatalf("want BAD_USER_INPUT pointing at products(categoryId:), got %s", r)
		}
	}

	r := s.user.Do(`{ categories { products { name } } }`, nil)
	if len(r.Errors) > 0 || count(r) != graph.MaxCategoryProducts {
		t.Fatalf("every product, exactly the bound: %d names, errors %v", count(r), r.Errors)
	}
	r = s.user.Do(`{ category(name: "Category 01") { products { name } } }`, nil)
	if len(r.Errors) > 0 || count(r) != graph.MaxCategoryProducts/2 {
		t.Fatalf("one category: %d names, errors %v", count(r), r.Errors)
	}
	// Three products of one category, each listing that category's products: serialised three times.
	tooMany(t, s.user.Do(`{ products(first: 3) { items { category { products { name } } } } }`, nil))
	tooMany(t, s.user.Do(`{ a: category(name: "Category 01") { products { name } } b: category(name: "Category 01") { products { name } } c: category(name: "Category 02") { products { name } } }`, nil))

	if err := store.Seed(ctx, s.App.DB, 1, 2, nil); err != nil {
		t.Fatal(err)
	}
	tooMany(t, s.user.Do(`{ categories { products { name } } }`, nil))
}

// TestRuleErrorMessages: NOT_FOUND and CONFLICT carry the store's message as it is, with nothing of
// the executor's (no "input:1:12: path" prefix).
func TestRuleErrorMessages(t *testing.T) {
	s := newShop(t)
	s.category(t, "Tools")
	tests := []struct {
		client        *apptest.Client
		doc           string
		code, message string
	}{
		{s.user, `mutation { createCategory(name: "Tools") { id } }`, "CONFLICT", `a category named "Tools", or one whose name looks the same, already exists`},
		{s.admin, `mutation { deleteProduct(name: "nope") }`, "NOT_FOUND", `no product named "nope"`},
		{s.user, `mutation { renameCategory(name: "nope", newName: "x") { id } }`, "NOT_FOUND", `no category named "nope"`},
		{s.admin, `mutation { deleteUser(id: 999) }`, "NOT_FOUND", `no account with ID 999`},
	}
	for _, tt := range tests {
		r := tt.client.Do(tt.doc, nil)
		if r.Code() != tt.code || r.Errors[0].Message != tt.message {
			t.Errorf("%s: want %s %q, got %s", tt.doc, tt.code, tt.message, r)
		}
	}
}

// TestCategoriesInCodePointOrder: categories come in the same order on both databases, whatever
// collation PostgreSQL would use (here the column is switched to ICU en-US, where "a" < "B").
func TestCategoriesInCodePointOrder(t *testing.T) {
	s := newShop(t)
	if store.IsPostgres(s.App.DB) {
		if _, err := s.App.DB.ExecContext(context.Background(), `ALTER TABLE categories ALTER COLUMN name TYPE TEXT COLLATE "en-US-x-icu"`); err != nil {
			t.Skipf("no ICU collation to test with: %v", err)
		}
	}
	names := []string{"b", "B", "a", "Z", "a b", "ab", "é"}
	for _, n := range names {
		s.category(t, n)
	}
	var out struct{ Categories []struct{ Name string } }
	s.user.MustDo(`{ categories { name } }`, nil, &out)
	var got []string
	for _, c := range out.Categories {
		got = append(got, c.Name)
	}
	want := slices.Clone(names)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("categories in order %q, want %q", got, want)
	}
}

// TestEmptyCategoryHasNoProducts: a category without products lists none, alone or beside others.
func TestEmptyCategoryHasNoProducts(t *testing.T) {
	s := newShop(t, func(c *app.Config) { c.ResponseCacheTTL = 0 })
	tools := s.category(t, "Tools")
	s.category(t, "Empty")
	s.product(t, "Hammer", tools, 1)
	for _, q := range []string{
		`{ categories { name products { name } } }`,
		`{ category(name: "Empty") { products { name } } }`,
	} {
		if r := s.user.Do(q, nil); len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"products":[]`) {
			t.Errorf("%s: %s", q, r)
		}
	}
}

// TestSeedAgainAfterDeletion: seeding continues after the highest sample number, so it can be run
// again after products were deleted (names are unique).
func TestSeedAgainAfterDeletion(t *testing.T) {
	s := newShop(t, func(c *app.Config) { c.ResponseCacheTTL = 0 })
	ctx := context.Background()
	if err := store.Seed(ctx, s.App.DB, 10, 2, nil); err != nil {
		t.Fatal(err)
	}
	s.admin.MustDo(`mutation { deleteProduct(name: "Product 0000003") }`, nil, nil)
	if err := store.Seed(ctx, s.App.DB, 5, 2, nil); err != nil {
		t.Fatalf("seeding again after a deletion: %v", err)
	}
	if got := products(t, s.user, map[string]any{"first": 100}); got.TotalCount != 14 || got.Names[len(got.Names)-1] != "Product 0000015" {
		t.Fatalf("after seeding 10, deleting 1, seeding 5: %d products, last %q", got.TotalCount, got.Names[len(got.Names)-1])
	}
}

// TestTotalCountWithThePage: totalCount, read with the page in the same query, is the count of the
// filter's products for every kind of page, and an empty page (which carries no count) still
// counts them.
func TestTotalCountWithThePage(t *testing.T) {
	s := apptest.New(t)
	if err := store.Seed(context.Background(), s.App.DB, 30, 3, nil); err != nil {
		t.Fatal(err)
	}
	user, _ := s.Client().User("count@example.com")
	var cats struct{ Categories []struct{ ID string } }
	user.MustDo(`{ categories { id } }`, nil, &cats)
	cat := cats.Categories[1].ID
	extra := `mutation($c: ID!) { createProduct(name: "One more", input: {description: "", price: 1, quantity: 1, categoryId: $c}) { id } }`
	user.MustDo(extra, map[string]any{"c": cat}, nil)

	var last struct {
		Products struct{ PageInfo struct{ EndCursor string } }
	}
	user.MustDo(`{ products(first: 100) { pageInfo { endCursor } } }`, nil, &last)
	for _, c := range []struct {
		name   string
		client *apptest.Client
		query  string
		vars   map[string]any
		want   int
	}{
		{"all", user, `{ products(first: 5) { totalCount } }`, nil, 31},
		{"names only", s.Client(), `{ products(first: 5) { names totalCount } }`, nil, 31},
		{"a category", user, `query($c: ID) { products(first: 2, categoryId: $c) { totalCount } }`, map[string]any{"c": cat}, 11},
		{"anonymous in a category", s.Client(), `query($c: ID) { products(first: 2, categoryId: $c) { totalCount } }`, map[string]any{"c": cat}, 11},
		{"first: 0", user, `{ products(first: 0) { totalCount } }`, nil, 31},
		{"an empty page", user, `query($a: String) { products(first: 5, after: $a) { names totalCount } }`, map[string]any{"a": last.Products.PageInfo.EndCursor}, 31},
		{"an empty page in a category", user, `query($a: String, $c: ID) { products(first: 5, after: $a, categoryId: $c) { names totalCount } }`, map[string]any{"a": last.Products.PageInfo.EndCursor, "c": cat}, 11},
	} {
		var out struct{ Products struct{ TotalCount int } }
		c.client.MustDo(c.query, c.vars, &out)
		if out.Products.TotalCount != c.want {
			t.Errorf("%s: totalCount %d, want %d", c.name, out.Products.TotalCount, c.want)
		}
	}
}
