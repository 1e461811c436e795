package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines to write while a test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// loggedServer starts a server whose log, in JSON at debug level, goes to the returned buffer.
func loggedServer(t *testing.T, adjust ...func(*app.Config)) (*apptest.Server, *syncBuffer) {
	t.Helper()
	cfg := apptest.Config(t)
	for _, f := range adjust {
		f(&cfg)
	}
	logs := &syncBuffer{}
	a, err := app.New(context.Background(), cfg, app.NewLogger(logs, "json", slog.LevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	return apptest.Serve(t, cfg, a), logs
}

// requestLines returns the per-request log lines, decoded.
func requestLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if line["msg"] == "request" {
			lines = append(lines, line)
		}
	}
	return lines
}

// TestRequestLogNeverHoldsSecrets drives a whole session, including failures and a secret sent
// in a GET query string, and checks that no password, token or password hash reaches the log.
func TestRequestLogNeverHoldsSecrets(t *testing.T) {
	s, logs := loggedServer(t)
	c := s.Client()
	const email, password = "secret@example.com", "correct-horse-battery"
	c.Register(email, password)
	tok := c.Login(email, password)
	if r := c.Do(`mutation { login(email: "secret@example.com", password: "wrong-password-123") { accessToken } }`, nil); r.Reason() != "INVALID_CREDENTIALS" {
		t.Fatalf("bad login: %s", r)
	}
	var refreshed struct{ RefreshToken apptest.Tokens }
	c.MustDo(`mutation($t: String) { refreshToken(token: $t) { accessToken refreshToken } }`, map[string]any{"t": tok.RefreshToken}, &refreshed)
	c.WithToken(tok.AccessToken).MustDo(`query Me { me { id } }`, nil, nil)
	c.WithToken(refreshed.RefreshToken.AccessToken).MustDo(`mutation Bye { logout }`, nil, nil)
	if r := c.WithToken(tok.AccessToken).Do(`{ me { id } }`, nil); r.Reason() != "TOKEN_REVOKED" {
		t.Fatalf("after logout: %s", r)
	}
	get := "/graphql?query=" + url.QueryEscape(`query($p: String) { __typename }`) + "&variables=" + url.QueryEscape(`{"p":"`+password+`"}`)
	if r := send(t, s, "GET", get, "", map[string]string{"Authorization": "Bearer " + tok.RefreshToken}); r.status != 200 {
		t.Fatalf("GET: %d %s", r.status, r.text)
	}

	var hash string
	if err := s.App.DB.NewRaw("SELECT password_hash FROM users WHERE email = ?", email).Scan(context.Background(), &hash); err != nil || hash == "" {
		t.Fatalf("read hash: %v", err)
	}
	out := logs.String()
	secrets := map[string]string{
		"password": password, "access token": tok.AccessToken, "refresh token": tok.RefreshToken,
		"rotated access token": refreshed.RefreshToken.AccessToken, "rotated refresh token": refreshed.RefreshToken.RefreshToken,
		"password hash": hash, "wrong password": "wrong-password-123", "device token": tok.DeviceToken,
	}
	// A JWT's signature alone would be as bad as the whole token.
	secrets["access token signature"] = tok.AccessToken[strings.LastIndex(tok.AccessToken, ".")+1:]
	for what, secret := range secrets {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds the %s", what)
		}
	}
	if n := len(requestLines(t, out)); n != 8 {
		t.Errorf("%d request lines for 8 requests:\n%s", n, out)
	}
}

// TestRequestLogLine checks the fields of the line each request gets, and the request id.
func TestRequestLogLine(t *testing.T) {
	s, logs := loggedServer(t)
	body := `{"query":"query Who { me { id } }"}`
	sent := send(t, s, "POST", "/graphql", body, map[string]string{"Content-Type": "application/json", "X-Request-Id": "edge-42.a:b_c"})
	forged := send(t, s, "POST", "/graphql", body, map[string]string{"Content-Type": "application/json", "X-Request-Id": "x\" level=ERROR msg=forged"})
	generated := send(t, s, "GET", "/healthz", "", nil)

	if got := sent.header.Get("X-Request-Id"); got != "edge-42.a:b_c" {
		t.Errorf("a sane incoming request id is kept; got %q", got)
	}
	forgedID := forged.header.Get("X-Request-Id")
	if forgedID == "" || strings.ContainsAny(forgedID, "\" =") {
		t.Errorf("an unsafe request id is replaced; got %q", forgedID)
	}
	if generated.header.Get("X-Request-Id") == "" {
		t.Error("a request without an id gets one")
	}

	lines := requestLines(t, logs.String())
	if len(lines) != 3 {
		t.Fatalf("%d request lines, want 3:\n%s", len(lines), logs)
	}
	want := map[string]any{
		"request_id": "edge-42.a:b_c", "method": "POST", "path": "/graphql", "status": 200.0,
		"operation": "Who", "op_type": "query", "outcome": "error", "codes": "UNAUTHENTICATED", "reasons": "TOKEN_MISSING",
		"level": "INFO",
	}
	for k, v := range want {
		if lines[0][k] != v {
			t.Errorf("%s = %v, want %v (line %v)", k, lines[0][k], v, lines[0])
		}
	}
	if d, ok := lines[0]["duration_ms"].(float64); !ok || d <= 0 {
		t.Errorf("duration_ms = %v", lines[0]["duration_ms"])
	}
	if lines[1]["request_id"] != forgedID {
		t.Errorf("the log line carries the id the response does: %v vs %q", lines[1]["request_id"], forgedID)
	}
	if lines[2]["level"] != "DEBUG" || lines[2]["path"] != "/healthz" || lines[2]["outcome"] != "ok" {
		t.Errorf("probe line: %v", lines[2])
	}
}

// TestCORS checks preflight answers and response headers for allowed and other origins, and
// that by default no origin is allowed.
func TestCORS(t *testing.T) {
	const allowed = "https://shop.example.com"
	s := apptest.New(t, func(c *app.Config) {
		c.CORSAllowedOrigins = parsed(t, app.ParseCORSOrigins, allowed+", http://localhost:3000")
	})
	preflight := func(s *apptest.Server, origin string) rawResponse {
		return send(t, s, "OPTIONS", "/graphql", "", map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "authorization,content-type",
		})
	}

	r := preflight(s, allowed)
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != allowed {
		t.Fatalf("preflight from an allowed origin: %d %v", r.status, r.header)
	}
	for _, h := range []string{"Authorization", "Content-Type"} {
		if !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), h) {
			t.Errorf("preflight does not allow %s: %v", h, r.header)
		}
	}
	if !strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight does not allow POST: %v", r.header)
	}
	if !hasVaryOrigin(r.header) {
		t.Errorf("preflight lacks Vary: Origin: %v", r.header)
	}

	r = preflight(s, "https://evil.example.com")
	if r.status != http.StatusForbidden || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %v", r.status, r.header)
	}

	// An origin configured with its scheme's default port (or in upper case) matches what browsers
	// send: no default port, lower case.
	withPort := apptest.New(t, func(c *app.Config) {
		c.CORSAllowedOrigins = parsed(t, app.ParseCORSOrigins, "HTTPS://Shop.Example.com:443")
	})
	if r := preflight(withPort, allowed); r.status != http.StatusNoContent {
		t.Errorf("origin configured with :443, browser sends %s: preflight %d", allowed, r.status)
	}

	post := send(t, s, "POST", "/graphql", `{"query":"{ __typename }"}`, map[string]string{"Content-Type": "application/json", "Origin": allowed})
	if post.header.Get("Access-Control-Allow-Origin") != allowed || !hasVaryOrigin(post.header) ||
		!strings.Contains(post.header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
		t.Errorf("POST from an allowed origin: %v", post.header)
	}
	post = send(t, s, "POST", "/graphql", `{"query":"{ __typename }"}`, map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example.com"})
	if post.header.Get("Access-Control-Allow-Origin") != "" || !hasVaryOrigin(post.header) {
		t.Errorf("POST from another origin: %v", post.header)
	}

	closed := apptest.New(t)
	if r := preflight(closed, allowed); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("by default no origin is allowed: %v", r.header)
	}

	open := apptest.New(t, func(c *app.Config) { c.CORSAllowedOrigins = parsed(t, app.ParseCORSOrigins, "*") })
	if r := preflight(open, "http://anything.test:8000"); r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "http://anything.test:8000" {
		t.Errorf("* allows any origin: %d %v", r.status, r.header)
	}
}

// TestCORSAllowedHeaders: the preflight allows the headers today's clients add by themselves
// (Apollo's client awareness, W3C trace context, Sentry), and those CORS_ALLOWED_HEADERS names.
func TestCORSAllowedHeaders(t *testing.T) {
	const origin = "https://shop.example.com"
	s := apptest.New(t, func(c *app.Config) {
		c.CORSAllowedOrigins = parsed(t, app.ParseCORSOrigins, origin)
		c.CORSAllowedHeaders = parsed(t, app.ParseCORSHeaders, " X-Shop-Tenant ,, traceparent")
	})
	r := send(t, s, "OPTIONS", "/graphql", "", map[string]string{
		"Origin": origin, "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "apollographql-client-name,apollographql-client-version,content-type,traceparent",
	})
	allowed := map[string]int{}
	for h := range strings.SplitSeq(r.header.Get("Access-Control-Allow-Headers"), ",") {
		allowed[strings.ToLower(strings.TrimSpace(h))]++
	}
	for _, h := range []string{
		"authorization", "content-type", "apollographql-client-name", "apollographql-client-version",
		"apollo-require-preflight", "x-apollo-operation-name", "traceparent", "tracestate", "baggage", "sentry-trace",
		"x-shop-tenant",
	} {
		if allowed[h] != 1 {
			t.Errorf("preflight allows %s %d times: %v", h, allowed[h], r.header)
		}
	}
	for _, bad := range []string{"X Bad", "x-a:b", "caf\u00e9"} {
		if _, err := app.LoadConfig(nil, func(k string) string { return map[string]string{"CORS_ALLOWED_HEADERS": bad}[k] }, io.Discard); err == nil ||
			!strings.Contains(err.Error(), "CORS_ALLOWED_HEADERS") {
			t.Errorf("CORS_ALLOWED_HEADERS=%q: %v", bad, err)
		}
	}
}

func hasVaryOrigin(h http.Header) bool {
	for _, v := range h.Values("Vary") {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), "Origin") {
				return true
			}
		}
	}
	return false
}

// TestOperationsSettings checks the validation of the settings added for operations.
func TestOperationsSettings(t *testing.T) {
	cases := []struct {
		env map[string]string
		ok  bool
	}{
		{map[string]string{"CORS_ALLOWED_ORIGINS": "https://a.example, http://localhost:3000"}, true},
		{map[string]string{"CORS_ALLOWED_ORIGINS": "*"}, true},
		{map[string]string{"CORS_ALLOWED_ORIGINS": "https://a.example/app"}, false},
		{map[string]string{"CORS_ALLOWED_ORIGINS": "a.example"}, false},
		{map[string]string{"METRICS": "false"}, true},
		{map[string]string{"METRICS": "sometimes"}, false},
		{map[string]string{"METRICS_ADDR": "127.0.0.1:9090"}, true},
		{map[string]string{"METRICS_ADDR": ":9090"}, true},
		{map[string]string{"METRICS_ADDR": "9090"}, false},
		{map[string]string{"METRICS_ADDR": "127.0.0.1:"}, false},
		{map[string]string{"METRICS_ADDR": "127.0.0.1:9090", "METRICS": "false"}, false},
		{map[string]string{"LOG_LEVEL": "debug"}, true},
		{map[string]string{"LOG_LEVEL": "WARN"}, true},
		{map[string]string{"LOG_LEVEL": "verbose"}, false},
		{map[string]string{"PORT": "eighty"}, false},
		{map[string]string{"JWT_SECRET": "12345678901234567890123456789012"}, false}, // jwt_tool's wordlist
		{map[string]string{"JWT_SECRET": "secretsecretsecretsecretsecretsecret"}, false},
		{map[string]string{"JWT_SECRET": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, false},
		{map[string]string{"JWT_SECRET": "short"}, false},
		{map[string]string{"JWT_SECRET": "q0HkV9u3mXg7Lr2bZt8Nw5Yc1Pj6Fs4Da+Ee/Rx0Ko3Ti9Ul2Wm8Bn7Ah5Cz1Gv6"}, true}, // openssl rand -base64 48
		{map[string]string{"JWT_LEEWAY": "30s"}, true},
		{map[string]string{"JWT_LEEWAY": "-1s"}, false},
		{map[string]string{"JWT_LEEWAY": "2h"}, false}, // past the hourly clean-up of dead sessions
	}
	for _, c := range cases {
		_, err := app.LoadConfig(nil, func(k string) string { return c.env[k] }, io.Discard)
		if (err == nil) != c.ok {
			t.Errorf("%v: err = %v", c.env, err)
		}
	}
}

// TestFlagsWinOverTheEnvironment: a flag overrides its variable, even a malformed one, and the usage
// text (printed for -h and on any flag error) never shows a value from the environment.
func TestFlagsWinOverTheEnvironment(t *testing.T) {
	env := map[string]string{"PORT": "eighty", "DATABASE_URL": "postgres://shop:s3cret-pw@db:5432/shop", "LOG_LEVEL": "warn"}
	getenv := func(k string) string { return env[k] }
	cfg, err := app.LoadConfig([]string{"-port", "8081"}, getenv, io.Discard)
	if err != nil || cfg.Port != 8081 || cfg.LogLevel != slog.LevelWarn || cfg.DatabaseURL != env["DATABASE_URL"] {
		t.Fatalf("-port 8081 with PORT=eighty: %+v, %v", cfg, err)
	}
	var usage strings.Builder
	if _, err := app.LoadConfig([]string{"-prot", "8081"}, getenv, &usage); err == nil {
		t.Fatal("an unknown flag was accepted")
	}
	if strings.Contains(usage.String(), "s3cret-pw") || !strings.Contains(usage.String(), "-database-url") {
		t.Fatalf("usage text shows the environment's database password, or no settings:\n%s", usage.String())
	}
}

// TestMetrics checks the series /metrics serves after a few requests, and that METRICS=false
// removes the endpoint.
func TestMetrics(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	c.Register("m@example.com", "password-123")
	c.Login("m@example.com", "password-123")
	c.Do(`mutation Login { login(email: "m@example.com", password: "nope-nope-nope") { accessToken } }`, nil)
	c.Do(`query Me { me { id } }`, nil)
	c.WithToken("not-a-token").Do(`query Me { me { id } }`, nil)
	c.Do(`{ nope }`, nil)

	r := send(t, s, "GET", "/metrics", "", nil)
	if r.status != 200 {
		t.Fatalf("/metrics: %d", r.status)
	}
	for _, line := range []string{
		`shopql_graphql_requests_total{operation="Login",outcome="error",type="mutation"} 1`,
		`shopql_graphql_requests_total{operation="Me",outcome="error",type="query"} 2`,
		`shopql_graphql_requests_total{operation="anonymous",outcome="ok",type="mutation"} 2`,
		`shopql_graphql_requests_total{operation="none",outcome="error",type="none"} 1`,
		`shopql_graphql_request_duration_seconds_count{operation="Me",type="query"} 2`,
		`shopql_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"} 1`,
		`shopql_graphql_errors_total{code="UNAUTHENTICATED"} 3`,
		`shopql_auth_failures_total{reason="INVALID_CREDENTIALS"} 1`,
		`shopql_auth_failures_total{reason="TOKEN_MISSING"} 1`,
		`shopql_auth_failures_total{reason="TOKEN_INVALID"} 1`,
		`shopql_auth_failures_total{reason="TOKEN_EXPIRED"} 0`,
		`shopql_http_requests_total{code="200",route="/graphql"} 6`,
		`shopql_http_request_duration_seconds_count{route="/graphql"} 6`,
		`go_sql_max_open_connections{db_name="shopql"}`,
		`go_goroutines `,
	} {
		if !strings.Contains(r.text, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}

	off := apptest.New(t, func(c *app.Config) { c.Metrics = false })
	if r := send(t, off, "GET", "/metrics", "", nil); r.status != http.StatusNotFound {
		t.Errorf("METRICS=false still serves /metrics: %d", r.status)
	}
}

// TestProbes checks that /healthz answers while the process lives and /readyz only while the
// database answers.
func TestProbes(t *testing.T) {
	s := apptest.New(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := send(t, s, "GET", path, "", nil); r.status != http.StatusOK {
			t.Errorf("%s: %d %s", path, r.status, r.text)
		}
	}
	if err := s.App.DB.Close(); err != nil { // the database becomes unreachable
		t.Fatal(err)
	}
	if r := send(t, s, "GET", "/readyz", "", nil); r.status != http.StatusServiceUnavailable {
		t.Errorf("/readyz without a database: %d %s", r.status, r.text)
	}
	if r := send(t, s, "GET", "/healthz", "", nil); r.status != http.StatusOK {
		t.Errorf("/healthz without a database: %d %s", r.status, r.text)
	}
}

// TestAdminAccountIsLogged: start-up says when ADMIN_EMAIL created the account, and says nothing
// more when it exists already; never the password.
func TestAdminAccountIsLogged(t *testing.T) {
	cfg := apptest.Config(t)
	apptest.WithAdmin(&cfg)
	for i, want := range []int{1, 0} {
		logs := &syncBuffer{}
		a, err := app.New(context.Background(), cfg, app.NewLogger(logs, "json", slog.LevelInfo))
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		out := logs.String()
		if got := strings.Count(out, "created the admin account"); got != want || (want == 1 && !strings.Contains(out, apptest.AdminEmail)) {
			t.Errorf("start %d: %d lines about creating the admin, want %d:\n%s", i, got, want, out)
		}
		if strings.Contains(out, "made the existing account an admin") {
			t.Errorf("start %d: the account is said to be promoted:\n%s", i, out)
		}
		if strings.Contains(out, apptest.AdminPassword) {
			t.Errorf("the log holds the admin password:\n%s", out)
		}
	}
}

// TestRefusalsAreLogged: requests the HTTP layer refuses, and documents refused for @defer, are
// logged and counted with the code the client got.
func TestRefusalsAreLogged(t *testing.T) {
	s, logs := loggedServer(t)
	send(t, s, "GET", "/graphql?query="+url.QueryEscape(`mutation { logout }`), "", nil)
	send(t, s, "POST", "/graphql", `{ __typename }`, map[string]string{"Content-Type": "text/plain"})
	send(t, s, "POST", "/graphql", `{"query":"{ ... @defer { __typename } }"}`, map[string]string{"Content-Type": "application/json"})
	lines := requestLines(t, logs.String())
	want := []struct{ code, outcome string }{
		{"METHOD_NOT_ALLOWED", "rejected"},
		{"UNSUPPORTED_MEDIA_TYPE", "rejected"},
		{"GRAPHQL_VALIDATION_FAILED", "error"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d request lines, want %d:\n%s", len(lines), len(want), logs)
	}
	for i, w := range want {
		if lines[i]["codes"] != w.code || lines[i]["outcome"] != w.outcome {
			t.Errorf("line %d: codes %v, outcome %v; want %s, %s", i, lines[i]["codes"], lines[i]["outcome"], w.code, w.outcome)
		}
	}
	metrics := send(t, s, "GET", "/metrics", "", nil).text
	for _, w := range want {
		if !strings.Contains(metrics, `code="`+w.code+`"`) {
			t.Errorf("/metrics counts no error with code %s", w.code)
		}
	}
}
