package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/graph"
	"github.com/shopql/shopql/model"
)

// everyColumnRoot resolves products in a field context not Query.products', where the resolver
// cannot know the selection and so reads every column: the reference answers.
type everyColumnRoot struct{ graph.ResolverRoot }

func (r everyColumnRoot) Query() graph.QueryResolver { return everyColumnQuery{r.ResolverRoot.Query()} }

type everyColumnQuery struct{ graph.QueryResolver }

func (q everyColumnQuery) Products(ctx context.Context, first *int, after *string, categoryID *int64) (*model.ProductCatalog, error) {
	return q.QueryResolver.Products(graphql.WithFieldContext(ctx, &graphql.FieldContext{}), first, after, categoryID)
}

// columnsCorpus selects every combination of the product fields whose columns a page may leave
// out, under items and under edges.node, and the same through fragments, aliases, @skip and
// @include with variables, repeated fields and nested categories.
func columnsCorpus() []string {
	optional := []string{"description", "price", "quantity", "category { id name }"}
	var docs []string
	for set := range 1 << len(optional) {
		fields := []string{"name"}
		for i, f := range optional {
			if set&(1<<i) != 0 {
				fields = append(fields, f)
			}
		}
		sel := strings.Join(fields, " ")
		docs = append(docs,
			`{ products(first: 4) { items { `+sel+` } } }`,
			`{ products(first: 4) { edges { cursor node { id `+sel+` } } } }`)
	}
	return append(docs,
		`{ products(first: 3) { __typename detailed names message totalCount pageInfo { endCursor hasNextPage } } }`,
		`{ products(first: 3) { items { __typename } edges { __typename node { __typename } } } }`,
		`{ products(first: 3) { items { name } edges { node { description } } } }`,
		`{ products(first: 3) { a: items { d: description } b: items { q: quantity } c: edges { n: node { p: price } } } }`,
		`{ products(first: 3) { items { name price } items { price quantity } } }`,
		`{ products(first: 3) { items { name } } products(first: 3) { items { description } } }`,
		`{ a: products(first: 2) { items { name } } b: products(first: 2) { items { category { name } } } }`,
		`{ products(first: 3) { items { ...P } } } fragment P on Product { description ... on Product { category { name } } }`,
		`{ products(first: 3) { ...C } } fragment C on ProductCatalog { edges { node { ...P } } } fragment P on Product { price }`,
		`{ products(first: 3) { ... on ProductCatalog { items { ... { quantity } } } } }`,
		`query($yes: Boolean!, $no: Boolean!) { products(first: 3) { items { description @skip(if: $yes) price @include(if: $yes) quantity @include(if: $no) } } }`,
		`query($yes: Boolean!, $no: Boolean!) { products(first: 3) { items @skip(if: $yes) { description } edges @include(if: $yes) { node { category @skip(if: $no) { id } } } } }`,
		`query($yes: Boolean!, $no: Boolean!) { products(first: 3) { items { ... @include(if: $no) { description } ...Q @include(if: $yes) } } } fragment Q on Product { quantity }`,
		`{ products(first: 3) { items { category { id name products { name description } } } } }`,
		`{ products(first: 3) { items { category { id } } } }`,
		`{ products(first: 3) { items { category { products { quantity category { name } } } } } }`,
		`{ products(first: 2, after: "cDoy") { items { name quantity } pageInfo { endCursor } } }`,
		`{ ...R } fragment R on Query { products(first: 3) { items { name description } } }`,
		`query($yes: Boolean!) { ... @include(if: $yes) { products(first: 3) { edges { node { quantity } } } } }`,
	)
}

// TestSelectedColumnsAnswerWhatEveryColumnAnswers: reading only the columns the selection shows,
// every document of columnsCorpus answers byte for byte what it answers with every column read,
// for a caller with a token and for an anonymous one (names only).
func TestSelectedColumnsAnswerWhatEveryColumnAnswers(t *testing.T) {
	s := newShop(t, func(c *app.Config) { c.ResponseCacheTTL = 0 }) // each answer executed
	tools, food := s.category(t, "Tools"), s.category(t, "Food")
	for i, name := range []string{"Hammer", "Apple", "Saw", "Pear", "Drill"} {
		category := tools
		if i%2 == 1 {
			category = food
		}
		s.user.MustDo(createProduct, map[string]any{"n": name, "in": map[string]any{
			"description": "about " + name, "price": 1.5 + float64(i), "quantity": 10 - i, "categoryId": category}}, nil)
	}
	docs := columnsCorpus()
	answer := func() []string {
		var out []string
		for _, doc := range docs {
			var vars map[string]any
			if strings.Contains(doc, "$yes") {
				vars = map[string]any{"yes": true, "no": false}
			}
			body, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, rawPost(t, s.Server, s.user.Token, string(body)), rawPost(t, s.Server, "", string(body)))
		}
		return out
	}
	selected := answer()
	app.AdjustSchemaForTest(s.App, func(cfg *graph.Config) { cfg.Resolvers = everyColumnRoot{cfg.Resolvers} })
	every := answer()
	for i := range selected {
		if selected[i] != every[i] {
			t.Errorf("document %d (token: %v) answers, with the columns it selects:\n%s\nwith every column:\n%s\n%s",
				i/2, i%2 == 0, selected[i], every[i], docs[i/2])
		}
	}
	// The corpus reaches the values it is meant to compare, without errors.
	all := strings.Join(every, "\n")
	for _, want := range []string{`"description":"about Apple"`, `"quantity":9`, `"price":2.5`, `"name":"Food"`, `"cursor":`,
		`"names":["Hammer","Apple","Saw"]`, `Detailed info only after you login.`} {
		if !strings.Contains(all, want) {
			t.Errorf("no answer has %s", want)
		}
	}
	if strings.Contains(all, `"errors"`) {
		t.Errorf("an answer has errors:\n%s", all)
	}
}
