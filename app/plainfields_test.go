package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
	"github.com/shopql/shopql/graph"
	"github.com/shopql/shopql/model"
)

// The differential test of the executor's plain fields (graph/execution.go, internal/execgen):
// a corpus of documents, over fixed data that reaches every shape a plain field can take (NaN and
// infinite floats, zero times, nil objects under non-null fields, empty and nil lists, nullable
// strings), is answered by the real handler twice, once as served (plain fields) and once with a
// pass-through field middleware (every field through graphql.ResolveField, as gqlgen's executor
// without the rewrite resolves it). Every answer must be the same, byte for byte.

// fixedRoot answers from fixed data, so that answers do not depend on the database or the clock.
type fixedRoot struct{ graph.ResolverRoot }

func (fixedRoot) Query() graph.QueryResolver                   { return fixedQuery{} }
func (fixedRoot) Mutation() graph.MutationResolver             { return fixedMutation{} }
func (fixedRoot) Category() graph.CategoryResolver             { return fixedCategory{} }
func (fixedRoot) ProductCatalog() graph.ProductCatalogResolver { return fixedCatalog{} }

var (
	fixedTime   = time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC)
	fixedTools  = &model.Category{ID: 7, Name: "Tools \"&\" <more>"}
	fixedGarden = &model.Category{ID: 8, Name: "Garden\u00e9"}
	fixedPanic  = &model.Category{ID: 9, Name: "panics"} // its products resolver panics
	fixedFails  = &model.Category{ID: 10, Name: "fails"} // its products resolver fails
)

func fixedProduct(id int64, price float64, category *model.Category) *model.Product {
	return &model.Product{ID: id, Name: fmt.Sprintf("p\u00e9 %d\n", id), Description: "d\t\"q\"", Price: price, Quantity: float64(id) / 4, Category: category}
}

// fixedPage is the page products(first:) answers: first picks the scenario.
func fixedPage(first int) *model.ProductCatalog {
	start, end := "c3RhcnQ=", "ZW5k"
	page := &model.ProductCatalog{Detailed: true, PageInfo: &model.PageInfo{HasNextPage: true, StartCursor: &start, EndCursor: &end}}
	switch first {
	case 1: // an ordinary page
		page.Items = []*model.Product{fixedProduct(1, 12.5, fixedTools), fixedProduct(2, 0, fixedGarden), fixedProduct(3, 1e21, fixedTools)}
	case 2: // floats that do not marshal
		page.Items = []*model.Product{fixedProduct(1, math.NaN(), fixedTools), fixedProduct(2, math.Inf(-1), fixedTools), fixedProduct(3, -2e-7, fixedTools)}
		page.Items[2].Quantity = math.Inf(1)
	case 3: // a product without its (non-null) category
		page.Items = []*model.Product{fixedProduct(1, 1, fixedTools), fixedProduct(2, 2, nil)}
	case 4: // an empty page
		page.Items, page.PageInfo = []*model.Product{}, &model.PageInfo{}
	case 5: // names only
		msg := "Detailed info only after you login."
		page = &model.ProductCatalog{Names: []string{"a", "b\u2028c"}, Message: &msg, PageInfo: &model.PageInfo{}}
	case 6: // no page info (non-null)
		page.PageInfo = nil
	case 7: // a nil product in the list
		page.Items = []*model.Product{fixedProduct(1, 1, fixedTools), nil}
	}
	for _, p := range page.Items {
		if p != nil {
			page.Names = append(page.Names, p.Name)
		}
	}
	return page
}

type fixedQuery struct{ graph.QueryResolver }

func (fixedQuery) Products(_ context.Context, first *int, _ *string, _ *int64) (*model.ProductCatalog, error) {
	n := 1
	if first != nil {
		n = *first
	}
	return fixedPage(n), nil
}

func fixedUser(id int64) *model.User {
	u := &model.User{ID: id, Email: fmt.Sprintf("u%d@example.com", id), Username: "ü\"", IsAdmin: id == 1, CreatedAt: fixedTime}
	if id == 2 {
		u.CreatedAt = time.Time{} // Time! marshals to null
	}
	return u
}

func (fixedQuery) Me(context.Context) (*model.User, error) { return fixedUser(1), nil }
func (fixedQuery) User(_ context.Context, id int64) (*model.User, error) {
	if id == 3 {
		return nil, nil
	}
	return fixedUser(id), nil
}
func (fixedQuery) Users(context.Context) ([]*model.User, error) {
	return []*model.User{fixedUser(1), fixedUser(2), fixedUser(4)}, nil
}
func (fixedQuery) Product(_ context.Context, name string) (*model.Product, error) {
	switch name {
	case "none":
		return nil, nil
	case "nan":
		return fixedProduct(9, math.NaN(), fixedTools), nil
	case "orphan":
		return fixedProduct(9, 1, nil), nil
	case "panics":
		return fixedProduct(9, 1, fixedPanic), nil
	case "fails":
		return fixedProduct(9, 1, fixedFails), nil
	}
	return fixedProduct(9, 9.75, fixedTools), nil
}
func (fixedQuery) Category(_ context.Context, name string) (*model.Category, error) {
	if name == "none" {
		return nil, nil
	}
	return fixedTools, nil
}
func (fixedQuery) Categories(context.Context) ([]*model.Category, error) {
	return []*model.Category{fixedTools, fixedGarden}, nil
}
func (fixedQuery) MySessions(context.Context) ([]*model.Session, error) {
	agent := "curl/8"
	return []*model.Session{
		{ID: "s1", CreatedAt: fixedTime, LastUsedAt: fixedTime, ExpiresAt: fixedTime, UserAgent: &agent, Current: true},
		{ID: "s2", CreatedAt: fixedTime, LastUsedAt: time.Time{}, ExpiresAt: fixedTime},
	}, nil
}
func (fixedQuery) UserSessions(context.Context, int64) ([]*model.Session, error) { return nil, nil }

type fixedCategory struct{}

func (fixedCategory) Products(_ context.Context, objs []*model.Category) ([][]*model.Product, error) {
	out := make([][]*model.Product, len(objs))
	for i, c := range objs {
		switch c {
		case fixedPanic:
			panic("products of " + c.Name)
		case fixedFails:
			return nil, &gqlerror.Error{Message: "no products", Extensions: map[string]any{"code": "NOT_FOUND"}}
		}
		out[i] = []*model.Product{fixedProduct(c.ID*10, 1.25, c), fixedProduct(c.ID*10+1, 2, c)}
		if c == fixedTools { // one category only: categories are marshalled concurrently, errors in any order
			out[i][1].Price = math.NaN()
		}
	}
	return out, nil
}

type fixedCatalog struct{}

func (fixedCatalog) Edges(_ context.Context, obj *model.ProductCatalog) ([]*model.ProductEdge, error) {
	if obj.Items == nil {
		return nil, nil
	}
	edges := make([]*model.ProductEdge, len(obj.Items))
	for i, p := range obj.Items {
		edges[i] = &model.ProductEdge{Cursor: fmt.Sprint("c", i), Node: p}
	}
	return edges, nil
}
func (fixedCatalog) TotalCount(_ context.Context, obj *model.ProductCatalog) (int, error) {
	return len(obj.Items), nil
}

type fixedMutation struct{ graph.MutationResolver }

func (fixedMutation) Login(_ context.Context, email, _ string, _ *string) (*model.AuthPayload, error) {
	p := &model.AuthPayload{AccessToken: "a", RefreshToken: "r", AccessTokenExpiresAt: fixedTime, DeviceToken: "d", User: fixedUser(1)}
	switch email {
	case "zero@example.com":
		p.AccessTokenExpiresAt = time.Time{}
	case "nouser@example.com":
		p.User = nil
	case "zerouser@example.com":
		p.User = fixedUser(2)
	}
	return p, nil
}
func (fixedMutation) SetUserBlocked(_ context.Context, id int64, blocked bool) (*model.User, error) {
	u := fixedUser(id)
	u.Blocked = blocked
	return u, nil
}
func (fixedMutation) CreateProduct(_ context.Context, name string, in model.ProductInput) (*model.Product, error) {
	p := fixedProduct(5, in.Price, fixedTools)
	p.Name = name
	return p, nil
}

// plainCorpus are the documents the test answers (each is sent twice: the second answer of a
// catalog query may come from the response cache).
func plainCorpus(t *testing.T) []string {
	const product = `id name description price quantity category { id name __typename } __typename`
	many := new(strings.Builder) // more fields than objectFields finds repeats by looking back
	for i := range 40 {
		fmt.Fprintf(many, " f%d: %s", i, []string{"id", "name", "price", "quantity", "description"}[i%5])
	}
	docs := []string{
		`{ __typename }`,
		`{ products { __typename detailed names message totalCount items { ` + product + ` } pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor } } }`,
		`{ products(first: 2) { items { ` + product + ` } } }`,
		`{ products(first: 2) { items { name price } edges { cursor node { name quantity } } } }`,
		`{ products(first: 3) { items { name category { name } } edges { node { id category { id } } } } }`,
		`{ products(first: 3) { names totalCount } }`,
		`{ products(first: 4) { items { name } edges { cursor } names pageInfo { startCursor endCursor hasNextPage } } }`,
		`{ products(first: 5) { detailed names message items { name } edges { cursor } pageInfo { endCursor } } }`,
		`{ products(first: 6) { names pageInfo { hasNextPage } } }`,
		`{ products(first: 7) { items { id } names } }`,
		`{ a: products(first: 1) { x: items { n: name n2: name name name price p: price } } b: products(first: 2) { items { price } } c: products(first: 1) { items { ...P } } }
		 fragment P on Product { id ... on Product { name category { ...C } } ...Q }
		 fragment Q on Product { price quantity __typename }
		 fragment C on Category { __typename id name }`,
		`query($yes: Boolean!, $no: Boolean!) { products(first: 1) { items { id name @include(if: $yes) price @skip(if: $yes) quantity @include(if: $no)
		   category @skip(if: $no) { name @include(if: $no) id } ... on Product @include(if: $yes) { description } } pageInfo @skip(if: $yes) { endCursor } } }`,
		`{ products(first: 1) { items { a: id b: name c: description d: price e: quantity f: category { id } g: id h: name i: name j: price __typename k: __typename } } }`,
		`{ products(first: 1) { items {` + many.String() + ` } } }`,
		`{ products(first: 2) { items {` + many.String() + ` } } }`,
		`{ product(name: "x") { ` + product + ` } }`,
		`{ product(name: "none") { id } }`,
		`{ product(name: "nan") { name price quantity } }`,
		`{ product(name: "orphan") { name category { id } } }`,
		`{ category(name: "x") { id name products { ` + product + ` } } }`,
		`{ category(name: "none") { id } }`,
		`{ product(name: "panics") { name category { id name products { id } } } }`,
		`{ a: product(name: "fails") { name category { id products { id } } } b: product(name: "x") { category { products { name } } } }`,
		`query($d: Boolean) { __type(name: "Query") { fields(includeDeprecated: $d) { name args(includeDeprecated: $d) { name } } } }`,
		`mutation { __typename a: setUserBlocked(id: 1, blocked: false) { __typename id } }`,
		`{ categories { __typename id name products { name price category { name products { id } } } } }`,
		`{ me { id email username isAdmin blocked createdAt __typename } }`,
		`{ user(id: 1) { id createdAt } }`,
		`{ user(id: 2) { id createdAt } }`,
		`{ user(id: 3) { id createdAt } }`,
		`{ users { id createdAt } }`,
		`{ users { id } }`,
		`{ mySessions { id createdAt lastUsedAt expiresAt userAgent ipAddress current } }`,
		`{ mySessions { id userAgent ipAddress current } }`,
		`{ me { id } users { id } p: product(name: "x") { price } }`, // root fields run concurrently: one error at most
		`mutation { login(email: "a@example.com", password: "p") { accessToken refreshToken accessTokenExpiresAt deviceToken user { id email createdAt } } }`,
		`mutation { login(email: "zero@example.com", password: "p") { accessToken accessTokenExpiresAt user { id } } }`,
		`mutation { login(email: "nouser@example.com", password: "p") { accessToken user { id } } }`,
		`mutation { login(email: "zerouser@example.com", password: "p") { deviceToken user { id createdAt } } }`,
		`mutation { a: setUserBlocked(id: 4, blocked: true) { id blocked isAdmin } b: setUserBlocked(id: 2, blocked: false) { id createdAt } }`,
		`mutation { createProduct(name: "n", input: {description: "d", price: 2.5, quantity: 1, categoryId: "7"}) { ` + product + ` } }`,
		`{ __type(name: "Product") { kind name description fields(includeDeprecated: true) { name description isDeprecated deprecationReason args { name type { name kind } defaultValue }
		   type { kind name ofType { kind name ofType { kind name ofType { name } } } } } interfaces { name } possibleTypes { name } enumValues { name } inputFields { name } ofType { name } } }`,
		`{ __type(name: "Query") { fields { name args { name description defaultValue type { kind name ofType { kind name } } } } } }`,
		`{ __type(name: "ChangeKind") { enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason __typename } } }`,
		`{ __type(name: "ProductInput") { inputFields { name defaultValue type { kind ofType { name } } } } }`,
		`{ __type(name: "Nope") { name } }`,
		`{ __schema { queryType { name } mutationType { name } subscriptionType { name } directives { name description locations isRepeatable args { name defaultValue type { name ofType { name } } } } } }`,
		`{ __schema { types { name kind fields { name type { name } } } } }`,
		introspectionQuery(t),
		`{ products { items { name } } __schema { queryType { name } } }`,
		`{ nope }`,
		`{ products(first: 1) { items { id(x: 1) } } }`,
	}
	return docs
}

// answerAll posts every document of the corpus (twice) to s and returns the raw answers.
func answerAll(t *testing.T, s *apptest.Server, docs []string) []string {
	t.Helper()
	post := func(body string) string { return rawPost(t, s, "", body) }
	var out []string
	for _, doc := range docs {
		vars := map[string]any{"yes": true, "no": false}
		if strings.Contains(doc, "$d") {
			vars = map[string]any{"d": true}
		}
		if !strings.Contains(doc, "$yes") && !strings.Contains(doc, "$d") {
			vars = nil
		}
		body, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, post(string(body)), post(string(body)))
	}
	// Persisted queries: unknown hash, then registered, then by hash alone.
	doc := `{ products(first: 2) { items { name price } } }`
	sum := sha256.Sum256([]byte(doc))
	ext := fmt.Sprintf(`"extensions":{"persistedQuery":{"version":1,"sha256Hash":%q}}`, hex.EncodeToString(sum[:]))
	out = append(out, post(`{`+ext+`}`), post(fmt.Sprintf(`{"query":%q,%s}`, doc, ext)), post(`{`+ext+`}`))
	return out
}

// rawPost posts a request body to s's /graphql, with token if not "", and returns the status and
// the body as received.
func rawPost(t *testing.T, s *apptest.Server, token, body string) string {
	t.Helper()
	header := map[string]string{"Content-Type": "application/json"}
	if token != "" {
		header["Authorization"] = "Bearer " + token
	}
	r := send(t, s, http.MethodPost, "/graphql", body, header)
	return fmt.Sprintf("%d %s", r.status, r.text)
}

func plainServer(t *testing.T) *apptest.Server {
	s := apptest.New(t, func(c *app.Config) {
		c.GraphQLMaxAliases, c.GraphQLMaxComplexity = 0, 0 // the corpus has documents of many aliases
		c.GraphQLIntrospection = true
	})
	app.AdjustSchemaForTest(s.App, func(cfg *graph.Config) {
		cfg.Resolvers = fixedRoot{cfg.Resolvers}
		pass := func(ctx context.Context, _ any, next graphql.Resolver) (any, error) { return next(ctx) }
		cfg.Directives.Auth, cfg.Directives.Fresh, cfg.Directives.Admin = pass, pass, pass
	})
	return s
}

func TestPlainFieldsAnswerWhatResolveFieldAnswersOverHTTP(t *testing.T) {
	s := plainServer(t)
	docs := plainCorpus(t)
	plain := answerAll(t, s, docs)
	if path := os.Getenv("PLAIN_FIELDS_DUMP"); path != "" { // to compare with another executor
		if err := os.WriteFile(path, []byte(strings.Join(plain, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	forceFieldMiddleware(s.App)
	resolved := answerAll(t, s, docs)
	for i := range plain {
		if plain[i] != resolved[i] {
			t.Errorf("answer %d (document %d) differs\nplain fields: %s\nResolveField: %s", i, i/2, plain[i], resolved[i])
		}
	}
	var all bytes.Buffer
	for _, a := range plain {
		all.WriteString(a)
	}
	// The corpus reaches what it is meant to reach.
	for _, want := range []string{`"price":1e+21`, `["products","items",0,"price"]`, `["users",1,"createdAt"]`, `["user","createdAt"]`,
		`["login","accessTokenExpiresAt"]`, `["products","items",1,"category"]`, `"f39":`, `"__schema"`, `INTERNAL_SERVER_ERROR`, `NOT_FOUND`, `PERSISTED_QUERY_NOT_FOUND`} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("no answer has %s", want)
		}
	}
}

// TestPlainFieldsOverWebSocketAndDatabase: the same comparison over the real resolvers and the
// database, and over WebSocket: one subscriber served with plain fields and one with the field
// middleware receive every change, byte for byte alike.
func TestPlainFieldsOverWebSocketAndDatabase(t *testing.T) {
	s := newShop(t)
	tools := s.category(t, "Tools")
	s.product(t, "Hammer", tools, 12.5)
	s.product(t, "Saw", tools, 1e15)
	live := s.category(t, "Live") // the changes the subscribers see, after the ones above
	vars := map[string]any{"cat": live}
	const sub = `subscription($cat: ID) { productChanged(categoryId: $cat) { __typename kind name product { ` +
		`id name description price quantity __typename category { id name products { name } } } } }`
	docs := []string{
		`{ products { detailed names message totalCount items { id name description price quantity category { id name } }
		   edges { cursor node { id name } } pageInfo { startCursor endCursor hasNextPage hasPreviousPage } } }`,
		`{ products(first: 0) { names items { id } edges { cursor } pageInfo { startCursor endCursor } } }`,
		`{ categories { id name products { id name price category { name } } } }`,
		`{ me { id email username isAdmin blocked createdAt } }`, // one root field each: root fields run concurrently
		`{ mySessions { id createdAt lastUsedAt expiresAt userAgent ipAddress current } }`,
	}
	answer := func(c *apptest.Client) []string {
		var out []string
		for _, doc := range docs {
			body, _ := json.Marshal(map[string]string{"query": doc})
			out = append(out, rawPost(t, s.Server, c.Token, string(body)))
		}
		return out
	}
	plainSock := s.Socket().Open(tokenOf(s.user))
	plainSock.Subscribe("1", sub, vars)
	plainUser, plainAnon := answer(s.user), answer(s.anon)

	forceFieldMiddleware(s.App)
	resolvedSock := s.Socket().Open(tokenOf(s.user))
	resolvedSock.Subscribe("1", sub, vars)
	subscribed(t, s.Server, 2)
	for i, got := range answer(s.user) {
		if got != plainUser[i] {
			t.Errorf("document %d with a token:\nplain fields: %s\nResolveField: %s", i, plainUser[i], got)
		}
	}
	for i, got := range answer(s.anon) {
		if got != plainAnon[i] {
			t.Errorf("document %d without a token:\nplain fields: %s\nResolveField: %s", i, plainAnon[i], got)
		}
	}

	sameEvents(t, s, live, plainSock, resolvedSock)
}

// forceFieldMiddleware gives a's handler a pass-through field middleware, which turns the plain
// path off: every field then goes through graphql.ResolveField, as gqlgen generates it.
func forceFieldMiddleware(a *app.App) {
	app.AroundFieldsForTest(a, func(ctx context.Context, next graphql.Resolver) (any, error) { return next(ctx) })
}

// sameEvents creates, updates and deletes a product in the category live and checks that the
// subscription "1" of plain (served with plain fields) and of resolved (with field middleware)
// receive each change alike, without errors. One change at a time: the feed loads a product when
// it delivers its change, so a change made before the previous one is delivered could show
// through it.
func sameEvents(t *testing.T, s *shop, live string, plain, resolved *apptest.Socket) {
	t.Helper()
	for _, change := range []func(){
		func() { s.product(t, "Drill", live, 99.99) },
		func() { s.user.MustDo(upsertProduct, productVars("Drill", live, 13), nil) },
		func() { s.admin.MustDo(`mutation { deleteProduct(name: "Drill") }`, nil, nil) },
	} {
		change()
		p, r := plain.Event("1"), resolved.Event("1")
		if p.String() != r.String() {
			t.Errorf("event:\nplain fields: %s\nResolveField: %s", p, r)
		}
		if len(p.Errors) > 0 {
			t.Errorf("event with errors: %s", p)
		}
	}
}
