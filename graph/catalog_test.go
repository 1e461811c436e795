package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

// columnsQuery answers products with an empty page and records what unreadColumns says in it.
type columnsQuery struct {
	QueryResolver
	unread *[]store.Columns
}

func (q columnsQuery) Products(ctx context.Context, _ *int, _ *string, _ *int64) (*model.ProductCatalog, error) {
	*q.unread = append(*q.unread, unreadColumns(ctx))
	total := 0
	return &model.ProductCatalog{Detailed: true, PageInfo: &model.PageInfo{}, KnownTotal: &total}, nil
}

type columnsRoot struct {
	ResolverRoot
	unread *[]store.Columns
}

func (r columnsRoot) Query() QueryResolver { return columnsQuery{unread: r.unread} }

func (columnsRoot) ProductCatalog() ProductCatalogResolver { return &productCatalogResolver{} }

// TestUnreadColumns: each document, executed by the generated executor, leaves out exactly the
// columns none of its fields under items or edges.node show, however they are selected.
func TestUnreadColumns(t *testing.T) {
	const (
		desc  = store.ColumnDescription
		price = store.ColumnPrice
		qty   = store.ColumnQuantity
		cat   = store.ColumnCategory
		all   = store.AllColumns
	)
	vars := map[string]any{"yes": true, "no": false}
	for _, c := range []struct {
		doc  string
		read store.Columns // the columns it needs: every other one is unread
	}{
		{`{ products { totalCount } }`, 0},
		{`{ products { names pageInfo { endCursor } } }`, 0},
		{`{ products { items { id name __typename } } }`, 0},
		{`{ products { items { name price category { name } } totalCount pageInfo { endCursor hasNextPage } } }`, price | cat},
		{`{ products { items { description } } }`, desc},
		{`{ products { items { quantity } } }`, qty},
		{`{ products { items { category { id } } } }`, cat},
		{`{ products { items { category { products { id } } } } }`, cat},
		{`{ products { items { id description price quantity category { id name } } } }`, all},
		{`{ products { edges { cursor } } }`, 0},
		{`{ products { edges { node { name } } } }`, 0},
		{`{ products { edges { node { quantity } } } }`, qty},
		{`{ products { items { name } edges { node { price } } } }`, price},
		{`{ products { a: items { d: description } b: items { q: quantity } } }`, desc | qty},
		{`{ products { items { name } items { price } } }`, price},
		{`{ products { items { ...P } } } fragment P on Product { description ... on Product { category { name } } }`, desc | cat},
		{`{ products { ...C } } fragment C on ProductCatalog { edges { node { ...P } } } fragment P on Product { price }`, price},
		{`{ products { ... on ProductCatalog { items { ... { quantity } } } } }`, qty},
		{`query($yes: Boolean!, $no: Boolean!) { products { items { description @skip(if: $yes) price @include(if: $yes) quantity @include(if: $no) } } }`, price},
		{`query($yes: Boolean!) { products { items @skip(if: $yes) { description } edges @include(if: $yes) { node { category { id } } } } }`, cat},
		{`query($no: Boolean!) { products { items { ... @include(if: $no) { description } ...P @skip(if: $no) } } } fragment P on Product { quantity }`, qty},
	} {
		var unread []store.Columns
		srv := handler.New(NewExecutableSchema(Config{Resolvers: columnsRoot{unread: &unread}}))
		srv.AddTransport(transport.POST{})
		body, _ := json.Marshal(map[string]any{"query": c.doc, "variables": vars})
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if strings.Contains(rec.Body.String(), `"errors"`) {
			t.Errorf("%s: %s", c.doc, rec.Body)
			continue
		}
		if len(unread) != 1 || unread[0] != all&^c.read {
			t.Errorf("%s\nleaves out %v, want %04b", c.doc, unread, all&^c.read)
		}
	}
}

// TestUnreadColumnsOutsideTheField: without the field context of Query.products, as when the
// resolver is called directly or from another field, every column is read.
func TestUnreadColumnsOutsideTheField(t *testing.T) {
	if got := unreadColumns(context.Background()); got != 0 {
		t.Errorf("leaves out %04b outside a field", got)
	}
	other := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{Object: "Query", Field: graphql.CollectedField{Field: &ast.Field{Name: "product"}}})
	if got := unreadColumns(other); got != 0 {
		t.Errorf("leaves out %04b in Query.product", got)
	}
}
