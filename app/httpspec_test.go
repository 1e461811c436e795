package app_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shopql/shopql/app/apptest"
)

// rawResponse is an HTTP response with its body read.
type rawResponse struct {
	status int
	header http.Header
	body   map[string]json.RawMessage // nil when the body is not a JSON object
	text   string
}

// send makes one request against the server and reads the whole response.
func send(t *testing.T, s *apptest.Server, method, path, body string, header map[string]string) rawResponse {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := rawResponse{status: res.StatusCode, header: res.Header, text: string(b)}
	_ = json.Unmarshal(b, &out.body)
	return out
}

const (
	jsonCT     = "application/json; charset=utf-8"
	responseCT = "application/graphql-response+json; charset=utf-8"
)

// TestGraphQLOverHTTP checks status codes, media types and the data entry as the
// GraphQL-over-HTTP specification asks, for both response media types.
func TestGraphQLOverHTTP(t *testing.T) {
	s := apptest.New(t)
	post := func(accept string) map[string]string {
		h := map[string]string{"Content-Type": "application/json"}
		if accept != "" {
			h["Accept"] = accept
		}
		return h
	}
	const (
		ok         = `{"query":"{ __typename }"}`
		parseErr   = `{"query":"{"}`
		invalid    = `{"query":"{ nope }"}`
		badVarType = `{"query":"query($n: Int) { products(first: $n) { totalCount } }","variables":{"n":"x"}}`
	)
	apollo := "application/graphql-response+json,application/json;q=0.9" // what Apollo Client sends
	cases := []struct {
		name          string
		method, path  string
		body          string
		header        map[string]string
		status        int
		contentType   string
		data, errors  bool   // whether the body has a data entry and an errors entry
		allow         string // expected Allow header, if any
		firstErrorHas string
	}{
		{name: "no Accept means application/json", method: "POST", path: "/graphql", body: ok, header: post(""),
			status: 200, contentType: jsonCT, data: true},
		{name: "*/* means application/json", method: "POST", path: "/graphql", body: ok, header: post("*/*"),
			status: 200, contentType: jsonCT, data: true},
		{name: "graphql-response+json", method: "POST", path: "/graphql", body: ok, header: post(apollo),
			status: 200, contentType: responseCT, data: true},
		{name: "q=0 excludes a media type", method: "POST", path: "/graphql", body: ok,
			header: post("application/graphql-response+json;q=0, application/json"),
			status: 200, contentType: jsonCT, data: true},
		{name: "parse error, application/json: 200 without data", method: "POST", path: "/graphql", body: parseErr,
			header: post("application/json"), status: 200, contentType: jsonCT, errors: true, firstErrorHas: "GRAPHQL_PARSE_FAILED"},
		{name: "parse error, graphql-response+json: 400 without data", method: "POST", path: "/graphql", body: parseErr,
			header: post(apollo), status: 400, contentType: responseCT, errors: true, firstErrorHas: "GRAPHQL_PARSE_FAILED"},
		{name: "validation error, application/json: 200", method: "POST", path: "/graphql", body: invalid,
			header: post("application/json"), status: 200, contentType: jsonCT, errors: true, firstErrorHas: "GRAPHQL_VALIDATION_FAILED"},
		{name: "validation error, graphql-response+json: 400", method: "POST", path: "/graphql", body: invalid,
			header: post(apollo), status: 400, contentType: responseCT, errors: true, firstErrorHas: "GRAPHQL_VALIDATION_FAILED"},
		{name: "variable coercion, graphql-response+json: 400", method: "POST", path: "/graphql", body: badVarType,
			header: post(apollo), status: 400, contentType: responseCT, errors: true},
		{name: "execution error keeps 200 and data", method: "POST", path: "/graphql", body: `{"query":"{ me { id } }"}`,
			header: post(apollo), status: 200, contentType: responseCT, data: true, errors: true, firstErrorHas: "TOKEN_MISSING"},
		{name: "body is not JSON", method: "POST", path: "/graphql", body: `{`, header: post(apollo),
			status: 400, contentType: responseCT, errors: true},
		{name: "query missing", method: "POST", path: "/graphql", body: `{"qeury":"{ __typename }"}`, header: post("application/json"),
			status: 400, contentType: jsonCT, errors: true},
		{name: "query of the wrong type", method: "POST", path: "/graphql", body: `{"query":7}`, header: post("application/json"),
			status: 400, contentType: jsonCT, errors: true},
		{name: "variables of the wrong type", method: "POST", path: "/graphql", body: `{"query":"{ __typename }","variables":[]}`,
			header: post("application/json"), status: 400, contentType: jsonCT, errors: true},
		{name: "unsupported content type", method: "POST", path: "/graphql", body: `{ __typename }`,
			header: map[string]string{"Content-Type": "text/plain"}, status: 415, contentType: jsonCT, errors: true},
		{name: "unsupported charset", method: "POST", path: "/graphql", body: ok,
			header: map[string]string{"Content-Type": "application/json; charset=latin1"}, status: 415, contentType: jsonCT, errors: true},
		{name: "nothing acceptable", method: "POST", path: "/graphql", body: ok, header: post("text/html"),
			status: 406, contentType: jsonCT, errors: true},
		{name: "the higher quality wins, not the first listed", method: "POST", path: "/graphql", body: ok,
			header: post("application/graphql-response+json;q=0.1, application/json;q=1"),
			status: 200, contentType: jsonCT, data: true},
		{name: "refused input before execution, graphql-response+json: 400 without data", method: "POST", path: "/graphql",
			body:   `{"query":"query($n: String!) { product(name: $n) { id } }","variables":{"n":"a\u0000b"}}`,
			header: post(apollo), status: 400, contentType: responseCT, errors: true, firstErrorHas: "BAD_USER_INPUT"},
		{name: "APQ hash mismatch: 400 BAD_REQUEST", method: "POST", path: "/graphql",
			body:   `{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"0000"}}}`,
			header: post("application/json"), status: 400, contentType: jsonCT, errors: true, firstErrorHas: "BAD_REQUEST"},
		{name: "APQ unsupported version: 400 BAD_REQUEST", method: "POST", path: "/graphql",
			body:   `{"query":"{ __typename }","extensions":{"persistedQuery":{"version":2,"sha256Hash":"0000"}}}`,
			header: post(apollo), status: 400, contentType: responseCT, errors: true, firstErrorHas: "BAD_REQUEST"},
		{name: "body not UTF-8: 400, not silently replaced", method: "POST", path: "/graphql",
			body:   "{\"query\":\"{ product(name: \\\"a\xffb\\\") { id } }\"}",
			header: post("application/json"), status: 400, contentType: jsonCT, errors: true, firstErrorHas: "BAD_REQUEST"},
		{name: "GET query", method: "GET", path: "/graphql?query=" + url.QueryEscape("{ __typename }"),
			status: 200, contentType: jsonCT, data: true},
		{name: "GET mutation is 405, Allow: POST", method: "GET", path: "/graphql?query=" + url.QueryEscape("mutation { logout }"),
			status: 405, contentType: jsonCT, errors: true, allow: "POST"},
		{name: "PUT is 405", method: "PUT", path: "/graphql", body: ok, header: post(""),
			status: 405, contentType: jsonCT, errors: true, allow: "GET, POST, OPTIONS"},
		{name: "DELETE is 405", method: "DELETE", path: "/graphql",
			status: 405, contentType: jsonCT, errors: true, allow: "GET, POST, OPTIONS"},
		{name: "HEAD is 405", method: "HEAD", path: "/graphql", status: 405, allow: "GET, POST, OPTIONS"},
		{name: "OPTIONS lists the methods", method: "OPTIONS", path: "/graphql", status: 204, allow: "GET, POST, OPTIONS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := send(t, s, c.method, c.path, c.body, c.header)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.text)
			}
			if c.contentType != "" && r.header.Get("Content-Type") != c.contentType {
				t.Errorf("Content-Type %q, want %q", r.header.Get("Content-Type"), c.contentType)
			}
			if got := r.header.Get("Allow"); got != c.allow {
				t.Errorf("Allow %q, want %q", got, c.allow)
			}
			if c.method == "HEAD" || c.method == "OPTIONS" {
				return
			}
			if _, has := r.body["data"]; has != c.data {
				t.Errorf("data entry present: %v, want %v: %s", has, c.data, r.text)
			}
			if _, has := r.body["errors"]; has != c.errors {
				t.Errorf("errors entry present: %v, want %v: %s", has, c.errors, r.text)
			}
			if c.firstErrorHas != "" && !strings.Contains(string(r.body["errors"]), c.firstErrorHas) {
				t.Errorf("errors lack %s: %s", c.firstErrorHas, r.text)
			}
		})
	}
}

// TestRequestBodyIsBounded checks that an oversized body is refused before it is buffered whole.
func TestRequestBodyIsBounded(t *testing.T) {
	s := apptest.New(t)
	body := `{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("x", 2<<20) + `"}}`
	r := send(t, s, "POST", "/graphql", body, map[string]string{"Content-Type": "application/json"})
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413: %.200s", r.status, r.text)
	}
}

// TestPersistedQueries checks the APQ protocol, and that its cache is bounded: a query pushed out
// by 100 newer ones is forgotten and must be sent again.
func TestPersistedQueries(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	apq := func(query string, withQuery bool) *apptest.Response {
		ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha256Hex(query)}}
		body := map[string]any{"extensions": ext}
		if withQuery {
			body["query"] = query
		}
		b, _ := json.Marshal(body)
		return c.Post(b, nil)
	}
	first := `query First { __typename }`
	if r := apq(first, false); r.Code() != "PERSISTED_QUERY_NOT_FOUND" || r.Status != 200 {
		t.Fatalf("unknown hash: %s", r)
	}
	if r := apq(first, true); len(r.Errors) > 0 {
		t.Fatalf("register: %s", r)
	}
	if r := apq(first, false); len(r.Errors) > 0 || !strings.Contains(string(r.Data), "Query") {
		t.Fatalf("hash only after registering: %s", r)
	}
	for i := range 100 {
		q := "query Q" + string(rune('A'+i/26)) + string(rune('a'+i%26)) + " { __typename }"
		if r := apq(q, true); len(r.Errors) > 0 {
			t.Fatalf("register %d: %s", i, r)
		}
	}
	if r := apq(first, false); r.Code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("the APQ cache keeps more than 100 queries: %s", r)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestDeferIsNotOffered checks that @defer, whose incremental delivery this server does not offer,
// is neither advertised by introspection nor accepted: documents using it fail validation before
// they run, instead of being answered with parts missing.
func TestDeferIsNotOffered(t *testing.T) {
	s := apptest.New(t)
	var schema struct {
		Schema struct{ Directives []struct{ Name string } } `json:"__schema"`
	}
	s.Client().MustDo(`{ __schema { directives { name } } }`, nil, &schema)
	for _, d := range schema.Schema.Directives {
		if d.Name == "defer" {
			t.Errorf("introspection advertises @defer: %+v", schema)
		}
	}
	for _, q := range []string{
		`{ products(first: 1) { names ... @defer { totalCount } } }`,
		`{ products(first: 1) { ...Count @defer } } fragment Count on ProductCatalog { totalCount }`,
	} {
		b, _ := json.Marshal(map[string]string{"query": q})
		r := s.Client().Post(b, http.Header{"Accept": {"application/graphql-response+json"}})
		if r.Status != http.StatusBadRequest || r.Data != nil || r.Code() != "GRAPHQL_VALIDATION_FAILED" ||
			!strings.Contains(r.String(), `Unknown directive \"@defer\"`) {
			t.Errorf("%s: %s", q, r)
		}
	}
	if r := s.Client().Do(`{ products(first: 1) { ... on ProductCatalog { totalCount } } }`, nil); len(r.Errors) > 0 {
		t.Errorf("an inline fragment without @defer: %s", r)
	}
}
