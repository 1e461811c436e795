package graph

import (
	"os"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestSynchronous: which selections under a list may be marshalled without goroutines.
func TestSynchronous(t *testing.T) {
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	for _, c := range []struct {
		items string // the selection of products.items, then fragments
		want  bool
	}{
		{`{ name price }`, true},
		{`{ name price category { name } }`, true},
		{`{ __typename id category { id __typename } }`, true},
		{`{ ... on Product { name } }`, true},
		{`{ ...P } } } fragment P on Product { name category { name`, true},
		{`{ category { products { name } } }`, false}, // a batch resolver under the list
		{`{ ...P } } } fragment P on Product { category { products { id }`, false},
		{`{ ... @defer { name } }`, false},
	} {
		doc, errs := gqlparser.LoadQuery(schema, `{ products { items `+c.items+` } }`)
		if errs != nil {
			t.Fatalf("%s: %v", c.items, errs)
		}
		items := doc.Operations[0].SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.Field)
		if got := synchronous(items.SelectionSet); got != c.want {
			t.Errorf("%s: synchronous %v, want %v", c.items, got, c.want)
		}
	}
}
