package limits

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/shopql/shopql/graph"
)

// schema is the server's real schema.
var schema = graph.NewExecutableSchema(graph.Config{}).Schema()

// defaults are the limits the server starts with (app/config.go).
var defaults = Config{MaxDepth: 10, MaxAliases: 15, MaxDirectives: 50, MaxComplexity: 5000,
	OncePerOperation: []string{"login", "register", "refreshToken"}}

func parse(t testing.TB, doc string) *ast.QueryDocument {
	t.Helper()
	d, err := parser.ParseQuery(&ast.Source{Input: doc})
	if err != nil {
		t.Fatalf("parse %q: %v", doc, err)
	}
	return d
}

// validate validates doc the way gqlgen does with the extension installed.
func validate(t testing.TB, cfg Config, doc string) gqlerror.List {
	t.Helper()
	return validator.ValidateWithRules(schema, parse(t, doc), New(cfg).ValidationRules())
}

func repeat(format string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// TestShape measures documents against the real schema: the worst operation or fragment of each
// document, with fragments expanded, and the limit that refuses it with the default settings.
func TestShape(t *testing.T) {
	tests := []struct {
		name                              string
		doc                               string
		depth, aliases, directives, field int
		reason                            string // "" passes every limit
	}{
		{"leaf", `{ __typename }`, 1, 0, 0, 1, ""},
		{"nested", `{ products { items { category { name } } } }`, 4, 0, 0, 4, ""},
		{"aliases", `{ a: products { n: names } b: products { names } }`, 2, 3, 0, 4, ""},
		{"aliased __typename exempt", `{ a: __typename b: __typename }`, 1, 0, 0, 2, ""},
		{"alias pairs of the issue", "{ " + strings.Repeat("a: __typename a: me ", 332) + "}", 1, 332, 0, 664, ReasonAliases},
		{"unknown directives of the issue", "{ __typename " + strings.Repeat("@aa ", 900) + "}", 1, 0, 900, 1, ReasonDirectives},
		{"operation and variable directives count", `query($a: Int @x) @y { __typename @z }`, 1, 0, 3, 1, ""},
		{"fragment spread twice counts twice", `{ a: products { ...F } b: products { ...F } } fragment F on ProductCatalog { x: names y: names }`, 2, 6, 0, 6, ""},
		{"unused fragment is measured", `{ __typename } fragment F on Query { ` + repeat("a%d: me { id } ", 16) + `}`, 2, 16, 0, 32, ReasonAliases},
		{"worst of two operations", `query A { __typename } query B { products { items { category { products { items { category { products { items { category { products { names } } } } } } } } } } }`, 11, 0, 0, 11, ReasonDepth},
		{"fragment cycle measured once", `{ ...A } fragment A on Query { ...B __typename } fragment B on Query { ...A __typename }`, 1, 0, 0, 2, ""},
		{"unknown fragment", `{ ...Nope }`, 0, 0, 0, 0, ""},
		{"introspection exempt from depth", `{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }`, 0, 0, 0, 11, ""},
		{"fragment on an introspection type", `{ __typename } fragment T on __Type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }`, 1, 0, 0, 11, ""},
		{"fragments doubling to 2^13 fields", doubling(13), 1, 0, 0, 8192, ReasonComplexity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := parse(t, tt.doc)
			w := walker{fragments: doc.Fragments, memo: map[string]shape{}}
			var all shape
			for _, op := range doc.Operations {
				s := w.selections(op.SelectionSet)
				s.directives += len(op.Directives)
				for _, v := range op.VariableDefinitions {
					s.directives += len(v.Directives)
				}
				all = all.worst(s)
			}
			for _, def := range doc.Fragments {
				all = all.worst(w.definition(def))
			}
			if all.depth != tt.depth || all.aliases != tt.aliases || all.directives != tt.directives || all.fields != tt.field {
				t.Errorf("depth %d aliases %d directives %d fields %d; want %d %d %d %d",
					all.depth, all.aliases, all.directives, all.fields, tt.depth, tt.aliases, tt.directives, tt.field)
			}
			err := New(defaults).check(doc)
			if got := reasonOf(err); got != tt.reason {
				t.Errorf("refused for %q (%v), want %q", got, err, tt.reason)
			}
		})
	}
}

// doubling is a document of n fragments each spreading the next one twice: 2^n fields once expanded.
func doubling(n int) string {
	var b strings.Builder
	b.WriteString("{ ...F0 }\n")
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { __typename }\n", n)
	return b.String()
}

func reasonOf(err *gqlerror.Error) string {
	if err == nil {
		return ""
	}
	r, _ := err.Extensions["reason"].(string)
	return r
}

// TestRefusedDocumentReachesNoOtherRule: a document the limits refuse gets that one error, not
// the thousands gqlparser's rules would report (each alias pair conflicts, each `me` lacks a
// selection, each @aa is unknown).
func TestRefusedDocumentReachesNoOtherRule(t *testing.T) {
	for _, doc := range []string{
		"{ " + strings.Repeat("a: __typename a: me ", 332) + "}",
		"{ __typename " + strings.Repeat("@aa ", 900) + "}",
		"query($v: Nope) { " + strings.Repeat("a: __typename a: me ", 20) + "}",
	} {
		errs := validate(t, defaults, doc)
		if len(errs) != 1 || reasonOf(errs[0]) == "" {
			t.Errorf("%.40s…: want the one limit error, got %d errors: %v", doc, len(errs), errs)
		}
	}
}

// TestErrorBudget: with every limit off, the rules still stop at MaxErrors, the last error
// saying so, whichever rule reports them.
func TestErrorBudget(t *testing.T) {
	for name, doc := range map[string]string{
		"conflicting aliases": "{ " + strings.Repeat("a: __typename a: me ", 332) + "}",
		"unknown directives":  "{ __typename " + strings.Repeat("@aa ", 900) + "}",
		"differing arguments": "{ " + repeat("products(first: %d) { names } ", 200) + "}",
		"unknown fields":      "{ " + strings.Repeat("x ", 1000) + "}",
		"unknown arguments":   "{ products(" + repeat("a%d: 1 ", 300) + ") { names } }",
		"wrong argument type": "{ " + repeat("p%d: products(first: \"x\") { names } ", 300) + "}",
		"undefined variables": "{ " + repeat("p%d: products(first: $v) { names } ", 300) + "}",
		"unknown fragments":   "{ " + repeat("...F%d ", 300) + "}",
		"unused fragments":    "{ __typename } " + repeat("fragment F%d on Query { __typename } ", 300),
		"unknown types":       "{ " + repeat("... on T%d { __typename } ", 300) + "}",
		"repeated directives": "{ __typename " + strings.Repeat("@skip(if: false) ", 300) + "}",
		"missing arguments":   "{ " + repeat("u%d: user { id } ", 300) + "}",
		"unused variables":    "query(" + repeat("$v%d: Int ", 300) + ") { __typename }",
	} {
		t.Run(name, func(t *testing.T) {
			errs := validate(t, Config{}, doc)
			if len(errs) != MaxErrors || errs[MaxErrors-1].Message != abortMessage {
				t.Fatalf("want %d errors ending in %q, got %d (last %v)", MaxErrors, abortMessage, len(errs), errs[len(errs)-1])
			}
		})
	}
	// Under the budget, every error is reported.
	if errs := validate(t, Config{}, "{ "+strings.Repeat("x ", MaxErrors-1)+"}"); len(errs) != MaxErrors-1 {
		t.Fatalf("%d unknown fields: got %d errors", MaxErrors-1, len(errs))
	}
}

// TestGenericMessages: with introspection off, no message of a rule that consults the schema
// survives, and those about the document alone still help.
func TestGenericMessages(t *testing.T) {
	cfg := defaults
	cfg.NoIntrospection = true
	for doc, want := range map[string]string{
		`{ me }`:                        GenericMessage,
		`{ produts { names } }`:         GenericMessage,
		`query($v: Int) { __typename }`: `Variable "$v" is never used.`,
		`{ ...F }`:                      `Unknown fragment "F".`,
		`query A { __typename } query A { __typename }`: `There can be only one operation named "A".`,
	} {
		errs := validate(t, cfg, doc)
		if len(errs) != 1 || errs[0].Message != want || len(errs[0].Locations) == 0 {
			t.Errorf("%s: want one error %q with its location, got %v", doc, want, errs)
		}
	}
	// With introspection on, the messages are gqlparser's.
	errs := validate(t, defaults, `{ me }`)
	if len(errs) != 1 || !strings.Contains(errs[0].Message, `of type "User!"`) {
		t.Errorf("with introspection on: %v", errs)
	}
}

// countingCache is a query cache that remembers what gqlgen stores in it.
type countingCache struct {
	graphql.MapCache[*ast.QueryDocument]
}

// TestRefusedDocumentsAreNotCached: gqlgen keeps a parsed document in its query cache once it has
// validated; a document refused by a limit fails validation, so it is never kept (a cache of
// refused documents would skip the limits the next time, and push out the documents of real
// clients). The documents are valid GraphQL: only the limits refuse them.
func TestRefusedDocumentsAreNotCached(t *testing.T) {
	cache := countingCache{graphql.MapCache[*ast.QueryDocument]{}}
	srv := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}))
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(cache)
	New(defaults).Install(srv)
	post := func(doc string) string {
		body, _ := json.Marshal(map[string]string{"query": doc})
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	for _, doc := range []string{
		"{ " + repeat("a%d: __typename b%[1]d: __typename @include(if: true) ", 51) + "}", // 51 directives
		"{ " + repeat("a%d: products { names } ", 16) + "}",                               // 16 aliases
		doubling(13), // 8,192 fields
	} {
		if out := post(doc); !strings.Contains(out, `"reason"`) {
			t.Fatalf("not refused by a limit: %.300s", out)
		}
		if len(cache.MapCache) != 0 {
			t.Fatalf("refused document kept in the query cache: %.80s", doc)
		}
	}
	post(`{ __typename }`)
	if len(cache.MapCache) != 1 {
		t.Fatalf("a valid document is not cached: %d entries", len(cache.MapCache))
	}
}
