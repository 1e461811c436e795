package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
)

// assertLimit checks a request was refused before execution by the limit named by reason.
func assertLimit(t *testing.T, r *apptest.Response, reason string) {
	t.Helper()
	if r.Code() != "GRAPHQL_VALIDATION_FAILED" || r.Reason() != reason || r.Data != nil {
		t.Fatalf("want GRAPHQL_VALIDATION_FAILED/%s and no data, got %s", reason, r)
	}
}

// nest wraps leaf in n alternating category/products levels below products.items.
func nest(levels int) string {
	q := "name"
	for i := 0; i < levels; i++ {
		if (levels-1-i)%2 == 0 { // the outermost level selects on Product
			q = "category { " + q + " }"
		} else {
			q = "products { " + q + " }"
		}
	}
	return "{ products { items { " + q + " } } }"
}

func aliases(n int, field string) string {
	var b strings.Builder
	b.WriteString("{ ")
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s ", i, field)
	}
	b.WriteString("}")
	return b.String()
}

// TestGraphQLLimits sends documents at and past each limit with the default settings (the
// complexity limit off where the test is about another limit).
func TestGraphQLLimits(t *testing.T) {
	s := apptest.New(t, func(c *app.Config) { c.GraphQLMaxComplexity = 0 })
	c := s.Client()

	tests := []struct {
		name   string
		query  string
		reason string // "" means it passes the limits (and runs)
	}{
		// Depth counts every field on the longest path, the leaf included: products, items, the
		// nested levels and name.
		{"depth 10", nest(7), ""},
		{"depth 11", nest(8), "MAX_DEPTH"},
		{"depth through fragments", `{ products { items { ...A } } }
			fragment A on Product { category { ...B } }
			fragment B on Category { products { category { products { category { products { category { products { category { name } } } } } } } } }`, "MAX_DEPTH"},
		{"depth through inline fragments", `{ products { items { ... on Product { category { ... on Category { products { category { products { category { products { category { products { category { name } } } } } } } } } } } } } }`, "MAX_DEPTH"},
		{"15 aliases", aliases(15, "products { totalCount }"), ""},
		{"16 aliases", aliases(16, "products { totalCount }"), "MAX_ALIASES"},
		{"aliases inside fields count", `{ a: products { b: totalCount c: totalCount d: totalCount e: totalCount f: totalCount g: totalCount h: totalCount i: totalCount j: totalCount k: totalCount l: totalCount m: totalCount n: totalCount o: totalCount p: totalCount q: totalCount } }`, "MAX_ALIASES"},
		{"aliases counted at each spread", `{ x: products { ...F } y: products { ...F } }
			fragment F on ProductCatalog { a: totalCount b: totalCount c: totalCount d: totalCount e: totalCount f: totalCount g: totalCount }`, "MAX_ALIASES"},
		{"aliased __typename is exempt", aliases(200, "__typename"), ""},
		{"50 directives", aliases(50, "__typename @include(if: true)"), ""},
		{"51 directives", aliases(51, "__typename @include(if: true)"), "MAX_DIRECTIVES"},
		{"directives through fragments", `{ products { ...H } p: products(first: 1) { ...H } }
			fragment H on ProductCatalog { ` + strings.Repeat("totalCount @include(if: true) ", 26) + ` }`, "MAX_DIRECTIVES"},
		{"document too large", "{ __typename }" + strings.Repeat("#", 32<<10), "MAX_DOCUMENT_SIZE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Do(tt.query, nil)
			if tt.reason != "" {
				assertLimit(t, r, tt.reason)
				return
			}
			for _, e := range r.Errors {
				if e.Extensions["code"] == "GRAPHQL_VALIDATION_FAILED" || e.Extensions["code"] == "GRAPHQL_PARSE_FAILED" {
					t.Fatalf("refused: %s", r)
				}
			}
		})
	}
}

// TestParserTokenLimit: a document of many cheap tokens is refused by the parser itself.
func TestParserTokenLimit(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	r := c.Do("{ "+strings.Repeat("__typename ", 2100)+"}", nil)
	if r.Code() != "GRAPHQL_PARSE_FAILED" || !strings.Contains(r.Errors[0].Message, "token limit") {
		t.Fatalf("want a parse failure on the token limit, got %s", r)
	}
	c.MustDo("{ "+strings.Repeat("__typename ", 1900)+"}", nil, nil)
}

// TestComplexityLimit checks list fields multiply the cost of what they select: products by its
// first argument (literal or variable), the unpaged lists by an assumed size.
func TestComplexityLimit(t *testing.T) {
	s := apptest.New(t, func(c *app.Config) { c.GraphQLMaxComplexity = 200 })
	c := s.Client()
	page := `query($n: Int) { products(first: $n) { names } }`

	c.MustDo(`{ products(first: 100) { names } }`, nil, nil)                                   // 1 + 100×1
	c.MustDo(page, map[string]any{"n": 100}, nil)                                              // the same through a variable
	assertLimit(t, c.Do(`{ products(first: 100) { names detailed } }`, nil), "MAX_COMPLEXITY") // 1 + 100×2
	assertLimit(t, c.Do(`{ products(first: 100) { names } again: products(first: 100) { names } }`, nil), "MAX_COMPLEXITY")
	// An out-of-range size is costed as the largest page, without overflowing, so it passes the
	// cost limit and gets the store's own answer: first must be 0 to 100.
	if r := c.Do(page, map[string]any{"n": 2147483647}); r.Code() != "BAD_USER_INPUT" {
		t.Errorf("first: MaxInt32: %s", r)
	}
}

// TestComplexityDefault: with the default limit, a full page of products in detail passes and a
// query nesting lists in lists (each product's category's products' category's products) does not.
func TestComplexityDefault(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	c.MustDo(`{ products(first: 100) { detailed names totalCount pageInfo { endCursor hasNextPage }
		items { id name description price quantity category { id name } } } }`, nil, nil)
	assertLimit(t, c.Do(`{ products(first: 100) { items { category { products { category { products { name } } } } } } }`, nil), "MAX_COMPLEXITY")
	assertLimit(t, c.Do(`{ categories { products { category { products { category { products { name } } } } } } }`, nil), "MAX_COMPLEXITY")
}

// TestIntrospectionQueryPassesLimits: the query GraphiQL and other tools send (graphql-js
// getIntrospectionQuery with every option) is deeper than the depth limit, and must still work.
func TestIntrospectionQueryPassesLimits(t *testing.T) {
	q := introspectionQuery(t)
	s := apptest.New(t)
	var out struct {
		Schema struct{ Types []struct{ Name string } } `json:"__schema"`
	}
	s.Client().MustDo(q, nil, &out)
	if len(out.Schema.Types) < 10 {
		t.Fatalf("introspection returned %d types", len(out.Schema.Types))
	}
}

// TestIntrospectionSetting checks GRAPHQL_INTROSPECTION=false turns off introspection and field
// suggestions, and GRAPHIQL=false the page at /.
func TestIntrospectionSetting(t *testing.T) {
	const typo = `{ produts { names } }`
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprint("enabled=", on), func(t *testing.T) {
			s := apptest.New(t, func(c *app.Config) { c.GraphQLIntrospection, c.GraphiQL = on, on })
			c := s.Client()
			for _, doc := range []string{
				`{ __schema { queryType { name } } }`,
				`{ __type(name: "User") { fields { name } } }`,
				`query { ...F } fragment F on Query { me { id } __type(name: "User") { name } }`,
			} {
				r := c.Do(doc, nil)
				if on && len(r.Errors) > 0 && r.Reason() != "TOKEN_MISSING" {
					t.Fatalf("%s with introspection on: %s", doc, r)
				}
				if !on && (r.Code() != "GRAPHQL_VALIDATION_FAILED" || r.Data != nil) {
					t.Fatalf("%s with introspection off: want GRAPHQL_VALIDATION_FAILED and no data, got %s", doc, r)
				}
			}
			r := c.Do(typo, nil)
			if r.Code() != "GRAPHQL_VALIDATION_FAILED" || strings.Contains(r.Errors[0].Message, "Did you mean") != on {
				t.Fatalf("suggestions: %s", r)
			}
			// __typename is not introspection of the schema, and clients need it.
			c.MustDo(`{ __typename }`, nil, nil)

			res, err := http.Get(s.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if want := map[bool]int{true: 200, false: 404}[on]; res.StatusCode != want {
				t.Fatalf("GET /: %d, want %d", res.StatusCode, want)
			}
		})
	}
}

// TestFragmentFanOutIsRefusedCheaply: fragments spreading the next pair of fragments twice expand
// to 2^n fields. The document is small and passes every other limit; it must be refused by the
// memoised field count, before gqlgen's cost walk, which would expand it (n = 30: minutes).
func TestFragmentFanOutIsRefusedCheaply(t *testing.T) {
	const n = 30
	var doc strings.Builder
	doc.WriteString("{ ...A0 ...B0 }\n")
	for i := range n {
		fmt.Fprintf(&doc, "fragment A%d on Query { ...A%d ...B%d }\n", i, i+1, i+1)
		fmt.Fprintf(&doc, "fragment B%d on Query { ...A%d ...B%d __typename }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&doc, "fragment A%d on Query { __typename }\nfragment B%d on Query { __typename }\n", n, n)
	s := apptest.New(t)
	r := s.Client().Do(doc.String(), nil)
	if r.Reason() != "MAX_COMPLEXITY" || !strings.Contains(r.Errors[0].Message, "once its fragments are expanded") {
		t.Fatalf("want MAX_COMPLEXITY from the field count, got %s", r)
	}
}

// TestIntrospectionCannotBeMultiplied: aliased __typename is exempt from the alias limit, but not
// under __schema or __type, where hundreds of them would multiply every type and field of the answer.
func TestIntrospectionCannotBeMultiplied(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	var typenames strings.Builder
	for i := range 100 {
		fmt.Fprintf(&typenames, "t%d: __typename ", i)
	}
	r := c.Do(`{ __schema { types { fields { ...L } } } } fragment L on __Field { `+typenames.String()+`}`, nil)
	if r.Reason() != "MAX_ALIASES" {
		t.Fatalf("aliased __typename inside introspection: want MAX_ALIASES, got code %q reason %q (%d bytes of data)", r.Code(), r.Reason(), len(r.Data))
	}
	c.MustDo(`{ `+typenames.String()+`}`, nil, nil) // outside introspection they stay exempt
}
