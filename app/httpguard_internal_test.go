package app

import (
	"net/http"
	"testing"
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
