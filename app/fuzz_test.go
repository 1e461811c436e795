package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
	"github.com/shopql/shopql/graph/limits"
)

// fuzzSeeds are request bodies an attacker would try first.
var fuzzSeeds = []string{
	`{"query":"{ __typename }"}`,
	`{"query":"{ products { names } }"}`,
	`{"query":"mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }","variables":{"e":"a@example.com","p":"x"}}`,
	`{"query":"mutation($in: RegisterInput!) { register(input: $in) { id } }","variables":{"in":{"email":"a@example.com","username":"a","password":"password-1"}}}`,
	`{"query":"mutation($in: RegisterInput!) { register(input: $in) { id } }","variables":{"in":{"email":"a@example.com","username":"a\u0000b","password":"password-1"}}}`,
	`{"query":"mutation($in: RegisterInput!) { register(input: $in) { id } }","variables":{"in":"not an object"}}`,
	`{"query":"query($n: Int) { products(first: $n) { names } }","variables":{"n":"ten"}}`,
	`{"query":"query($n: Int) { products(first: $n) { names } }","variables":{"n":-1}}`,
	`{"query":"query($n: Int) { products(first: $n) { names } }","variables":{"n":1e400}}`,
	`{"query":"query($n: Int) { products(first: $n) { names } }","variables":{"n":99999999999999999999}}`,
	`{"query":"query($n: Int) { products(first: $n) { names } }","variables":{"n":NaN}}`,
	`{"query":"query($n: Int) { products(first: $n) { names } }","variables":{"n":Infinity}}`,
	`{"query":"query($c: ID) { products(categoryId: $c) { names } }","variables":{"c":"1' OR '1'='1"}}`,
	`{"query":"{ products(after: \"'; DROP TABLE products; --\") { names } }"}`,
	`{"query":"{ product(name: \"\\u0000\") { name } }"}`,
	"{\"query\":\"{ product(name: \\\"\xff\xfe\\\") { name } }\"}",
	`{"query":"{ __typename }","variables":[]}`,
	`{"query":"{ __typename }","variables":"x"}`,
	`{"query":"{ __typename }","operationName":42}`,
	`{"query":42}`,
	`{"query":null}`,
	`{"query":"{ __typename }"} trailing`,
	`{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"deadbeef"}}}`,
	`[{"query":"{ __typename }"},{"query":"{ __typename }"}]`,
	`[]`, `{}`, `null`, `""`, `0`, ``, `{`, `{"query":"{"}`, `{"query":"{ ` + strings.Repeat("{", 500) + `"}`,
	`{"query":"` + strings.Repeat(`\u0000`, 100) + `"}`,
	`{"query":"{ __typename }","variables":` + strings.Repeat(`[`, 5000) + strings.Repeat(`]`, 5000) + `}`,
	`{"query":"{ product(name: \"` + strings.Repeat("x", 100000) + `\") { name } }"}`,
	`{"query":"{ a: __typename @include(if: true) @include(if: true) }"}`,
	`{"query":"query Q { __typename } query Q { __typename }","operationName":"Q"}`,
	`{"query":"subscription { x }"}`,
	`{"query":"{ products { items { name } } }"}`,
}

// FuzzGraphQLEndpoint posts arbitrary bodies with arbitrary Authorization headers to the real
// handler. Whatever the input, the server must answer below 500 with a JSON body that has data, or
// errors each carrying extensions.code.
func FuzzGraphQLEndpoint(f *testing.F) {
	// The server logs to nowhere: a fuzz target may not write to the test log, and internal
	// errors are caught by their code in the response instead.
	cfg := apptest.Config(f)
	a, err := app.New(context.Background(), cfg, app.NewLogger(io.Discard, "text", slog.LevelError))
	if err != nil {
		f.Fatal(err)
	}
	s := apptest.Serve(f, cfg, a)
	tok := s.Client().Login
	s.Client().Register("fuzz@example.com", "password-fuzz")
	access := tok("fuzz@example.com", "password-fuzz").AccessToken
	for _, body := range fuzzSeeds {
		for _, authz := range []string{"", "Bearer " + access, "Bearer x.y.z", "bearer", "Bearer " + strings.Repeat("A", 5000)} {
			f.Add([]byte(body), authz)
		}
	}
	url := s.URL + "/graphql"
	f.Fuzz(func(t *testing.T, body []byte, authz string) {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			if strings.Contains(err.Error(), "invalid header field") {
				t.Skip("the client refuses to send this header")
			}
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 500 {
			t.Fatalf("status %d for %q: %s", res.StatusCode, body, raw)
		}
		var out struct {
			Data   json.RawMessage `json:"data"`
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("status %d, body not JSON for %q: %q", res.StatusCode, body, raw)
		}
		if len(out.Errors) == 0 && (len(out.Data) == 0 || string(out.Data) == "null") {
			t.Fatalf("neither data nor errors for %q: %s", body, raw)
		}
		for _, e := range out.Errors {
			if code, _ := e.Extensions["code"].(string); code == "" {
				t.Fatalf("error without extensions.code for %q: %s", body, raw)
			}
			if code := e.Extensions["code"]; code == "INTERNAL_SERVER_ERROR" {
				t.Fatalf("internal error for %q: %s", body, raw)
			}
		}
	})
}

// maxResponse bounds the answer to a request of n bytes: the largest answer that does not grow
// with the request (the full introspection of the schema, 42 KB; a hundred errors, under 50 KB)
// plus a few bytes of data for each byte asked (an aliased __typename: 13 bytes in, 12 out).
func maxResponse(n int) int { return 64<<10 + 8*n }

// FuzzResponseSize sends documents made of a unit repeated many times between a head and a tail
// (the shape of every amplification attack: one error, or one answer, per repetition) and checks
// that the answer stays within maxResponse of the request and has at most limits.MaxErrors errors.
func FuzzResponseSize(f *testing.F) {
	cfg := apptest.Config(f)
	a, err := app.New(context.Background(), cfg, app.NewLogger(io.Discard, "text", slog.LevelError))
	if err != nil {
		f.Fatal(err)
	}
	s := apptest.Serve(f, cfg, a)
	for _, seed := range []struct {
		head, unit, tail string
		count            uint16
	}{
		{"{ ", "a: __typename a: me ", "}", 332},
		{"{ __typename ", "@aa ", "}", 900},
		{"{ ", "products(first: 1) { names } products(first: 2) { names } ", "}", 100},
		{"{ ", "x ", "}", 1000},
		{"{ ", strings.Repeat("x", 300) + " ", "}", 100},
		{"{ products(", "a: 1 ", ") { names } }", 300},
		{"{ ", "... on T { __typename } ", "}", 300},
		{"{ ", "me ", "}", 1000},
		{"query(", "$v: Int ", ") { __typename }", 600},
		{"{ ", "t: __typename ", "}", 600},
		{"{ __schema { types { ", "t: __typename ", "} } }", 100},
		{"{ ", "...F ", "} fragment F on Query { __typename }", 1000},
		{"{ __typename } ", "fragment F on Query { __typename } ", "", 300},
		{"query { __typename } ", "query { me } ", "", 300},
		{"{ ", "{", "", 1000},
		{"{ product(name: \"", "\\u0000", "\") { name } }", 1000},
	} {
		f.Add(seed.head, seed.unit, seed.tail, seed.count)
	}
	url := s.URL + "/graphql"
	f.Fuzz(func(t *testing.T, head, unit, tail string, count uint16) {
		doc := head + strings.Repeat(unit, int(count)%2048) + tail
		if len(doc) > cfg.GraphQLMaxDocumentBytes {
			t.Skip("refused by size before it is parsed")
		}
		body, err := json.Marshal(map[string]string{"query": doc})
		if err != nil {
			t.Skip()
		}
		res, err := http.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var out struct {
			Errors []json.RawMessage `json:"errors"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("status %d, body not JSON for %q: %.200q", res.StatusCode, doc, raw)
		}
		if len(raw) > maxResponse(len(body)) || len(out.Errors) > limits.MaxErrors {
			t.Fatalf("%d bytes, %d errors for a %d-byte request: %.300q", len(raw), len(out.Errors), len(body), doc)
		}
	})
}
