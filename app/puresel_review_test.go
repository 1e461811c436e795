package app_test

import (
	"encoding/json"
	"testing"
)

// Review of the pure-selection sites (an object field whose selection is only pure scalar fields
// and __typename: Product.category through pure_Category, ProductCatalog.pageInfo,
// AuthPayload.user, ProductEdge.node, ProductChange.product) and of the fields marshalled as their
// address: the same comparison as TestPlainFieldsAnswerWhatResolveFieldAnswersOverHTTP, with
// documents aimed at them.
func pureSelectionCorpus() []string {
	return []string{
		`{ products(first: 1) { items { category { name } } pageInfo { endCursor hasNextPage } totalCount } }`,
		`{ products(first: 1) { items { category { __typename } } pageInfo { __typename } } }`,
		`{ products(first: 1) { items { category { n: name name id i: id __typename t: __typename name } } } }`,
		`{ products(first: 1) { items { a: category { name } b: category { id } category { name } category { id } } } }`,
		`{ products(first: 1) { items { category { ... on Category { name } } } } }`,
		`{ products(first: 1) { items { category { ...C } } } } fragment C on Category { id name }`,
		`{ products(first: 1) { items { category { name products { name category { name } } } } } }`,
		`{ products(first: 2) { items { price category { id name } } } }`,
		`{ products(first: 3) { items { name category { name } } } }`,
		`{ products(first: 3) { items { name c: category { __typename } } } }`,
		`{ products(first: 4) { items { category { name } } pageInfo { startCursor endCursor hasNextPage hasPreviousPage } } }`,
		`{ products(first: 6) { pageInfo { hasNextPage } } }`,
		`{ products(first: 6) { pageInfo { __typename } names } }`,
		`{ products(first: 7) { items { category { name } } edges { node { id name } } } }`,
		`{ products(first: 7) { edges { cursor node { __typename } } } }`,
		`{ products(first: 1) { edges { cursor node { id name description __typename } } } }`,
		`{ products(first: 1) { edges { node { id category { name } } } } }`,
		`{ products(first: 2) { edges { node { id price } } } }`,
		`query($yes: Boolean!, $no: Boolean!) { products(first: 1) { items { category { name @skip(if: $yes) id @include(if: $no) } }
		   pageInfo { hasNextPage @include(if: $no) endCursor @include(if: $yes) } edges { node { id @skip(if: $yes) } } } }`,
		`query($yes: Boolean!, $no: Boolean!) { products(first: 3) { items { category @include(if: $yes) { name @include(if: $no) } } } }`,
		`{ product(name: "x") { category { name } } }`,
		`{ product(name: "orphan") { name category { name } } }`,
		`{ product(name: "orphan") { name category { __typename } } }`,
		`{ product(name: "nan") { price category { name } } }`,
		`{ product(name: "panics") { category { name } } }`,
		`{ category(name: "x") { products { category { name } } } }`,
		`{ categories { products { name category { id name __typename } } } }`,
		`mutation { login(email: "a@example.com", password: "p") { user { id email username isAdmin blocked __typename } } }`,
		`mutation { login(email: "a@example.com", password: "p") { accessToken user { id } u: user { email } user { username } } }`,
		`mutation { login(email: "nouser@example.com", password: "p") { user { __typename } } }`,
		`mutation { login(email: "nouser@example.com", password: "p") { deviceToken user { id email } } }`,
		`mutation { login(email: "zerouser@example.com", password: "p") { user { id email } } }`,
		`mutation { a: login(email: "a@example.com", password: "p") { user { id } } b: login(email: "nouser@example.com", password: "p") { user { id } } }`,
		`mutation { createProduct(name: "n", input: {description: "d", price: 2.5, quantity: 1, categoryId: "7"}) { name category { name } } }`,
		`{ products(first: 1) { items { category { name(x: 1) } } } }`,
		`{ products(first: 1) { items { category { nope } } } }`,
	}
}

func TestReviewPureSelectionsAnswerWhatResolveFieldAnswers(t *testing.T) {
	s := plainServer(t)
	docs := pureSelectionCorpus()
	plain := answerAll(t, s, docs)
	forceFieldMiddleware(s.App)
	resolved := answerAll(t, s, docs)
	for i := range plain {
		if plain[i] != resolved[i] {
			t.Errorf("answer %d (document %d: %s) differs\nplain fields: %s\nResolveField: %s", i, i/2, docs[min(i/2, len(docs)-1)], plain[i], resolved[i])
		}
	}
	for i, a := range plain {
		if body := a[len("200 "):]; !json.Valid([]byte(body)) {
			t.Errorf("answer %d is not JSON: %s", i, a)
		}
	}
}

// TestReviewPureSelectionsOverWebSocket: ProductChange.product with a pure selection (its own
// site), for CREATED, UPDATED and DELETED (no product), against the field middleware.
func TestReviewPureSelectionsOverWebSocket(t *testing.T) {
	s := newShop(t)
	live := s.category(t, "Live")
	vars := map[string]any{"cat": live}
	const sub = `subscription($cat: ID) { productChanged(categoryId: $cat) { kind name product { id name description __typename } p: product { __typename } } }`
	plainSock := s.Socket().Open(tokenOf(s.user))
	plainSock.Subscribe("1", sub, vars)
	forceFieldMiddleware(s.App)
	resolvedSock := s.Socket().Open(tokenOf(s.user))
	resolvedSock.Subscribe("1", sub, vars)
	subscribed(t, s.Server, 2)
	sameEvents(t, s, live, plainSock, resolvedSock)
}
