package app

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shopql/shopql/auth"
)

// TestClientAddress: the client is the right-most X-Forwarded-For address outside the trusted
// proxies, in every form proxies write it; IPv6 clients count per /64.
func TestClientAddress(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ xff, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{" 203.0.113.7 ", "203.0.113.7"},
		{"203.0.113.7:4711", "203.0.113.7"},
		{"[2001:db8::1]:4711", "2001:db8::/64"},
		{"2001:db8::1", "2001:db8::/64"},
		{"[2001:db8::1]", "2001:db8::/64"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"garbage, 203.0.113.7", "203.0.113.7"},
		{"203.0.113.7, 10.0.0.1", "203.0.113.7"},
	} {
		r := &http.Request{RemoteAddr: "10.0.0.1:5555", Header: http.Header{"X-Forwarded-For": {tt.xff}}}
		if got := clientAddress(r, trusted); got != tt.want {
			t.Errorf("X-Forwarded-For %q: client %q, want %q", tt.xff, got, tt.want)
		}
	}
}

// TestGuardGraphQLRecordsClient: the context guardGraphQL returns carries the client's throttle
// address, and its body is bounded.
func TestGuardGraphQLRecordsClient(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ remote, xff, want string }{
		{"203.0.113.7:4711", "", "203.0.113.7"},
		{"[2001:db8::1]:4711", "", "2001:db8::/64"},
		{"10.0.0.1:5555", "198.51.100.9", "198.51.100.9"},
		{"not an address", "", "not an address"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader("0123456789"))
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		ctx := guardGraphQL(httptest.NewRecorder(), r, 4, trusted)
		if got := auth.ClientAddress(ctx); got != tt.want {
			t.Errorf("%s (X-Forwarded-For %q): address %q, want %q", tt.remote, tt.xff, got, tt.want)
		}
		var tooLarge *http.MaxBytesError
		if _, err := io.ReadAll(r.Body); !errors.As(err, &tooLarge) {
			t.Errorf("%s: a body over the bound read with %v", tt.remote, err)
		}
	}
}

// TestStatusRecorderWriteString: strings written through io.WriteString are counted and recorded
// as writes are.
func TestStatusRecorderWriteString(t *testing.T) {
	under := httptest.NewRecorder()
	rec := &statusRecorder{ResponseWriter: under}
	if _, err := io.WriteString(rec, `{"data":`); err != nil {
		t.Fatal(err)
	}
	_, _ = rec.Write([]byte("null}"))
	if rec.status != http.StatusOK || rec.bytes != 13 || under.Body.String() != `{"data":null}` {
		t.Errorf("status %d, %d bytes, body %q", rec.status, rec.bytes, under.Body)
	}
}
