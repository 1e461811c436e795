package graph

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/99designs/gqlgen/graphql"

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
		doc, errs := gqlparser.LoadQueryWithRules(schema, `{ products { items `+c.items+` } }`, nil)
		if errs != nil {
			t.Fatalf("%s: %v", c.items, errs)
		}
		items := doc.Operations[0].SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.Field)
		if got := synchronous(items.SelectionSet); got != c.want {
			t.Errorf("%s: synchronous %v, want %v", c.items, got, c.want)
		}
	}
}

// TestObjectFieldsWriteWhatFieldSetWrites compares objectFields with gqlgen's FieldSet.MarshalGQL.
func TestObjectFieldsWriteWhatFieldSetWrites(t *testing.T) {
	many := make([]string, 40) // past dedupAbove, with repeats
	for i := range many {
		many[i] = fmt.Sprintf("f%d", i%30)
	}
	for _, aliases := range [][]string{nil, {"a"}, {"name", "price", "category"}, {"a", "b", "a"}, {"__typename", "x_1"}, {"we\"ird"}, many} {
		fields := make([]graphql.CollectedField, len(aliases))
		values := make([]graphql.Marshaler, len(aliases))
		for i, a := range aliases {
			fields[i].Field = &ast.Field{Alias: a}
			values[i] = graphql.MarshalInt(i)
		}
		fs := graphql.NewFieldSet(fields)
		copy(fs.Values, values)
		var want, got bytes.Buffer
		fs.MarshalGQL(&want)
		(&objectFields{fields: fields, Values: values}).MarshalGQL(&got)
		if got.String() != want.String() {
			t.Errorf("%q: wrote %s, FieldSet writes %s", aliases, got.String(), want.String())
		}
	}
}
