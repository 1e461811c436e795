package app

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// CORS: which web pages on other origins may call the API from a browser. Tokens travel in the
// Authorization header, never in cookies, so credentials mode is not needed and "*" is safe to
// allow: a page can only send a token its own script already holds.
const (
	corsExposeHeaders = "X-Request-Id"
	corsMaxAge        = "600" // seconds a browser may reuse a preflight answer
)

// corsDefaultHeaders are the request headers pages may send by default: those of the protocol and
// those today's GraphQL clients and tracing libraries add by themselves, so that turning one of
// them on does not break the preflight. CORS_ALLOWED_HEADERS adds more.
var corsDefaultHeaders = []string{
	"Accept", "Authorization", "Content-Type", "X-Request-Id",
	// Apollo Client's client awareness, and the CSRF-prevention headers Apollo's tooling sends.
	"apollographql-client-name", "apollographql-client-version", "apollo-require-preflight", "x-apollo-operation-name",
	// W3C Trace Context and Baggage (OpenTelemetry's browser SDK), and Sentry's tracing.
	"traceparent", "tracestate", "baggage", "sentry-trace",
}

// ParseCORSHeaders reads CORS_ALLOWED_HEADERS: comma-separated names of request headers pages may
// send besides corsDefaultHeaders. It returns those not among the defaults, each once (header names
// are compared without regard to case).
func ParseCORSHeaders(list string) ([]string, error) {
	var extra []string
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !isToken(item) {
			return nil, fmt.Errorf("%q is not a header name", item)
		}
		same := func(h string) bool { return strings.EqualFold(h, item) }
		if !slices.ContainsFunc(corsDefaultHeaders, same) && !slices.ContainsFunc(extra, same) {
			extra = append(extra, item)
		}
	}
	return extra, nil
}

// ParseCORSOrigins reads CORS_ALLOWED_ORIGINS: a comma-separated list of origins such as
// https://shop.example.com or http://localhost:3000 (scheme, host and optional port; nothing
// else), or "*" for any origin. Empty means none: browsers on other origins are refused. It returns
// them as browsers send them: in lower case, without the scheme's default port.
func ParseCORSOrigins(list string) ([]string, error) {
	var origins []string
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if item == "*" {
			origins = append(origins, item)
			continue
		}
		u, err := url.Parse(item)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("%q is not an origin such as https://shop.example.com", item)
		}
		// Browsers send origins in lower case, and without the scheme's default port.
		host := strings.ToLower(u.Host)
		if (u.Scheme == "https" && u.Port() == "443") || (u.Scheme == "http" && u.Port() == "80") {
			host = strings.TrimSuffix(host, ":"+u.Port())
		}
		origins = append(origins, strings.ToLower(u.Scheme)+"://"+host)
	}
	return origins, nil
}

// cors answers preflight requests and marks responses to allowed origins as readable by them.
// With no allowed origins it adds nothing, not even Vary, so the default has no cost. origins and
// extraHeaders are CORS_ALLOWED_ORIGINS and CORS_ALLOWED_HEADERS as their parsers return them.
func cors(origins, extraHeaders []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	allowHeaders := strings.Join(slices.Concat(corsDefaultHeaders, extraHeaders), ", ")
	anyOrigin := slices.Contains(origins, "*")
	allowed := func(origin string) bool { return anyOrigin || slices.Contains(origins, origin) }

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// The answer depends on Origin, so caches must not give one origin's answer to another.
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		preflight := r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != ""
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if !allowed(origin) {
				// The browser fails the preflight on any non-2xx status; 403 tells a developer why.
				http.Error(w, "origin not allowed", http.StatusForbidden)
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", graphQLAllow) // the methods /graphql answers
			h.Set("Access-Control-Allow-Headers", allowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if origin != "" && allowed(origin) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		}
		next.ServeHTTP(w, r)
	})
}

// isToken reports whether s is an HTTP token (RFC 9110, section 5.6.2), as a header name must be.
func isToken(s string) bool {
	for _, c := range []byte(s) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return s != ""
}
