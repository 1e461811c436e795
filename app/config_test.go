package app_test

import (
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/shopql/shopql/app"
)

// parsed is what parse (one of app's setting parsers) makes of s, for tests that set a parsed
// setting in an app.Config directly.
func parsed[T any](t testing.TB, parse func(string) (T, error), s string) T {
	t.Helper()
	v, err := parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// parseCase is a row of a setting parser's table test: what it reads in as, or the error it gives.
type parseCase[E comparable] struct {
	in   string
	want []E
	err  string
}

// testParser checks parse (named name in messages) against each case.
func testParser[E comparable](t *testing.T, name string, parse func(string) ([]E, error), cases []parseCase[E]) {
	t.Helper()
	for _, tt := range cases {
		got, err := parse(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err || got != nil {
				t.Errorf("%s(%q) = %v, %v; want error %s", name, tt.in, got, err, tt.err)
			}
		} else if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s(%q) = %v, %v; want %v", name, tt.in, got, err, tt.want)
		}
	}
}

// TestParsedSettings: TRUSTED_PROXIES and the CORS lists are parsed once, as LoadConfig reads them,
// into their typed fields; a bad value, from the environment or a flag, fails LoadConfig with the
// setting's name and the parser's reason.
func TestParsedSettings(t *testing.T) {
	load := func(args []string, env map[string]string) (app.Config, error) {
		return app.LoadConfig(args, func(k string) string { return env[k] }, io.Discard)
	}
	cfg, err := load(nil, map[string]string{
		"TRUSTED_PROXIES":      "10.1.2.3/8, ::1",
		"CORS_ALLOWED_ORIGINS": "HTTPS://Shop.Example.com:443",
		"CORS_ALLOWED_HEADERS": "X-Shop-Tenant, traceparent",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}; !slices.Equal(cfg.TrustedProxies, want) {
		t.Errorf("TrustedProxies = %v, want %v", cfg.TrustedProxies, want)
	}
	if want := []string{"https://shop.example.com"}; !slices.Equal(cfg.CORSAllowedOrigins, want) {
		t.Errorf("CORSAllowedOrigins = %q, want %q", cfg.CORSAllowedOrigins, want)
	}
	if want := []string{"X-Shop-Tenant"}; !slices.Equal(cfg.CORSAllowedHeaders, want) {
		t.Errorf("CORSAllowedHeaders = %q, want %q", cfg.CORSAllowedHeaders, want)
	}
	if cfg.LogLevel != slog.LevelInfo || cfg.LogFormat != "text" {
		t.Errorf("log defaults %v %q", cfg.LogLevel, cfg.LogFormat)
	}
	if debug, err := load([]string{"-log-level", "DEBUG", "-log-format", "json"}, nil); err != nil || debug.LogLevel != slog.LevelDebug || debug.LogFormat != "json" {
		t.Errorf("-log-level DEBUG -log-format json: %v %q, %v", debug.LogLevel, debug.LogFormat, err)
	}
	defaults, err := load(nil, nil)
	if err != nil || defaults.TrustedProxies != nil || defaults.CORSAllowedOrigins != nil || defaults.CORSAllowedHeaders != nil {
		t.Errorf("defaults: %v %q %q, %v", defaults.TrustedProxies, defaults.CORSAllowedOrigins, defaults.CORSAllowedHeaders, err)
	}

	for _, tt := range []struct{ env, flag, bad, reason, good string }{
		{"TRUSTED_PROXIES", "trusted-proxies", "10.0.0.0/8, proxy.local", `not an address or CIDR: "proxy.local"`, ""},
		{"TRUSTED_PROXIES", "trusted-proxies", "10.0.0.0/33", `not an address or CIDR: "10.0.0.0/33"`, ""},
		{"CORS_ALLOWED_ORIGINS", "cors-allowed-origins", "https://a.example/app", `"https://a.example/app" is not an origin such as https://shop.example.com`, ""},
		{"CORS_ALLOWED_HEADERS", "cors-allowed-headers", "X Bad", `"X Bad" is not a header name`, ""},
		{"LOG_LEVEL", "log-level", "verbose", "must be debug, info, warn or error", "warn"},
		{"LOG_FORMAT", "log-format", "JSON", "must be text or json", "json"},
	} {
		if _, err := load(nil, map[string]string{tt.env: tt.bad}); err == nil ||
			!strings.HasPrefix(err.Error(), tt.env+": ") || !strings.HasSuffix(err.Error(), ": "+tt.reason) {
			t.Errorf("%s=%q: %v; want an error naming %s, ending %s", tt.env, tt.bad, err, tt.env, tt.reason)
		}
		if _, err := load([]string{"-" + tt.flag, tt.bad}, nil); err == nil ||
			!strings.Contains(err.Error(), "-"+tt.flag) || !strings.HasSuffix(err.Error(), ": "+tt.reason) {
			t.Errorf("-%s %q: %v; want an error naming -%s, ending %s", tt.flag, tt.bad, err, tt.flag, tt.reason)
		}
		// A flag wins over its variable, even a malformed one.
		if _, err := load([]string{"-" + tt.flag, tt.good}, map[string]string{tt.env: tt.bad}); err != nil {
			t.Errorf("-%s %q with %s=%q: %v", tt.flag, tt.good, tt.env, tt.bad, err)
		}
	}
}

// TestGCMinHeapSetting: the heap floor is 16 MiB unless set, 0 turns it off, and a negative or
// absurd value is refused.
func TestGCMinHeapSetting(t *testing.T) {
	load := func(v string) (app.Config, error) {
		return app.LoadConfig(nil, func(k string) string {
			if k == "GC_MIN_HEAP_MIB" {
				return v
			}
			return ""
		}, io.Discard)
	}
	for _, tt := range []struct {
		value string
		want  int
		err   bool
	}{{"", 16, false}, {"0", 0, false}, {"64", 64, false}, {"-1", 0, true}, {"1000000", 0, true}} {
		cfg, err := load(tt.value)
		switch {
		case tt.err && (err == nil || !strings.Contains(err.Error(), "GC_MIN_HEAP_MIB must be 0 to")):
			t.Errorf("GC_MIN_HEAP_MIB=%q: %v, want an error naming it", tt.value, err)
		case !tt.err && (err != nil || cfg.GCMinHeapMiB != tt.want):
			t.Errorf("GC_MIN_HEAP_MIB=%q: %d, %v; want %d", tt.value, cfg.GCMinHeapMiB, err, tt.want)
		}
	}
}
