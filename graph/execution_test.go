package graph

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopql/shopql/model"
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

// TestPlainScalarFieldsWriteWhatTheirMarshallersWrite: each address-made marshaller of a plain
// scalar field writes the bytes of the marshaller it stands for, and costs no allocation.
func TestPlainScalarFieldsWriteWhatTheirMarshallersWrite(t *testing.T) {
	s, id := "a \"quoted\" <b>&\u2028 \x01 name", "p:42"
	n64, b, n := int64(-9007199254740993), true, 1<<40
	for _, c := range []struct {
		name  string
		field graphql.Marshaler
		want  graphql.Marshaler
	}{
		{"string", (*stringField)(&s), graphql.MarshalString(s)},
		{"ID string", (*idField)(&id), graphql.MarshalID(id)},
		{"ID int64", (*int64IDField)(&n64), model.MarshalID(n64)},
		{"Boolean", (*boolField)(&b), graphql.MarshalBoolean(b)},
		{"Int", (*intField)(&n), graphql.MarshalInt(n)},
	} {
		var got, want bytes.Buffer
		c.field.MarshalGQL(&got)
		c.want.MarshalGQL(&want)
		if got.String() != want.String() {
			t.Errorf("%s: wrote %s, want %s", c.name, got.String(), want.String())
		}
	}
	for _, f := range []float64{0, 1, -1.5, 1e21, 1e-7, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		var got, want bytes.Buffer
		(*floatField)(&f).MarshalGQL(&got)
		graphql.MarshalFloatContext(f).MarshalGQLContext(context.Background(), &want)
		if got.String() != want.String() {
			t.Errorf("Float %v: wrote %s, want %s", f, got.String(), want.String())
		}
	}
	var m graphql.Marshaler
	if allocs := testing.AllocsPerRun(100, func() { m = (*stringField)(&s) }); allocs != 0 && !raceEnabled {
		t.Errorf("a string field's marshaller costs %v allocations, want 0", allocs)
	}
	_ = m
}

// TestPureSelection: which selections of an object field are made without the field's context.
func TestPureSelection(t *testing.T) {
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	for _, c := range []struct {
		category string // the selection of products.items.category, then fragments
		want     bool
	}{
		{`{ name }`, true},
		{`{ __typename id n: name name }`, true},
		{`{ name @include(if: false) }`, true},
		{`{ products { name } }`, false}, // a resolver
		{`{ name products { id } }`, false},
		{`{ ... on Category { name } }`, false}, // fragments: not looked into
	} {
		doc, errs := gqlparser.LoadQueryWithRules(schema, `{ products { items { category `+c.category+` } } }`, nil)
		if errs != nil {
			t.Fatalf("%s: %v", c.category, errs)
		}
		items := doc.Operations[0].SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.Field)
		category := items.SelectionSet[0].(*ast.Field)
		if got := pureSelection(category.SelectionSet); got != c.want {
			t.Errorf("%s: pureSelection %v, want %v", c.category, got, c.want)
		}
	}
}

// TestMarshalResponse: the response is written as into a bytes.Buffer; from the second response
// of an operation on, into one buffer allocated at its size.
func TestMarshalResponse(t *testing.T) {
	op := &ast.OperationDefinition{}
	page := graphql.MarshalString(strings.Repeat("product ", 1000))
	var want bytes.Buffer
	page.MarshalGQL(&want)
	if got := marshalResponse(op, page); string(got) != want.String() {
		t.Fatalf("wrote %d bytes, want the %d of a bytes.Buffer", len(got), want.Len())
	}
	if allocs := testing.AllocsPerRun(10, func() { _ = marshalResponse(op, page) }); allocs > 2 && !raceEnabled {
		t.Errorf("a second response of the operation takes %v allocations, want the buffer's (and the string's)", allocs)
	}
}

// TestCollectedFieldsMemo: the memo answers what graphql.CollectFields answers, for each selection
// set and type apart, with no allocation once an answer is known, and beyond its bound still right.
func TestCollectedFieldsMemo(t *testing.T) {
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	doc, errs := gqlparser.LoadQueryWithRules(schema, `query($x: Boolean!) { products { items { name price @include(if: $x) ... on Product { id } }
		edges { node { name description @skip(if: $x) } } } }`, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	oc := &graphql.OperationContext{Variables: map[string]any{"x": false}, Doc: doc, Operation: doc.Operations[0]}
	catalog := doc.Operations[0].SelectionSet[0].(*ast.Field).SelectionSet
	items := catalog[0].(*ast.Field).SelectionSet
	node := catalog[1].(*ast.Field).SelectionSet[0].(*ast.Field).SelectionSet
	names := func(fields []graphql.CollectedField) (s []string) {
		for _, f := range fields {
			s = append(s, f.Alias)
		}
		return s
	}
	var memo collectedFieldsMemo
	for range 2 {
		for _, sel := range []ast.SelectionSet{items, node} {
			got, want := names(memo.fields(oc, sel, productImplementors)), names(graphql.CollectFields(oc, sel, productImplementors))
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("memo collected %v, CollectFields %v", got, want)
			}
		}
	}
	if len(memo.entries) != 2 {
		t.Errorf("%d entries for two selection sets, want 2", len(memo.entries))
	}
	if allocs := testing.AllocsPerRun(100, func() { memo.fields(oc, items, productImplementors) }); allocs != 0 && !raceEnabled {
		t.Errorf("a known selection costs %v allocations, want 0", allocs)
	}
	// Past its bound the memo keeps no more, and answers through gqlgen's cache.
	for range maxCollected {
		memo.fields(oc, items, []string{"Product"}) // a different implementor list: another key
	}
	if len(memo.entries) != maxCollected {
		t.Errorf("%d entries, want the bound %d", len(memo.entries), maxCollected)
	}
	if got := names(memo.fields(oc, node, []string{"Product"})); strings.Join(got, ",") != "name,description" {
		t.Errorf("past the bound: %v", got)
	}
}

// TestElementContexts: each element of a list marshalled in sequence sees what
// graphql.WithFieldContext would give it: its own field context, with its index and the list's
// field context as parent (so its path), and every other value, deadline and cancellation of the
// list's context.
func TestElementContexts(t *testing.T) {
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	doc, errs := gqlparser.LoadQueryWithRules(schema, `{ products { items { name } } }`, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	items := doc.Operations[0].SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.Field)
	type key struct{}
	base, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "outer"))
	list := &graphql.FieldContext{Object: "ProductCatalog", Field: graphql.CollectedField{Field: items}}
	ctx := graphql.WithFieldContext(base, list)
	var paths []string
	marshalList(ctx, items.SelectionSet, 3, func(ctx context.Context, i int) graphql.Marshaler {
		fc := graphql.GetFieldContext(ctx)
		if fc == nil || fc.Index == nil || *fc.Index != i || fc.Parent != list {
			t.Errorf("element %d: field context %+v", i, fc)
		}
		if ctx.Value(key{}) != "outer" || ctx.Done() != base.Done() {
			t.Errorf("element %d: not the list's context beneath", i)
		}
		paths = append(paths, fc.Path().String())
		return graphql.Null
	})
	if strings.Join(paths, " ") != "items[0] items[1] items[2]" {
		t.Errorf("paths %v", paths)
	}
	// Cancellation reaches a context made below an element, as below any context.
	var below context.Context
	var stop context.CancelFunc
	marshalList(ctx, items.SelectionSet, 2, func(ctx context.Context, i int) graphql.Marshaler {
		below, stop = context.WithCancel(ctx)
		return graphql.Null
	})
	defer stop()
	cancel()
	select {
	case <-below.Done():
	case <-time.After(5 * time.Second):
		t.Error("a context below an element was not cancelled with the list's")
	}
}
