package graph

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopql/shopql/model"
)

// fixedPage answers products with one page, whatever the arguments.
type fixedPage struct {
	ResolverRoot
	page *model.ProductCatalog
}

func (r fixedPage) Query() QueryResolver { return fixedQuery{page: r.page} }

// fixedQuery has only Products: the other fields are not asked.
type fixedQuery struct {
	QueryResolver
	page *model.ProductCatalog
}

func (q fixedQuery) Products(context.Context, *int, *string, *int64) (*model.ProductCatalog, error) {
	return q.page, nil
}

// TestPlainFieldsAnswerWhatResolveFieldAnswers runs one document over the same page twice: with
// no field middleware (the scalars take the plain path) and with a pass-through AroundFields
// (every field goes through graphql.ResolveField). The answers, errors included — a NaN and an
// infinite price, a missing end cursor — must be byte for byte the same, and the middleware must
// have seen the scalar fields, or the plain path would be taken under field middleware.
func TestPlainFieldsAnswerWhatResolveFieldAnswers(t *testing.T) {
	category := &model.Category{ID: 7, Name: "Tools \"&\" <more>"}
	cursor := "Y3Vyc29y"
	page := &model.ProductCatalog{Detailed: true, PageInfo: &model.PageInfo{HasNextPage: true, StartCursor: &cursor}}
	for i, price := range []float64{0, 1.5, -2e-7, 1e21, 123456789.125, math.NaN(), math.Inf(1), math.MaxFloat64, math.SmallestNonzeroFloat64} {
		page.Items = append(page.Items, &model.Product{ID: int64(i + 1), Name: fmt.Sprintf("p\u00e9 %d\n", i), Description: "d", Price: price, Quantity: float64(i), Category: category})
	}
	const doc = `{ products { __typename items { id name description price quantity category { id name __typename } alias: name }
		pageInfo { hasNextPage startCursor endCursor } } }`

	answer := func(middleware bool) (string, []string) {
		srv := handler.New(NewExecutableSchema(Config{Resolvers: fixedPage{page: page}}))
		srv.AddTransport(transport.POST{})
		var mu sync.Mutex
		var seen []string
		if middleware {
			srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
				mu.Lock()
				seen = append(seen, graphql.GetFieldContext(ctx).Field.Name)
				mu.Unlock()
				return next(ctx)
			})
		}
		body := fmt.Sprintf(`{"query":%q}`, doc)
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Body.String(), seen
	}
	plain, _ := answer(false)
	resolved, seen := answer(true)
	if plain != resolved {
		t.Errorf("plain path answers\n%s\nResolveField answers\n%s", plain, resolved)
	}
	for _, field := range []string{"name", "price", "description", "hasNextPage", "startCursor", "items", "category", "pageInfo"} {
		if !slices.Contains(seen, field) {
			t.Errorf("the field middleware did not see %s: the plain path ran under field middleware", field)
		}
	}
	for _, want := range []string{`"price":1.5`, `"price":-2e-07`, `"price":1e+21`, `"path":["products","items",5,"price"]`, `"path":["products","items",6,"price"]`, `"endCursor":null`} {
		if !strings.Contains(plain, want) {
			t.Errorf("the answer lacks %s:\n%s", want, plain)
		}
	}
}

// TestPlainFieldsOnlyWithoutFieldMiddleware: the pass-through gqlgen installs is recognised, and
// any field interceptor is not.
func TestPlainFieldsOnlyWithoutFieldMiddleware(t *testing.T) {
	operation := func(e *executor.Executor) *graphql.OperationContext {
		oc, errs := e.CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: "{ __typename }"})
		if errs != nil {
			t.Fatal(errs)
		}
		return oc
	}
	bare := executor.New(NewExecutableSchema(Config{}))
	if !plainFields(operation(bare)) {
		t.Error("an executor without extensions is not recognised")
	}
	intercepted := executor.New(NewExecutableSchema(Config{}))
	intercepted.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) { return next(ctx) })
	if plainFields(operation(intercepted)) {
		t.Error("an executor with field middleware takes the plain path")
	}
	replaced := operation(executor.New(NewExecutableSchema(Config{})))
	replaced.ResolverMiddleware = func(ctx context.Context, next graphql.Resolver) (any, error) { return next(ctx) }
	if plainFields(replaced) {
		t.Error("an operation whose field middleware was replaced takes the plain path")
	}
}

// TestMarshalFloatWritesWhatGqlgenWrites compares marshalFloat with graphql.MarshalFloatContext.
func TestMarshalFloatWritesWhatGqlgenWrites(t *testing.T) {
	values := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1.5, 100, 1e6, 1e20, 1e21, 1e-4, 1e-5, 123456.789,
		math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, math.Pi, 2.5e-300, 9007199254740993}
	for i := range 2000 {
		values = append(values, math.Float64frombits(uint64(i)*0x9E3779B97F4A7C15))
	}
	for _, f := range values {
		if !finite(f) {
			continue
		}
		var want, got bytes.Buffer
		if err := graphql.MarshalFloatContext(f).MarshalGQLContext(context.Background(), &want); err != nil {
			t.Fatal(err)
		}
		marshalFloat(f).MarshalGQL(&got)
		var other strings.Builder // a writer other than the executor's buffer
		marshalFloat(f).MarshalGQL(&other)
		if got.String() != want.String() || other.String() != want.String() {
			t.Errorf("%v: wrote %s and %s, gqlgen writes %s", f, got.String(), other.String(), want.String())
		}
	}
}

// TestResolvePlainMasksPanics: a panic under a plain field becomes the operation's (masked)
// error on the field's path and a null, as ResolveField's guard makes it.
func TestResolvePlainMasksPanics(t *testing.T) {
	e := executor.New(NewExecutableSchema(Config{}))
	var recovered any
	e.SetRecoverFunc(func(_ context.Context, r any) error {
		recovered = r
		return fmt.Errorf("internal system error")
	})
	ctx := graphql.StartOperationTrace(context.Background())
	oc, errs := e.CreateOperationContext(ctx, &graphql.RawParams{Query: "{ __typename }"})
	if errs != nil {
		t.Fatal(errs)
	}
	ctx = graphql.WithResponseContext(graphql.WithOperationContext(ctx, oc), graphql.DefaultErrorPresenter, nil)
	field := graphql.CollectedField{Field: &ast.Field{Alias: "category", Name: "category"}}
	fieldContext := func(context.Context, graphql.CollectedField) (*graphql.FieldContext, error) {
		return &graphql.FieldContext{Object: "Product", Field: field}, nil
	}
	got := resolvePlain(ctx, oc, field, fieldContext, &model.Category{}, func(context.Context, ast.SelectionSet, *model.Category) graphql.Marshaler {
		panic("boom")
	})
	if got != graphql.Null || recovered != "boom" {
		t.Errorf("got %v, recovered %v", got, recovered)
	}
	if errs := graphql.GetErrors(ctx); len(errs) != 1 || errs[0].Path.String() != "category" {
		t.Errorf("errors %v, want one on category", errs)
	}
}
