package app_test

import (
	"testing"

	"github.com/shopql/shopql/app"
)

// TestParseCORSOrigins: origins come out as browsers send them (lower case, no default port), and
// anything more or less than scheme://host[:port] is refused with the item named.
func TestParseCORSOrigins(t *testing.T) {
	testParser(t, "ParseCORSOrigins", app.ParseCORSOrigins, []parseCase[string]{
		{in: "", want: nil},
		{in: " , ,", want: nil},
		{in: "*", want: []string{"*"}},
		{in: "https://shop.example.com", want: []string{"https://shop.example.com"}},
		{in: "HTTPS://Shop.Example.com:443", want: []string{"https://shop.example.com"}},
		{in: "http://localhost:80", want: []string{"http://localhost"}},
		{in: "http://localhost:3000", want: []string{"http://localhost:3000"}},
		{in: "https://shop.example.com:80", want: []string{"https://shop.example.com:80"}}, // not https's default
		{in: "http://shop.example.com:443", want: []string{"http://shop.example.com:443"}},
		{in: "https://[::1]:443, http://[::1]:8080", want: []string{"https://[::1]", "http://[::1]:8080"}},
		{in: " https://a.example ,http://localhost:3000, *", want: []string{"https://a.example", "http://localhost:3000", "*"}},
		{in: "a.example", err: `"a.example" is not an origin such as https://shop.example.com`},
		{in: "https://a.example/app", err: `"https://a.example/app" is not an origin such as https://shop.example.com`},
		{in: "https://a.example/", err: `"https://a.example/" is not an origin such as https://shop.example.com`},
		{in: "ftp://a.example", err: `"ftp://a.example" is not an origin such as https://shop.example.com`},
		{in: "https://a.example?x=1", err: `"https://a.example?x=1" is not an origin such as https://shop.example.com`},
		{in: "https://a.example#top", err: `"https://a.example#top" is not an origin such as https://shop.example.com`},
		{in: "https://ann@a.example", err: `"https://ann@a.example" is not an origin such as https://shop.example.com`},
		{in: "https://", err: `"https://" is not an origin such as https://shop.example.com`},
		{in: "https://a.example, nope", err: `"nope" is not an origin such as https://shop.example.com`},
	})
}

// TestParseCORSHeaders: the names beyond the defaults, each once whatever its case; anything that
// is not a header name is refused with the item named.
func TestParseCORSHeaders(t *testing.T) {
	testParser(t, "ParseCORSHeaders", app.ParseCORSHeaders, []parseCase[string]{
		{in: "", want: nil},
		{in: " X-Shop-Tenant ,, traceparent", want: []string{"X-Shop-Tenant"}},
		{in: "x-a, X-A, AUTHORIZATION, x-b", want: []string{"x-a", "x-b"}},
		{in: "X Bad", err: `"X Bad" is not a header name`},
		{in: "x-ok, x-a:b", err: `"x-a:b" is not a header name`},
		{in: "café", err: `"café" is not a header name`},
	})
}
