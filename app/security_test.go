package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
	"github.com/shopql/shopql/store"
)

// httpResult is an HTTP response whose body must be a GraphQL response with coded errors.
type httpResult struct {
	status int
	body   apptest.Response
}

// do sends a request and checks the answer is JSON whose errors all carry extensions.code.
func sendChecked(t *testing.T, req *http.Request) httpResult {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out httpResult
	out.status = res.StatusCode
	if err := json.Unmarshal(raw, &out.body); err != nil {
		t.Fatalf("status %d, body is not JSON: %q", res.StatusCode, raw)
	}
	for _, e := range out.body.Errors {
		if code, _ := e.Extensions["code"].(string); code == "" {
			t.Fatalf("status %d, error without extensions.code: %s", res.StatusCode, raw)
		}
	}
	return out
}

const registerMallory = `mutation { register(input: {email: "mallory@example.com", username: "mallory", password: "password-123"}) { id } }`

// TestCSRFRefused sends the mutation a hostile page could make a browser send without a CORS
// preflight, and checks it is refused and did not run.
func TestCSRFRefused(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	form := url.Values{"query": {registerMallory}}.Encode()
	body, _ := json.Marshal(map[string]string{"query": registerMallory})

	tests := []struct {
		name, contentType, body string
	}{
		{"form", "application/x-www-form-urlencoded", form},
		{"text/plain holding JSON", "text/plain", string(body)},
		{"text/plain with charset", "text/plain; charset=utf-8", string(body)},
		{"multipart", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\n" + registerMallory + "\r\n--x--\r\n"},
		{"no content type", "", string(body)},
		{"application/graphql", "application/graphql", registerMallory},
		{"json with another charset", "application/json; charset=latin1", string(body)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, c.URL, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			} else {
				req.Header["Content-Type"] = nil
			}
			r := sendChecked(t, req)
			if r.status != http.StatusUnsupportedMediaType || r.body.Code() != "UNSUPPORTED_MEDIA_TYPE" {
				t.Fatalf("want 415 UNSUPPORTED_MEDIA_TYPE, got %d %s", r.status, r.body.String())
			}
		})
	}

	// A mutation over GET (a link, an <img>) is refused too.
	r := sendChecked(t, mustRequest(t, http.MethodGet, c.URL+"?query="+url.QueryEscape(registerMallory), ""))
	if r.status != http.StatusMethodNotAllowed || r.body.Code() != "METHOD_NOT_ALLOWED" {
		t.Fatalf("mutation over GET: %d %s", r.status, r.body.String())
	}
	for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch} {
		if r := sendChecked(t, mustRequest(t, m, c.URL, string(body))); r.status != http.StatusMethodNotAllowed {
			t.Fatalf("%s: %d %s", m, r.status, r.body.String())
		}
	}

	// None of them ran: the account does not exist, so registering it now succeeds.
	c.MustDo(registerMallory, nil, nil)
}

func mustRequest(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// TestRequestBodyLimit sends bodies over MAX_BODY_BYTES, with and without a Content-Length.
func TestRequestBodyLimit(t *testing.T) {
	s := apptest.New(t, func(c *app.Config) { c.MaxBodyBytes = 4096 })
	c := s.Client()
	big := `{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("x", 5000) + `"}}`

	r := sendChecked(t, mustRequest(t, http.MethodPost, c.URL, big))
	if r.status != http.StatusRequestEntityTooLarge || r.body.Code() != "PAYLOAD_TOO_LARGE" {
		t.Fatalf("declared length: %d %s", r.status, r.body.String())
	}
	req := mustRequest(t, http.MethodPost, c.URL, "")
	req.Body = io.NopCloser(strings.NewReader(big)) // no length: sent chunked
	req.ContentLength = -1
	r = sendChecked(t, req)
	if r.status != http.StatusRequestEntityTooLarge || r.body.Code() != "PAYLOAD_TOO_LARGE" {
		t.Fatalf("chunked: %d %s", r.status, r.body.String())
	}
	c.MustDo(`{ __typename }`, map[string]any{"pad": strings.Repeat("x", 3000)}, nil)
}

// TestBatchesRefused: JSON-array batches are not supported (one operation per request), and an
// operation carries at most one credential check, however it is spelled.
func TestBatchesRefused(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	c.Register("ann@example.com", "password-ann")

	r := sendChecked(t, mustRequest(t, http.MethodPost, c.URL, `[{"query":"{ __typename }"},{"query":"{ __typename }"}]`))
	if r.status != http.StatusBadRequest || r.body.Code() != "BAD_REQUEST" {
		t.Fatalf("array batch: %d %s", r.status, r.body.String())
	}

	const login = `login(email: "ann@example.com", password: "guess-%d") { accessToken }`
	guess := func(i int) string { return strings.Replace(login, "%d", string(rune('a'+i)), 1) }
	tests := []struct{ name, query string }{
		{"aliased logins", `mutation { a: ` + guess(0) + ` b: ` + guess(1) + ` }`},
		{"login and register", `mutation { ` + guess(0) + ` register(input: {email: "x@example.com", username: "x", password: "password-x"}) { id } }`},
		{"two registers", `mutation { a: register(input: {email: "x@example.com", username: "x", password: "password-x"}) { id } b: register(input: {email: "y@example.com", username: "y", password: "password-y"}) { id } }`},
		{"two refreshes", `mutation { a: refreshToken(token: "x") { accessToken } b: refreshToken(token: "y") { accessToken } }`},
		{"login in a fragment", `mutation { a: ` + guess(0) + ` ...F } fragment F on Mutation { b: ` + guess(1) + ` }`},
		{"login in an inline fragment", `mutation { a: ` + guess(0) + ` ... on Mutation { b: ` + guess(1) + ` } }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertLimit(t, c.Do(tt.query, nil), "CREDENTIAL_BATCH")
		})
	}
	// One is fine, as is one beside other fields.
	if r := c.Do(`mutation { `+guess(0)+` }`, nil); r.Reason() != "INVALID_CREDENTIALS" {
		t.Fatalf("single login: %s", r)
	}
	c.Login("ann@example.com", "password-ann")
}

// TestRequestTimeout: with an execution budget too small for any database call, a query fails
// with TIMEOUT (not a masked internal error), and the server keeps answering.
func TestRequestTimeout(t *testing.T) {
	s := apptest.New(t, func(c *app.Config) { c.RequestTimeout = time.Nanosecond; c.ResponseCacheTTL = 0 })
	c := s.Client()
	r := c.Do(`{ products { names } }`, nil)
	if r.Code() != "TIMEOUT" || strings.Contains(r.Errors[0].Message, "context") {
		t.Fatalf("want TIMEOUT, got %s", r)
	}
	c.MustDo(`{ __typename }`, nil, nil) // no resolver, no deadline to miss
	if res, err := http.Get(s.URL + "/healthz"); err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz after timeouts: %v", err)
	}
}

// TestRequestTimeoutWhileWaitingForTheDatabase: a request whose database call is still waiting for a
// lock when REQUEST_TIMEOUT passes answers TIMEOUT, soon, on both databases. (Drivers report it in
// their own words: PostgreSQL an I/O timeout, SQLite "database is locked" after its busy timeout.)
func TestRequestTimeoutWhileWaitingForTheDatabase(t *testing.T) {
	const timeout = 500 * time.Millisecond
	s := newShop(t, func(c *app.Config) { c.RequestTimeout = timeout; c.ResponseCacheTTL = 0 })
	s.category(t, "Tools")
	ctx := context.Background()
	tx, err := s.App.DB.BeginTx(ctx, &sql.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	lock := "UPDATE categories SET product_count = product_count" // SQLite: the write lock
	if store.IsPostgres(s.App.DB) {
		lock = "LOCK TABLE categories IN ACCESS EXCLUSIVE MODE" // blocks reads too
	}
	if _, err := tx.ExecContext(ctx, lock); err != nil {
		t.Fatal(err)
	}
	requests := []string{`mutation { createCategory(name: "Garden") { id } }`}
	if store.IsPostgres(s.App.DB) {
		requests = append(requests, `{ categories { name } }`)
	}
	for _, doc := range requests {
		start := time.Now()
		r := s.user.Do(doc, nil)
		if took := time.Since(start); r.Code() != "TIMEOUT" || took > 5*timeout {
			t.Errorf("%s blocked by a lock: want TIMEOUT after about %v, got after %v: %s", doc, timeout, took, r)
		}
	}
}
