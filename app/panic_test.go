package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
	"github.com/shopql/shopql/graph"
	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

// panicAt wraps the real resolvers and directives, panicking at one place.
type panicAt struct {
	graph.ResolverRoot
	where string
}

func (r panicAt) Query() graph.QueryResolver { return panicQuery{r.ResolverRoot.Query(), r.where} }
func (r panicAt) ProductCatalog() graph.ProductCatalogResolver {
	return panicCatalog{r.ResolverRoot.ProductCatalog(), r.where}
}
func (r panicAt) Category() graph.CategoryResolver {
	return panicCategory{r.ResolverRoot.Category(), r.where}
}

type panicQuery struct {
	graph.QueryResolver
	where string
}

func (q panicQuery) Products(ctx context.Context, first *int, after *string, categoryID *int64) (*model.ProductCatalog, error) {
	if q.where == "root" {
		panic("boom in a root field")
	}
	return q.QueryResolver.Products(ctx, first, after, categoryID)
}

type panicCatalog struct {
	graph.ProductCatalogResolver
	where string
}

func (c panicCatalog) TotalCount(ctx context.Context, obj *model.ProductCatalog) (int, error) {
	if c.where == "nested" {
		panic("boom in a nested field")
	}
	return c.ProductCatalogResolver.TotalCount(ctx, obj)
}

type panicCategory struct {
	graph.CategoryResolver
	where string
}

// thirdCategory is the name of the category whose products panic in the "element" case.
const thirdCategory = "Category 03"

func (c panicCategory) Products(ctx context.Context, objs []*model.Category) ([][]*model.Product, error) {
	switch c.where {
	case "batch":
		panic("boom in a batch resolver")
	case "element":
		for _, o := range objs {
			if o.Name == thirdCategory {
				panic("boom in one element of a list")
			}
		}
	case "loader":
		l := dataloadgen.NewLoader(func(context.Context, []int64) ([][]*model.Product, []error) {
			panic("boom in a dataloader's fetch")
		})
		ids := make([]int64, len(objs))
		for i, o := range objs {
			ids[i] = o.ID
		}
		return l.LoadAll(ctx, ids)
	}
	return c.CategoryResolver.Products(ctx, objs)
}

// TestPanicsAreMaskedErrors puts a panic in each kind of place the executor runs code — a root
// field (run on a goroutine of its own), a nested resolver, one element of a list, a batch
// resolver, a dataloader's fetch and a directive — and checks that each becomes a masked
// INTERNAL_SERVER_ERROR on its path, with the rest of the response intact where GraphQL keeps it,
// and that the server goes on answering. A panic that escaped would stop the whole test binary.
func TestPanicsAreMaskedErrors(t *testing.T) {
	s := apptest.New(t)
	ctx := context.Background()
	if err := store.Seed(ctx, s.App.DB, 40, 4, nil); err != nil {
		t.Fatal(err)
	}
	user, _ := s.Client().User("panic@example.com")
	cases := []struct {
		where, query string
		path         string // where the error is reported
		dataNull     bool   // whether the error nulls all of data
	}{
		{"root", `{ products(first: 3) { totalCount } categories { name } }`, "products", true},
		{"nested", `{ products(first: 3) { names totalCount } }`, "products.totalCount", true},
		{"element", `{ products(first: 12) { items { name category { name products { name } } } } }`, "products.items.", false},
		{"batch", `{ categories { name products { name } } }`, "categories.", true},
		{"loader", `{ categories { name products { name } } }`, "categories.", true},
		{"directive", `{ me { email } }`, "me", true},
	}
	for _, c := range cases {
		t.Run(c.where, func(t *testing.T) {
			app.AdjustSchemaForTest(s.App, func(cfg *graph.Config) {
				cfg.Resolvers = panicAt{cfg.Resolvers, c.where}
				if c.where == "directive" {
					cfg.Directives.Auth = func(context.Context, any, graphql.Resolver) (any, error) {
						panic("boom in a directive")
					}
				}
			})
			r := user.Do(c.query, nil)
			if len(r.Errors) == 0 {
				t.Fatalf("no error: %s", r.Data)
			}
			e := r.Errors[0]
			if r.Code() != graph.CodeInternal || e.Message != "internal server error" {
				t.Errorf("error %+v, want a masked %s", e, graph.CodeInternal)
			}
			if strings.Contains(e.Message, "boom") || e.Extensions["stacktrace"] != nil {
				t.Errorf("the panic leaks: %+v", e)
			}
			if got := pathString(e.Path); !strings.HasPrefix(got, c.path) {
				t.Errorf("error at %q, want under %q", got, c.path)
			}
			if isNull := string(r.Data) == "null" || len(r.Data) == 0; isNull != c.dataNull {
				t.Errorf("data %s, want null: %v", r.Data, c.dataNull)
			}
			if c.where == "element" && !strings.Contains(string(r.Data), `"items":null`) {
				t.Errorf("a non-null element that panicked must null its list: %s", r.Data)
			}
		})
	}
	// The process is still up and the real resolvers answer.
	app.AdjustSchemaForTest(s.App, nil)
	var out struct{ Products struct{ TotalCount int } }
	user.MustDo(`{ products(first: 1) { totalCount } }`, nil, &out)
	if out.Products.TotalCount != 40 {
		t.Errorf("after the panics: totalCount %d, want 40", out.Products.TotalCount)
	}
}

func pathString(path []any) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		switch p := p.(type) {
		case string:
			b.WriteString(p)
		default:
			b.WriteString("") // an index: "items." then the next name
		}
	}
	return b.String()
}
