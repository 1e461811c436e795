package auth

import (
	"context"
	"strings"
	"testing"
)

// TestClient: what the HTTP layer records of a client is what the throttles and a login read back.
func TestClient(t *testing.T) {
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	for _, tt := range []struct {
		name            string
		ctx             context.Context
		addr, ip, agent string
	}{
		{"none recorded", context.Background(), "", "<nil>", "<nil>"},
		{"address only", WithClient(context.Background(), Client{Address: "[::1]:80"}), "[::1]:80", "<nil>", "<nil>"},
		{"IPv4", WithClient(context.Background(), Client{Address: "203.0.113.7", IP: "203.0.113.7", UserAgent: " curl/8 "}), "203.0.113.7", "203.0.113.7", "curl/8"},
		{"IPv6 per /64", WithClient(context.Background(), Client{Address: "2001:db8::/64", IP: "2001:db8::1", UserAgent: "a\x00b\xff"}), "2001:db8::/64", "2001:db8::1", "ab"},
		{"long agent", WithClient(context.Background(), Client{IP: "198.51.100.1", UserAgent: strings.Repeat("é", 300)}), "", "198.51.100.1", strings.Repeat("é", maxUserAgentRunes)},
	} {
		ip, agent := clientDetails(tt.ctx)
		if got := ClientAddress(tt.ctx); got != tt.addr || str(ip) != tt.ip || str(agent) != tt.agent {
			t.Errorf("%s: address %q, ip %q, agent %q; want %q, %q, %q", tt.name, got, str(ip), str(agent), tt.addr, tt.ip, tt.agent)
		}
	}
}
