package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
	"github.com/shopql/shopql/auth"
)

const (
	hostileCreateCategory = `mutation($n: String!) { createCategory(name: $n) { id name } }`
	hostileCreateProduct  = `mutation($n: String!, $in: ProductInput!) { createProduct(name: $n, input: $in) { name description price quantity } }`
	categoriesQuery       = `{ categories { name products { name description price quantity } } }`
)

// TestHostileNamesStoredVerbatim: names an attacker would use to break out of SQL or markup are
// ordinary text, stored and returned exactly.
func TestHostileNamesStoredVerbatim(t *testing.T) {
	s := apptest.New(t)
	user, _ := s.Client().User("ann@example.com")
	names := []string{
		`Robert'); DROP TABLE products;--`,
		`' OR '1'='1`,
		`" OR ""="`,
		`\'; SELECT pg_sleep(10); --`,
		`%_*?[]{}$1\x00-not-a-nul`,
		`<script>alert(1)</script>`,
		`🛒 Ünïcödé 商品 עברית`,
		`$$ language plpgsql $$`,
		`?`,
	}
	var cat struct{ CreateCategory struct{ ID, Name string } }
	user.MustDo(hostileCreateCategory, map[string]any{"n": `Cat'"; --🙂`}, &cat)
	if cat.CreateCategory.Name != `Cat'"; --🙂` {
		t.Fatalf("category name changed: %q", cat.CreateCategory.Name)
	}
	for _, name := range names {
		desc := "desc of " + name
		user.MustDo(hostileCreateProduct, map[string]any{"n": name, "in": map[string]any{
			"description": desc, "price": 1.5, "quantity": 2, "categoryId": cat.CreateCategory.ID}}, nil)
		var got struct {
			Product struct{ Name, Description string }
		}
		user.MustDo(`query($n: String!) { product(name: $n) { name description } }`, map[string]any{"n": name}, &got)
		if got.Product.Name != name || got.Product.Description != desc {
			t.Fatalf("stored %q / %q, read back %q / %q", name, desc, got.Product.Name, got.Product.Description)
		}
	}
	var out struct{ Products struct{ TotalCount int } }
	user.MustDo(`{ products { totalCount } }`, nil, &out)
	if out.Products.TotalCount != len(names) {
		t.Fatalf("%d products, want %d", out.Products.TotalCount, len(names))
	}
}

// toolsAndHammer signs up a user on s and creates category Tools with product Hammer; it returns
// the user's client, Hammer's fields and a snapshot of the catalog.
func toolsAndHammer(t *testing.T, s *apptest.Server) (user *apptest.Client, good map[string]any, before string) {
	t.Helper()
	user, _ = s.Client().User("ann@example.com")
	var cat struct{ CreateCategory struct{ ID string } }
	user.MustDo(hostileCreateCategory, map[string]any{"n": "Tools"}, &cat)
	good = map[string]any{"description": "a hammer", "price": 9.5, "quantity": 3, "categoryId": cat.CreateCategory.ID}
	user.MustDo(hostileCreateProduct, map[string]any{"n": "Hammer", "in": good}, nil)
	return user, good, snapshot(t, user)
}

// TestInvalidInputRefused sends values no field accepts and checks each is refused as bad input
// (or by GraphQL validation) and leaves the data as it was.
func TestInvalidInputRefused(t *testing.T) {
	user, good, before := toolsAndHammer(t, apptest.New(t))

	product := func(kv ...any) map[string]any {
		in := with(good, kv...)
		return map[string]any{"n": "Hammer 2", "in": in}
	}
	tests := []struct {
		name  string
		query string
		vars  map[string]any
	}{
		{"NUL in a name", hostileCreateProduct, map[string]any{"n": "Ham\x00mer", "in": good}},
		{"NUL in a description", hostileCreateProduct, product("description", "a\x00b")},
		{"NUL in a lookup", `query($n: String!) { product(name: $n) { name } }`, map[string]any{"n": "\x00"}},
		{"NUL written in the document", `{ product(name: "\u0000") { name } }`, nil},
		{"NUL in a category lookup", `{ category(name: "a\u0000") { name } }`, nil},
		{"NUL in a login", `mutation { login(email: "ann@example.com\u0000", password: "x") { accessToken } }`, nil},
		{"negative price", hostileCreateProduct, product("price", -1)},
		{"negative quantity", hostileCreateProduct, product("quantity", -0.01)},
		{"huge price", hostileCreateProduct, product("price", 1e300)},
		{"price too large for a float", hostileCreateProduct, product("price", json.Number("1e400"))},
		{"price as a string", hostileCreateProduct, product("price", "NaN")},
		{"price Infinity string", hostileCreateProduct, product("price", "Infinity")},
		{"quantity as a boolean", hostileCreateProduct, product("quantity", true)},
		{"category ID not a number", hostileCreateProduct, product("categoryId", "1 OR 1=1")},
		{"category ID negative", hostileCreateProduct, product("categoryId", "-1")},
		{"category ID absent", hostileCreateProduct, product("categoryId", "999999")},
		{"blank name", hostileCreateProduct, map[string]any{"n": "   ", "in": good}},
		{"name too long", hostileCreateProduct, map[string]any{"n": string(make([]byte, 100000)), "in": good}},
		{"page size negative", `{ products(first: -1) { names } }`, nil},
		{"page size a float", `{ products(first: 1.5) { names } }`, nil},
		{"cursor forged", `{ products(after: "' OR 1=1 --") { names } }`, nil},
		{"email not an address", `mutation { register(input: {email: "x'--@", username: "x", password: "password-1"}) { id } }`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := user.Do(tt.query, tt.vars)
			switch r.Code() {
			case "BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED":
			default:
				t.Fatalf("want bad input, got %s", r)
			}
		})
	}
	if after := snapshot(t, user); after != before {
		t.Fatalf("data changed:\nbefore %s\nafter  %s", before, after)
	}
}

// TestInvalidUTF8InGetQuery: raw bytes that are not UTF-8 can only arrive through a GET query
// string (JSON decoding replaces them); they are refused as well.
func TestInvalidUTF8InGetQuery(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	q := url.QueryEscape(`{ product(name: "` + "\xff\xfe" + `") { name } }`)
	r := sendChecked(t, mustRequest(t, http.MethodGet, c.URL+"?query="+q, ""))
	if r.status >= 500 || len(r.body.Errors) == 0 {
		t.Fatalf("got %d %s", r.status, r.body.String())
	}
}

func snapshot(t *testing.T, c *apptest.Client) string {
	t.Helper()
	r := c.Do(categoriesQuery, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("snapshot: %s", r)
	}
	return string(r.Data)
}

// TestInvisibleCharactersInNamesRefused: invisible and direction-changing characters make a name
// look like another (or reverse how the text around them reads), so no name accepts them.
func TestInvisibleCharactersInNamesRefused(t *testing.T) {
	// Many registrations: no throttle.
	user, good, before := toolsAndHammer(t, apptest.New(t, func(c *app.Config) { c.RegisterLimitPerAddress = auth.Rate{} }))

	for _, r := range []string{
		"\u200b",     // zero-width space
		"\u200d",     // zero-width joiner
		"\u202e",     // right-to-left override: "exe.txt" shown backwards
		"\u2066",     // left-to-right isolate
		"\u200f",     // right-to-left mark
		"\ufeff",     // byte-order mark
		"\u00ad",     // soft hyphen
		"\u2060",     // word joiner
		"\u3164",     // Hangul filler
		"\u2028",     // line separator
		"\U000e0041", // tag latin capital A
	} {
		name := "Ham" + r + "mer"
		for what, req := range map[string]struct {
			doc  string
			vars map[string]any
		}{
			"createProduct":     {hostileCreateProduct, map[string]any{"n": name, "in": good}},
			"upsertProduct":     {`mutation($n: String!, $in: ProductInput!) { upsertProduct(name: $n, input: $in) { id } }`, map[string]any{"n": name, "in": good}},
			"createCategory":    {hostileCreateCategory, map[string]any{"n": name}},
			"renameCategory":    {`mutation($n: String!) { renameCategory(name: "Tools", newName: $n) { id } }`, map[string]any{"n": name}},
			"register username": {`mutation($n: String!) { register(input: {email: "bob@example.com", username: $n, password: "password-1"}) { id } }`, map[string]any{"n": name}},
			"register email":    {`mutation($e: String!) { register(input: {email: $e, username: "bob", password: "password-1"}) { id } }`, map[string]any{"e": "b" + r + "ob@example.com"}},
		} {
			res := user.Do(req.doc, req.vars)
			if res.Code() != "BAD_USER_INPUT" {
				t.Errorf("%s with U+%04X: %s", what, []rune(r)[0], res)
			}
		}
	}
	if after := snapshot(t, user); after != before {
		t.Fatalf("data changed:\nbefore %s\nafter  %s", before, after)
	}
}

// TestLookAlikeNamesCollide: names are unique as they read, after Unicode normalisation (NFKC):
// a fullwidth, ligature, no-break-space or decomposed spelling of a taken name is CONFLICT,
// whichever mutation tries it, and the names already there keep working by their exact spelling.
func TestLookAlikeNamesCollide(t *testing.T) {
	s := apptest.New(t)
	user, _ := s.Client().User("ann@example.com")
	var cat struct{ CreateCategory struct{ ID string } }
	user.MustDo(hostileCreateCategory, map[string]any{"n": "Hand tools"}, &cat)
	user.MustDo(hostileCreateCategory, map[string]any{"n": "Garden"}, nil)
	good := map[string]any{"description": "d", "price": 1, "quantity": 1, "categoryId": cat.CreateCategory.ID}
	for _, name := range []string{"Hammer", "file", "Café", "Love ❤"} {
		user.MustDo(hostileCreateProduct, map[string]any{"n": name, "in": good}, nil)
	}
	before := snapshot(t, user)

	upsert := `mutation($n: String!, $in: ProductInput!) { upsertProduct(name: $n, input: $in) { id } }`
	rename := `mutation($n: String!) { renameCategory(name: "Garden", newName: $n) { id } }`
	for _, tt := range []struct {
		what, doc string
		vars      map[string]any
	}{
		{"fullwidth H, createProduct", hostileCreateProduct, map[string]any{"n": "Ｈammer", "in": good}},
		{"fullwidth H, upsertProduct", upsert, map[string]any{"n": "Ｈammer", "in": good}},
		{"ligature fi", hostileCreateProduct, map[string]any{"n": "ﬁle", "in": good}},
		{"decomposed é", hostileCreateProduct, map[string]any{"n": "Cafe\u0301", "in": good}},
		{"emoji presentation selector", hostileCreateProduct, map[string]any{"n": "Love ❤\ufe0f", "in": good}},
		{"no-break space, createCategory", hostileCreateCategory, map[string]any{"n": "Hand\u00a0tools"}},
		{"ideographic space, createCategory", hostileCreateCategory, map[string]any{"n": "Hand\u3000tools"}},
		{"no-break space, renameCategory", rename, map[string]any{"n": "Hand\u00a0tools"}},
	} {
		if r := user.Do(tt.doc, tt.vars); r.Code() != "CONFLICT" {
			t.Errorf("%s: want CONFLICT, got %s", tt.what, r)
		}
	}
	if after := snapshot(t, user); after != before {
		t.Fatalf("data changed:\nbefore %s\nafter  %s", before, after)
	}
	// Exact names still find their products; a category may be renamed to a spelling that looks
	// like its own name.
	var got struct{ Product *struct{ Name string } }
	user.MustDo(`{ product(name: "Café") { name } }`, nil, &got)
	if got.Product == nil || got.Product.Name != "Café" {
		t.Errorf("exact lookup: %+v", got.Product)
	}
	user.MustDo(`mutation { renameCategory(name: "Garden", newName: "Ｇarden") { id } }`, nil, nil)
	user.MustDo(`mutation { renameCategory(name: "Ｇarden", newName: "Garden") { id } }`, nil, nil)
}
