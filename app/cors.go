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
	corsAllowMethods  = "GET, POST, OPTIONS"
	corsAllowHeaders  = "Accept, Authorization, Content-Type, X-Request-Id"
	corsExposeHeaders = "X-Request-Id"
	corsMaxAge        = "600" // seconds a browser may reuse a preflight answer
)

// parseOrigins reads CORS_ALLOWED_ORIGINS: a comma-separated list of origins such as
// https://shop.example.com or http://localhost:3000 (scheme, host and optional port; nothing
// else), or "*" for any origin. Empty means none: browsers on other origins are refused.
func parseOrigins(list string) ([]string, error) {
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
			return nil, fmt.Errorf("CORS_ALLOWED_ORIGINS: %q is not an origin such as https://shop.example.com", item)
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
// With no allowed origins it adds nothing, not even Vary, so the default has no cost.
func cors(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
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
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
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
