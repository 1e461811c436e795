package graphiql_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/shopql/shopql/graphiql"
)

const wantCSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// do serves one request and returns the response with its body read.
func do(t *testing.T, h http.Handler, method, target string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func TestPage(t *testing.T) {
	h := graphiql.Handler(`shop<ql> & "co"`, "/graphql</script>")
	res, body := do(t, h, http.MethodGet, "/", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", res.StatusCode)
	}
	if got := res.Header.Get("Content-Security-Policy"); got != wantCSP {
		t.Errorf("Content-Security-Policy %q, want %q", got, wantCSP)
	}
	if got := res.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options %q, want DENY (no site may frame the page)", got)
	}
	if got := res.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	page := string(body)
	for _, want := range []string{
		`<title>shop&lt;ql&gt; &amp; &#34;co&#34;</title>`,
		`<link rel="stylesheet" href="./graphiql.css?v=`,
		`<script src="./graphiql.js?v=`,
		`<script type="application/json" id="graphiql-config">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Count(page, "</script>") != 2 {
		t.Errorf("endpoint not escaped: the page has other than 2 </script>:\n%s", page)
	}
	// Every script is either loaded from a URL or a JSON data block.
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(tag, ` src="`) && !strings.Contains(tag, ` type="application/json"`) {
			t.Errorf("inline script %s", tag)
		}
	}

	m := regexp.MustCompile(`id="graphiql-config">([^<]*)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no config element")
	}
	var cfg struct{ Title, Endpoint, DefaultQuery, HeadersPlaceholder string }
	if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
		t.Fatalf("config: %v", err)
	}
	if cfg.Title != `shop<ql> & "co"` || cfg.Endpoint != "/graphql</script>" {
		t.Errorf("config title %q, endpoint %q", cfg.Title, cfg.Endpoint)
	}
	if !strings.Contains(cfg.DefaultQuery, "query Catalog {") || !strings.Contains(cfg.HeadersPlaceholder, "Authorization") {
		t.Errorf("config default query %q, headers placeholder %q", cfg.DefaultQuery, cfg.HeadersPlaceholder)
	}

	// Revalidation.
	res, _ = do(t, h, http.MethodGet, "/", http.Header{"If-None-Match": {res.Header.Get("ETag")}})
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", res.StatusCode)
	}
}

func TestAssets(t *testing.T) {
	h := graphiql.Handler("shopql", "/graphql")
	_, page := do(t, h, http.MethodGet, "/", nil)
	for _, tc := range []struct{ name, contentType, marker string }{
		{"graphiql.js", "text/javascript; charset=utf-8", "graphiql-config"}, // the bundle reads the page's config
		{"graphiql.css", "text/css; charset=utf-8", ".graphiql-container"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := do(t, h, http.MethodGet, "/"+tc.name, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			if got := res.Header.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
			if res.Header.Get("Content-Encoding") != "" {
				t.Errorf("Content-Encoding %q without Accept-Encoding", res.Header.Get("Content-Encoding"))
			}
			if len(body) < 1000 || !bytes.Contains(body, []byte(tc.marker)) {
				t.Errorf("body of %d bytes lacks %q", len(body), tc.marker)
			}
			etag := res.Header.Get("ETag")
			if etag == "" || res.Header.Get("Cache-Control") != "no-cache" {
				t.Errorf("ETag %q, Cache-Control %q", etag, res.Header.Get("Cache-Control"))
			}

			res, body = do(t, h, http.MethodGet, "/"+tc.name, http.Header{"If-None-Match": {etag}})
			if res.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Errorf("If-None-Match: status %d, %d bytes; want 304, empty", res.StatusCode, len(body))
			}

			// The versioned URL from the page is cacheable for good.
			m := regexp.MustCompile(`"(\./` + regexp.QuoteMeta(tc.name) + `\?v=[0-9a-f]+)"`).FindSubmatch(page)
			if m == nil {
				t.Fatalf("page does not link %s", tc.name)
			}
			res, _ = do(t, h, http.MethodGet, string(m[1][1:]), nil)
			if got := res.Header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
				t.Errorf("versioned URL: Cache-Control %q", got)
			}
		})
	}
}

func TestGzip(t *testing.T) {
	h := graphiql.Handler("shopql", "/graphql")
	_, plain := do(t, h, http.MethodGet, "/graphiql.js", nil)

	res, body := do(t, h, http.MethodGet, "/graphiql.js", http.Header{"Accept-Encoding": {"br, gzip;q=0.8"}})
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", res.Header.Get("Content-Encoding"))
	}
	if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary %q", res.Header.Get("Vary"))
	}
	if len(body) >= len(plain) {
		t.Errorf("gzipped %d bytes, plain %d", len(body), len(plain))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unzipped, plain) {
		t.Error("gunzipped body differs from the plain one")
	}

	res, _ = do(t, h, http.MethodGet, "/graphiql.js", http.Header{"Accept-Encoding": {"gzip;q=0"}})
	if res.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0: Content-Encoding %q", res.Header.Get("Content-Encoding"))
	}
}

func TestHead(t *testing.T) {
	h := graphiql.Handler("shopql", "/graphql")
	for _, target := range []string{"/", "/graphiql.js", "/graphiql.css"} {
		get, getBody := do(t, h, http.MethodGet, target, nil)
		head, headBody := do(t, h, http.MethodHead, target, nil)
		if head.StatusCode != http.StatusOK || len(headBody) != 0 {
			t.Errorf("HEAD %s: status %d, %d bytes; want 200, empty", target, head.StatusCode, len(headBody))
		}
		if head.Header.Get("Content-Type") != get.Header.Get("Content-Type") ||
			head.Header.Get("Content-Length") != get.Header.Get("Content-Length") ||
			head.Header.Get("Content-Length") == "" {
			t.Errorf("HEAD %s: headers %v, GET headers %v (%d bytes)", target, head.Header, get.Header, len(getBody))
		}
	}
}

func TestNotFound(t *testing.T) {
	h := graphiql.Handler("shopql", "/graphql")
	for _, target := range []string{"/index.html", "/graphiql.js/", "/dist/graphiql.js", "/THIRD_PARTY_LICENSES.txt", "//graphiql.js", "/graphiql.js.gz"} {
		if res, _ := do(t, h, http.MethodGet, target, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, res.StatusCode)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := graphiql.Handler("shopql", "/graphql")
	res, _ := do(t, h, http.MethodPost, "/", nil)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: status %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
}

func TestStripPrefix(t *testing.T) {
	h := graphiql.Handler("shopql", "/graphql")
	for _, tc := range []struct {
		name string
		mux  *http.ServeMux
	}{
		{"prefix without slash", func() *http.ServeMux {
			mux := http.NewServeMux()
			mux.Handle("/tools/graphiql/", http.StripPrefix("/tools/graphiql", h))
			mux.Handle("/tools/graphiql", http.StripPrefix("/tools/graphiql", h))
			return mux
		}()},
		{"prefix with slash", func() *http.ServeMux {
			mux := http.NewServeMux()
			mux.Handle("/tools/graphiql/", http.StripPrefix("/tools/graphiql/", h))
			mux.Handle("/tools/graphiql", http.StripPrefix("/tools/graphiql", h))
			return mux
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res, _ := do(t, tc.mux, http.MethodGet, "/tools/graphiql/", nil); res.StatusCode != http.StatusOK ||
				res.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("page: status %d", res.StatusCode)
			}
			for _, asset := range []string{"graphiql.js", "graphiql.css"} {
				if res, body := do(t, tc.mux, http.MethodGet, "/tools/graphiql/"+asset, nil); res.StatusCode != http.StatusOK || len(body) == 0 {
					t.Errorf("%s: status %d, %d bytes", asset, res.StatusCode, len(body))
				}
			}
			if res, _ := do(t, tc.mux, http.MethodGet, "/tools/graphiql/nope", nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("unknown path: status %d, want 404", res.StatusCode)
			}
			res, _ := do(t, tc.mux, http.MethodGet, "/tools/graphiql?x=1", nil)
			if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "graphiql/?x=1" {
				t.Errorf("no trailing slash: status %d, Location %q; want 301, graphiql/?x=1", res.StatusCode, res.Header.Get("Location"))
			}
		})
	}
}
