// Package graphiql serves the GraphiQL IDE for a GraphQL endpoint, entirely
// from files embedded in the binary: no CDN and no Node.js at run time.
// Subscriptions go over a WebSocket to the same endpoint (graphql-ws), with the
// Headers tab as connection_init's payload.
//
// The JavaScript and CSS bundles in dist/ are built from the npm project in
// web/ (run `npm run build` there after changing it) and committed, so that
// the server builds with the Go toolchain alone.
package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed dist
var dist embed.FS

// contentSecurityPolicy is sent with the HTML page. The page has no inline
// script; GraphiQL sets inline styles and its stylesheet inlines fonts and
// images as data: URLs. No other site may frame the page (frame-ancestors;
// X-Frame-Options for browsers without CSP 2): a framing page could lure a
// user into running operations with the token in the headers editor
// (clickjacking).
const contentSecurityPolicy = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// defaultQuery fills the query editor on a first visit (afterwards GraphiQL
// restores the user's tabs from local storage).
const defaultQuery = `# shopql GraphQL API. Docs: book icon, top left.
#
# Without a token, products gives names only.
# For details and the @auth, @fresh and @admin
# operations, log in:
#  1. No account yet? Run Register below (put
#     the cursor in it, press Ctrl-Enter).
#  2. Run Login with the same email and password.
#  3. Copy its accessToken into Headers below:
#     {"Authorization": "Bearer <accessToken>"}
#  4. Run Catalog again: detailed is now true
#     and items are filled in.
#
# Tokens expire (UNAUTHENTICATED, extensions
# reason TOKEN_EXPIRED): run Refresh with the
# refreshToken from Login, then use the new
# accessToken (each refresh token works once).
#
# Live changes: subscription { productChanged
# { kind name } } runs over a WebSocket with the
# same Headers, until the token expires.

query Catalog {
  products(first: 5) {
    detailed
    names
    message
    totalCount
    items {
      name
      price
      quantity
      category {
        name
      }
    }
    pageInfo {
      endCursor
      hasNextPage
    }
  }
}

mutation Register {
  register(input: {email: "you@example.com", username: "you", password: "correct horse battery"}) {
    id
    email
  }
}

mutation Login {
  login(email: "you@example.com", password: "correct horse battery") {
    accessToken
    refreshToken
    accessTokenExpiresAt
    user {
      username
      isAdmin
    }
  }
}

mutation Refresh {
  refreshToken(token: "<refreshToken from Login>") {
    accessToken
    refreshToken
    accessTokenExpiresAt
  }
}
`

// headersPlaceholder is shown in the headers editor while it is empty.
const headersPlaceholder = `{"Authorization": "Bearer <accessToken from login>"}`

// asset is one embedded bundle.
type asset struct {
	contentType string
	body        []byte
	version     string // short content hash, used as ?v= in the page
	etag        string
	gzipETag    string
	gzipped     func() []byte // compresses body on first use
}

func newAsset(name, contentType string) *asset {
	body, err := dist.ReadFile("dist/" + name)
	if err != nil || len(body) == 0 {
		panic(fmt.Sprintf("graphiql: dist/%s is missing or empty; run `npm ci && npm run build` in graphiql/web", name))
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:12])
	return &asset{
		contentType: contentType,
		body:        body,
		version:     hash[:12],
		etag:        `"` + hash + `"`,
		gzipETag:    `"` + hash + `-gzip"`,
		gzipped: sync.OnceValue(func() []byte {
			// Neither the level nor writes to a bytes.Buffer can fail.
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(body)
			zw.Close()
			return buf.Bytes()
		}),
	}
}

// loadAssets reads and hashes the bundles once, on the first call to Handler.
var loadAssets = sync.OnceValues(func() (js, css *asset) {
	return newAsset("graphiql.js", "text/javascript; charset=utf-8"),
		newAsset("graphiql.css", "text/css; charset=utf-8")
})

// serve writes the asset, gzipped if the client accepts it. The page links
// the assets with ?v=<content hash>, so a request carrying the current hash
// may be cached for good; any other request must revalidate its ETag.
func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	if r.URL.Query().Get("v") == a.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body, etag := a.body, a.etag
	if acceptsGzip(r) {
		body, etag = a.gzipped(), a.gzipETag
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether the request's Accept-Encoding lists gzip with a
// non-zero quality.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			for param := range strings.SplitSeq(params, ";") {
				name, value, _ := strings.Cut(param, "=")
				if strings.EqualFold(strings.TrimSpace(name), "q") {
					q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
					return err == nil && q > 0
				}
			}
			return true
		}
	}
	return false
}

// config is read by the bundle from the page's #graphiql-config element.
type config struct {
	Title              string `json:"title"`
	Endpoint           string `json:"endpoint"`
	DefaultQuery       string `json:"defaultQuery"`
	HeadersPlaceholder string `json:"headersPlaceholder"`
}

// pageTemplate is filled with the HTML-escaped title, the asset versions and
// the config as JSON.
const pageTemplate = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="./graphiql.css?v=%s">
<script src="./graphiql.js?v=%s" defer></script>
</head>
<body>
<div id="graphiql"><noscript>GraphiQL needs JavaScript.</noscript></div>
<script type="application/json" id="graphiql-config">%s</script>
</body>
</html>
`

type handler struct {
	page     []byte
	pageETag string
	js, css  *asset
}

// Handler returns an http.Handler serving GraphiQL for the GraphQL endpoint
// at the URL endpoint (typically an absolute path such as "/graphql"), with
// title as page title and logo. It serves:
//
//   - at its root ("/"), the HTML page, with the Content-Security-Policy
//     "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'
//     data:; font-src 'self' data:; connect-src 'self'; worker-src 'self'
//     blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
//     (so endpoint must be on the same origin, and no site can frame the
//     page) and X-Frame-Options DENY;
//   - "/graphiql.js" and "/graphiql.css", the bundles the page loads by
//     relative URLs, with ETags and, when accepted, gzip encoding;
//   - 404 Not Found for any other path, 405 for methods other than GET and
//     HEAD.
//
// To serve it below a prefix, strip the prefix:
//
//	mux.Handle("/graphiql/", http.StripPrefix("/graphiql", graphiql.Handler("shopql", "/graphql")))
//
// A request for the prefix without its trailing slash ("/graphiql" if the
// handler is also mounted there) is redirected to "/graphiql/", so that the
// relative asset URLs resolve.
func Handler(title, endpoint string) http.Handler {
	js, css := loadAssets()
	cfg, err := json.Marshal(config{ // escapes <, > and &, so "</script>" cannot occur
		Title:              title,
		Endpoint:           endpoint,
		DefaultQuery:       defaultQuery,
		HeadersPlaceholder: headersPlaceholder,
	})
	if err != nil {
		panic(err) // strings always marshal
	}
	page := fmt.Appendf(nil, pageTemplate, html.EscapeString(title), css.version, js.version, cfg)
	sum := sha256.Sum256(page)
	return &handler{
		page:     page,
		pageETag: `"` + hex.EncodeToString(sum[:12]) + `"`,
		js:       js,
		css:      css,
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	// Paths are "/…" when mounted at "/" or below http.StripPrefix("/prefix"),
	// and have no leading slash below http.StripPrefix("/prefix/").
	switch strings.TrimPrefix(r.URL.Path, "/") {
	case "":
		if r.URL.Path == "" && redirectToDir(w, r) {
			return
		}
		h.servePage(w, r)
	case "graphiql.js":
		h.js.serve(w, r)
	case "graphiql.css":
		h.css.serve(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("ETag", h.pageETag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.page))
}

// redirectToDir handles a request whose path a StripPrefix has emptied. If
// the client asked for "/prefix", it redirects to "/prefix/" (by a relative
// reference, as the prefix is unknown here) and returns true.
func redirectToDir(w http.ResponseWriter, r *http.Request) bool {
	u, err := url.ParseRequestURI(r.RequestURI)
	if err != nil || u.Path == "" || strings.HasSuffix(u.Path, "/") {
		return false
	}
	target := &url.URL{Path: path.Base(u.Path) + "/", RawQuery: u.RawQuery}
	w.Header().Set("Location", target.String())
	w.WriteHeader(http.StatusMovedPermanently)
	return true
}
