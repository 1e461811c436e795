// Package apptest builds a whole shop server on a fresh database for tests, and a small GraphQL
// client to drive it over real HTTP.
//
// The database is a SQLite file in the test's temporary directory, or, when TEST_DATABASE_URL names a
// PostgreSQL database, a schema of its own in it that is dropped when the test ends. Tests never
// share data.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/store"
)

// Server is a running shop server backed by a fresh database.
type Server struct {
	t      testing.TB
	Config app.Config
	App    *app.App
	HTTP   *httptest.Server
	URL    string // base URL, without a trailing slash
}

// Config returns the settings tests start from: the defaults, a fresh database, and cheap password
// hashing so that tests and the race detector do not spend their time in argon2.
func Config(t testing.TB) app.Config {
	t.Helper()
	cfg, err := app.LoadConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.PasswordHashMemoryKiB = 64
	cfg.PasswordHashIterations = 1
	cfg.JWTLeeway = 0
	cfg.LogLevel = slog.LevelWarn
	if url := os.Getenv("TEST_DATABASE_URL"); url != "" {
		cfg.DatabaseURL, cfg.SearchPath = url, freshSchema(t, url)
	} else {
		cfg.DatabaseURL = filepath.Join(t.TempDir(), "shop.db")
	}
	return cfg
}

// New starts a server on a fresh database; adjust, if given, changes its settings first.
func New(t testing.TB, adjust ...func(*app.Config)) *Server {
	t.Helper()
	cfg := Config(t)
	for _, f := range adjust {
		f(&cfg)
	}
	return Start(t, cfg)
}

// Start starts a server with exactly cfg (on whatever data its database already holds).
func Start(t testing.TB, cfg app.Config) *Server {
	t.Helper()
	a, err := app.New(context.Background(), cfg, Logger(t, cfg.LogLevel))
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	return Serve(t, cfg, a)
}

// Serve serves an App started by the caller (for instance several at once, from goroutines) over
// HTTP until the test ends.
func Serve(t testing.TB, cfg app.Config, a *app.App) *Server {
	// a.Handler() on every request, not once: a test may rebuild the handler (app.AdjustSchemaForTest).
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.Handler().ServeHTTP(w, r) }))
	s := &Server{t: t, Config: cfg, App: a, HTTP: hs, URL: hs.URL}
	t.Cleanup(s.Close)
	return s
}

// Close stops the server; it is safe to call more than once.
func (s *Server) Close() {
	if s.HTTP == nil {
		return
	}
	s.HTTP.Close()
	if err := s.App.Close(); err != nil {
		s.t.Errorf("close app: %v", err)
	}
	s.HTTP = nil
}

// Restart stops the server and starts a new one on the same database and settings.
func (s *Server) Restart() *Server {
	s.t.Helper()
	s.Close()
	return Start(s.t, s.Config)
}

// Client returns a GraphQL client without a token.
func (s *Server) Client() *Client { return &Client{t: s.t, URL: s.URL + "/graphql"} }

// Logger writes the server's log into the test's log.
func Logger(t testing.TB, level slog.Level) *slog.Logger {
	return app.NewLogger(testWriter{t}, "text", level)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// freshSchema creates an empty PostgreSQL schema for one test and drops it afterwards.
func freshSchema(t testing.TB, url string) string {
	t.Helper()
	if !store.IsPostgresURL(url) {
		t.Fatalf("TEST_DATABASE_URL must be a postgres:// URL, got %q", url)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	db, err := store.Open(context.Background(), url, store.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := store.Open(context.Background(), url, store.Options{MaxOpenConns: 1})
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	return schema
}

// Client sends GraphQL requests; Token, when set, goes in the Authorization header.
type Client struct {
	t     testing.TB
	URL   string
	Token string
}

// WithToken returns a copy of the client that sends token.
func (c *Client) WithToken(token string) *Client {
	cc := *c
	cc.Token = token
	return &cc
}

// Response is a GraphQL response.
type Response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is extensions.code of the first error, or "" when there is none.
func (r *Response) Code() string { return r.ext("code") }

// Reason is extensions.reason of the first error, or "".
func (r *Response) Reason() string { return r.ext("reason") }

func (r *Response) ext(key string) string {
	if len(r.Errors) == 0 {
		return ""
	}
	s, _ := r.Errors[0].Extensions[key].(string)
	return s
}

// Decode unmarshals data into v.
func (r *Response) Decode(v any) error { return json.Unmarshal(r.Data, v) }

// Do posts a GraphQL document with variables (which may be nil) and decodes the response.
func (c *Client) Do(query string, vars map[string]any) *Response {
	c.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		c.t.Fatal(err)
	}
	return c.Post(body, nil)
}

// Post sends a raw request body with extra headers and decodes the GraphQL response.
func (c *Client) Post(body []byte, header http.Header) *Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return c.Send(req)
}

// Send sends req and decodes the GraphQL response.
func (c *Client) Send(req *http.Request) *Response {
	c.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	out := &Response{Status: res.StatusCode}
	if err := json.Unmarshal(raw, out); err != nil {
		c.t.Fatalf("response is not JSON (status %d): %s", res.StatusCode, raw)
	}
	return out
}

// MustDo is Do that fails the test on any GraphQL error and decodes data into v (if not nil).
func (c *Client) MustDo(query string, vars map[string]any, v any) {
	c.t.Helper()
	r := c.Do(query, vars)
	if len(r.Errors) > 0 {
		c.t.Fatalf("unexpected errors: %+v\nquery: %s", r.Errors, query)
	}
	if v != nil {
		if err := r.Decode(v); err != nil {
			c.t.Fatal(err)
		}
	}
}

// Tokens are what login and refreshToken return.
type Tokens struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	DeviceToken  string `json:"deviceToken"`
	User         struct {
		ID      string `json:"id"`
		IsAdmin bool   `json:"isAdmin"`
	} `json:"user"`
}

// Register creates an account and returns its ID.
func (c *Client) Register(email, password string) string {
	c.t.Helper()
	var out struct {
		Register struct{ ID string } `json:"register"`
	}
	c.MustDo(`mutation($in: RegisterInput!) { register(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"email": email, "username": strings.Split(email, "@")[0], "password": password}}, &out)
	return out.Register.ID
}

// Login logs in and returns the tokens.
func (c *Client) Login(email, password string) Tokens {
	c.t.Helper()
	var out struct{ Login Tokens }
	c.MustDo(loginMutation, map[string]any{"email": email, "password": password}, &out)
	return out.Login
}

const loginMutation = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken refreshToken deviceToken user { id isAdmin } }
}`

// User registers an account, logs it in and returns a client carrying its fresh access token.
func (c *Client) User(email string) (*Client, Tokens) {
	c.t.Helper()
	c.Register(email, "password-"+email)
	tok := c.Login(email, "password-"+email)
	return c.WithToken(tok.AccessToken), tok
}

// Admin starts the server's admin account. Use with a server configured by WithAdmin.
func (c *Client) Admin() (*Client, Tokens) {
	c.t.Helper()
	tok := c.Login(AdminEmail, AdminPassword)
	return c.WithToken(tok.AccessToken), tok
}

// The admin account WithAdmin configures.
const (
	AdminEmail    = "admin@example.com"
	AdminPassword = "admin-password"
)

// WithAdmin configures the admin account created at start-up.
func WithAdmin(c *app.Config) { c.AdminEmail, c.AdminPassword = AdminEmail, AdminPassword }

// String renders the response for failure messages.
func (r *Response) String() string {
	b, _ := json.Marshal(r)
	return fmt.Sprintf("status %d: %s", r.Status, b)
}
