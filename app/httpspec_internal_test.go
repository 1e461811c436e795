package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
)

// TestReadParamsAsBefore checks that reading the parameters in one decoding answers every request
// as decoding the body into raw messages and then each of those did (readParamsTwice, the code
// before): the same parameters, status and message, number types and quirks included.
func TestReadParamsAsBefore(t *testing.T) {
	const q = `"query($n: String!) { product(name: $n) { id } }"`
	bodies := []string{
		`{"query":"{ __typename }"}`,
		`{"query":` + q + `,"variables":{"n":"x","f":1.50,"big":99999999999999999999,"e":1e400,"l":[1,{"a":null}]}}`,
		`{"query":"{ __typename }","operationName":"Q","extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"}}}`,
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"}}}`,
		`{"query":null,"operationName":null,"variables":null,"extensions":null}`,
		`{"query":""}`, `{}`, `{"other":1}`,
		`{"QUERY":"{ a }","Variables":{"x":1}}`,            // names match without regard to case
		`{"query":1,"query":"{ last }"}`,                   // the last of a repeated name counts
		`{"query":"{ first }","query":2}`,                  // … wrong type or not
		`{"variables":1,"query":2}`,                        // query is reported first, whatever the order
		`{"extensions":[],"operationName":{},"query":"x"}`, // operationName before extensions
		`{"query":"{ __typename }"} }`,                     // a closing bracket is not "more" to encoding/json
		`{"query":"{ __typename }"} ]`,
		`{"query":"{ __typename }"} {}`, `{"query":"{ __typename }"} trailing`, `{"query":"x"}   `,
		`[{"query":"{ __typename }"}]`, `[]`, `"{ __typename }"`, `42`, `1e999`, `true`, `null`, ``, `   `,
		`{"query":"{ __typename }"`, `{"query": x}`, `{`, `{"query":"\ud800 \u00e9 \u0000"}`,
		`{"query":1}`, `{"query":{"a":1}}`, `{"query":["x"]}`, `{"query":true}`,
		`{"query":"x","operationName":7}`, `{"query":"x","variables":[1]}`, `{"query":"x","variables":"{}"}`,
		`{"query":"x","extensions":"x"}`, `{"query":"x","extensions":{"persistedQuery":null}}`,
		`{"query":"x","variables":` + strings.Repeat(`[`, 5000) + strings.Repeat(`]`, 5000) + `}`,
		`{"query":"x","variables":` + strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001) + `}`,
		`{"query":"` + strings.Repeat("x", 3000) + `"}`,
		"{\"query\":\"\xff\"}",
	}
	for _, body := range bodies {
		t.Run("POST "+name(body), func(t *testing.T) {
			newReq := func() *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				return r
			}
			sameParams(t, newReq(), newReq())
		})
	}
	queries := []string{
		"query=%7B+__typename+%7D",
		"query=%7B+__typename+%7D&operationName=Q&variables=%7B%22a%22%3A1.0%7D&extensions=%7B%7D",
		"query=%FF%FE%C3%28x%E2%82", // not UTF-8: each bad byte becomes U+FFFD, as through JSON
		"query=&operationName=",
		"operationName=Q", "",
		"query=x&variables=null", "query=x&variables=+null", "query=x&variables=", "query=x&variables=+",
		"query=x&variables=%5B1%5D", "query=x&variables=%7B%7D%7D", "query=x&variables=%7B%7D+x",
		"query=x&variables=%7B", "query=x&extensions=1", "query=x&variables=1&extensions=1",
		"extensions=%7B%22persistedQuery%22%3A%7B%22version%22%3A1%7D%7D",
		"query=a&query=b", "query=%ZZ",
	}
	for _, query := range queries {
		t.Run("GET "+query, func(t *testing.T) {
			newReq := func() *http.Request { return httptest.NewRequest(http.MethodGet, "/graphql?"+query, nil) }
			sameParams(t, newReq(), newReq())
		})
	}
	// The bound on the body, and a body that cannot be read.
	limited := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
		r.Header.Set("Content-Type", "application/json")
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 10)
		return r
	}
	sameParams(t, limited(), limited())
	broken := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/graphql", io.MultiReader(strings.NewReader(`{"q`), failingReader{}))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	sameParams(t, broken(), broken())
}

func name(body string) string {
	if len(body) > 60 {
		return body[:60] + "…"
	}
	return body
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func sameParams(t *testing.T, now, before *http.Request) {
	t.Helper()
	got, gotStatus, gotErr := readParams(now)
	want, wantStatus, wantErr := readParamsTwice(before)
	if gotStatus != wantStatus || errText(gotErr) != errText(wantErr) || !reflect.DeepEqual(got, want) {
		t.Errorf("got %d %q %#v\nwant %d %q %#v", gotStatus, errText(gotErr), got, wantStatus, errText(wantErr), want)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// readParamsTwice is readParams as it was before the body was decoded once: into raw messages,
// then each of them again.
func readParamsTwice(r *http.Request) (*graphql.RawParams, int, error) {
	type rawMessages struct {
		Query         json.RawMessage `json:"query"`
		OperationName json.RawMessage `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		Extensions    json.RawMessage `json:"extensions"`
	}
	var raw rawMessages
	if r.Method == http.MethodGet {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, http.StatusBadRequest, errors.New("malformed URL query")
		}
		jsonString := func(name string) json.RawMessage {
			if !q.Has(name) {
				return nil
			}
			b, _ := json.Marshal(q.Get(name))
			return b
		}
		jsonText := func(name string) json.RawMessage {
			if v := q.Get(name); v != "" {
				return json.RawMessage(v)
			}
			return nil
		}
		raw = rawMessages{jsonString("query"), jsonString("operationName"), jsonText("variables"), jsonText("extensions")}
	} else {
		if status, err := checkContentType(r.Header.Get("Content-Type")); err != nil {
			return nil, status, err
		}
		body, err := io.ReadAll(r.Body)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return nil, http.StatusRequestEntityTooLarge, errors.New("the request body is larger than " + strconv.FormatInt(tooLarge.Limit, 10) + " bytes")
		case err != nil:
			return nil, http.StatusBadRequest, errors.New("could not read the request body")
		}
		if !utf8.Valid(body) {
			return nil, http.StatusBadRequest, errors.New("the request body is not valid UTF-8")
		}
		if err := decodeJSON(body, &raw); err != nil {
			return nil, http.StatusBadRequest, errors.New("the request body must be a JSON object with a query string: " + describeJSONError(err))
		}
	}
	var p graphql.RawParams
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  any
	}{
		{"query", raw.Query, &p.Query},
		{"operationName", raw.OperationName, &p.OperationName},
		{"variables", raw.Variables, &p.Variables},
		{"extensions", raw.Extensions, &p.Extensions},
	} {
		if len(f.raw) == 0 || string(f.raw) == "null" {
			continue
		}
		if err := decodeJSON(f.raw, f.dst); err != nil {
			kind := "a string"
			if f.name == "variables" || f.name == "extensions" {
				kind = "an object"
			}
			return nil, http.StatusBadRequest, errors.New("the " + f.name + " parameter must be " + kind)
		}
	}
	if p.Query == "" && p.Extensions["persistedQuery"] == nil {
		return nil, http.StatusBadRequest, errors.New("the query parameter is missing")
	}
	return &p, 0, nil
}

func TestValidUTF8(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"plain { a }", "plain { a }"},
		{"é \u2028 \ufffd", "é \u2028 \ufffd"},
		{"\xff", "\ufffd"},
		{"a\xff\xfeb", "a\ufffd\ufffdb"},       // one per byte, not one per run
		{"\xe2\x82", "\ufffd\ufffd"},           // a cut sequence
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"}, // a surrogate's encoding is not UTF-8
	} {
		if got := validUTF8(tt.in); got != tt.want {
			t.Errorf("validUTF8(%q) = %q, want %q", tt.in, got, tt.want)
		}
		// What a JSON string of the same bytes decodes to, which the GET parameters must match.
		b, _ := json.Marshal(tt.in)
		var viaJSON string
		if err := json.Unmarshal(b, &viaJSON); err != nil || viaJSON != tt.want {
			t.Errorf("through JSON %q decodes to %q (%v), want %q", tt.in, viaJSON, err, tt.want)
		}
	}
}

func TestOptional(t *testing.T) {
	if s, ok := optional[string](nil); s != "" || !ok {
		t.Errorf("nil: %q %v, want the zero string", s, ok)
	}
	if s, ok := optional[string]("x"); s != "x" || !ok {
		t.Errorf(`"x": %q %v`, s, ok)
	}
	if _, ok := optional[string](json.Number("1")); ok {
		t.Error("a number taken for a string")
	}
	if m, ok := optional[map[string]any](map[string]any{"a": 1}); !ok || m["a"] != 1 {
		t.Errorf("object: %v %v", m, ok)
	}
	if m, ok := optional[map[string]any]([]any{}); ok || m != nil {
		t.Errorf("an array taken for an object: %v", m)
	}
}

// TestBodyBuffersBounded: a large body's buffer is not kept for later requests; a kept one is empty.
func TestBodyBuffersBounded(t *testing.T) {
	for _, tt := range []struct {
		size int
		kept bool
	}{{100, true}, {maxPooledBody, true}, {maxPooledBody + 1, false}, {4 << 20, false}} {
		buf := new(bytes.Buffer)
		buf.Grow(tt.size)
		buf.WriteString(`{"query":"{ __typename }"}`)
		if kept := putBodyBuffer(buf); kept != tt.kept {
			t.Errorf("a buffer of %d bytes: kept %v, want %v", tt.size, kept, tt.kept)
		}
		if tt.kept && buf.Len() != 0 {
			t.Errorf("a buffer of %d bytes kept with %d bytes in it", tt.size, buf.Len())
		}
	}
}

// TestResponseHeaders: the two headers share one allocation, and neither can change the other.
func TestResponseHeaders(t *testing.T) {
	for _, tt := range []struct{ media, want string }{
		{mediaJSON, "application/json; charset=utf-8"},
		{mediaGraphQLResponse, "application/graphql-response+json; charset=utf-8"},
		{"text/plain", "text/plain; charset=utf-8"},
	} {
		rec := httptest.NewRecorder()
		setResponseHeaders(rec, tt.media)
		h := rec.Header()
		if got := h.Get("Content-Type"); got != tt.want {
			t.Errorf("%s: Content-Type %q, want %q", tt.media, got, tt.want)
		}
		h.Add("Content-Type", "x")
		h.Add("Cache-Control", "y")
		if got := h.Values("Content-Type"); !reflect.DeepEqual(got, []string{tt.want, "x"}) {
			t.Errorf("%s: Content-Type after Add %q", tt.media, got)
		}
		if got := h.Values("Cache-Control"); !reflect.DeepEqual(got, []string{"no-store", "y"}) {
			t.Errorf("%s: Cache-Control after Add %q", tt.media, got)
		}
	}
}

// TestContentTypes: the plain application/json that skips parsing is answered as parsing it would.
func TestContentTypes(t *testing.T) {
	for _, tt := range []struct {
		contentType string
		status      int
	}{
		{"application/json", 0}, {"application/json; charset=utf-8", 0}, {"Application/JSON", 0},
		{"application/json; charset=UTF-8", 0}, {"application/json;", 0},
		{"application/json; charset=latin1", http.StatusUnsupportedMediaType},
		{"", http.StatusUnsupportedMediaType}, {"text/plain", http.StatusUnsupportedMediaType},
		{"application/json x", http.StatusUnsupportedMediaType}, {"application/jsonx", http.StatusUnsupportedMediaType},
	} {
		if status, _ := checkContentType(tt.contentType); status != tt.status {
			t.Errorf("%q: status %d, want %d", tt.contentType, status, tt.status)
		}
	}
}
