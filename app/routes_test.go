package app_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
)

// TestRouteLabels: the route each request counts under (shopql_http_requests_total, and the log
// level), through the real handler: every route's own path under every method, GraphiQL's assets
// as one, CORS preflights answered before the mux under the route they ask about, and every other
// path under "other", so that the labels stay few whatever paths clients ask for.
func TestRouteLabels(t *testing.T) {
	const origin = "https://shop.example.com"
	s := apptest.New(t, func(c *app.Config) { c.CORSAllowedOrigins = parsed(t, app.ParseCORSOrigins, origin) })
	noGraphiQL := apptest.New(t, func(c *app.Config) { c.GraphiQL = false })
	ownMetrics := apptest.New(t, func(c *app.Config) { c.MetricsAddr = "127.0.0.1:0" }) // not served on this handler
	preflight := map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST"}
	for _, tt := range []struct {
		server       *apptest.Server
		method, path string
		header       map[string]string
		status       int
		route        string
	}{
		{s, "POST", "/graphql", map[string]string{"Content-Type": "application/json"}, 400, "/graphql"},
		{s, "GET", "/graphql?query={__typename}", nil, 200, "/graphql"},
		{s, "DELETE", "/graphql", nil, 405, "/graphql"},
		{s, "OPTIONS", "/graphql", preflight, 204, "/graphql"},
		{s, "GET", "/healthz", nil, 200, "/healthz"},
		{s, "HEAD", "/healthz", nil, 200, "/healthz"},
		{s, "POST", "/healthz", nil, 405, "/healthz"},
		{s, "OPTIONS", "/healthz", preflight, 204, "/healthz"},
		{s, "GET", "/readyz", nil, 200, "/readyz"},
		{s, "PUT", "/readyz", nil, 405, "/readyz"},
		{s, "GET", "/.well-known/jwks.json", nil, 200, "/.well-known/jwks.json"},
		{s, "POST", "/.well-known/jwks.json", nil, 405, "/.well-known/jwks.json"},
		{s, "GET", "/metrics", nil, 200, "/metrics"},
		{s, "POST", "/metrics", nil, 405, "/metrics"},
		{s, "GET", "/", nil, 200, "/"},
		{s, "POST", "/", nil, 405, "/"},
		{s, "GET", "/graphiql.js", nil, 200, "/graphiql"},
		{s, "GET", "/graphiql.css?v=1", nil, 200, "/graphiql"},
		{s, "POST", "/graphiql.js", nil, 405, "/graphiql"},
		{s, "GET", "/nope", nil, 404, "other"},
		{s, "POST", "/nope", nil, 405, "other"}, // GraphiQL's handler answers what no route serves
		{s, "OPTIONS", "/nope", preflight, 204, "other"},
		{s, "GET", "/graphql/", nil, 404, "other"},
		{s, "GET", "/healthz/", nil, 404, "other"},
		{s, "GET", "/HEALTHZ", nil, 404, "other"},
		{s, "GET", "/graphiql.js/x", nil, 404, "other"},
		{s, "GET", "/.well-known/", nil, 404, "other"},
		{s, "GET", "/index.html", nil, 404, "other"},
		{s, "GET", "/favicon.ico", nil, 404, "other"},
		{s, "GET", "/{$}", nil, 404, "other"},
		{s, "GET", "//nope", nil, 307, "other"},
		{noGraphiQL, "GET", "/healthz", nil, 200, "/healthz"},
		{noGraphiQL, "POST", "/healthz", nil, 405, "/healthz"},
		{noGraphiQL, "GET", "/nope", nil, 404, "other"},
		{noGraphiQL, "POST", "/nope", nil, 404, "other"},
		// A route switched off answers as an unknown path, under its own label still.
		{noGraphiQL, "GET", "/", nil, 404, "/"},
		{noGraphiQL, "POST", "/", nil, 404, "/"},
		{noGraphiQL, "GET", "/graphiql.js", nil, 404, "/graphiql"},
		{noGraphiQL, "GET", "/metrics", nil, 200, "/metrics"},
		{ownMetrics, "GET", "/metrics", nil, 404, "/metrics"},
		{ownMetrics, "POST", "/metrics", nil, 405, "/metrics"},
		// The mux redirects a path to its clean form, under the route it names.
		{s, "GET", "//healthz", nil, 307, "/healthz"},
		{s, "GET", "/graphiql.js/../readyz", nil, 307, "/readyz"},
	} {
		before := routeCounts(t, tt.server)
		req := httptest.NewRequest(tt.method, tt.path, nil)
		for k, v := range tt.header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		tt.server.App.Handler().ServeHTTP(rec, req)
		if rec.Code != tt.status {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, rec.Code, tt.status)
		}
		after := routeCounts(t, tt.server)
		for route, n := range after {
			want := before[route]
			if route == tt.route {
				want++
			}
			if n != want {
				t.Errorf("%s %s: %d more requests counted under route %q, want %d (route %q)", tt.method, tt.path, n-before[route], route, want-before[route], tt.route)
			}
		}
		if _, ok := after[tt.route]; !ok {
			t.Errorf("%s %s: nothing counted under route %q", tt.method, tt.path, tt.route)
		}
	}
}

var requestsSeries = regexp.MustCompile(`^shopql_http_requests_total\{code="\d+",route="([^"]*)"\} (\d+)$`)

// routeCounts reads the requests counted per route from the metrics, through MetricsHandler, which
// is not itself counted.
func routeCounts(t *testing.T, s *apptest.Server) map[string]int {
	t.Helper()
	rec := httptest.NewRecorder()
	s.App.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	counts := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(rec.Body.String()))
	for sc.Scan() {
		if m := requestsSeries.FindStringSubmatch(sc.Text()); m != nil {
			n, _ := strconv.Atoi(m[2])
			counts[m[1]] += n
		}
	}
	return counts
}
