package app_test

import (
	"net/netip"
	"testing"

	"github.com/shopql/shopql/app"
)

// TestParseTrustedProxies: CIDRs lose their host bits, a single address is a prefix of its own
// length (IPv4-mapped as IPv4), and anything else is refused with the item named.
func TestParseTrustedProxies(t *testing.T) {
	p := netip.MustParsePrefix
	testParser(t, "ParseTrustedProxies", app.ParseTrustedProxies, []parseCase[netip.Prefix]{
		{in: "", want: nil},
		{in: " , ", want: nil},
		{in: "10.0.0.1", want: []netip.Prefix{p("10.0.0.1/32")}},
		{in: " 10.1.2.3/8 , ::1,", want: []netip.Prefix{p("10.0.0.0/8"), p("::1/128")}},
		{in: "::ffff:10.0.0.1", want: []netip.Prefix{p("10.0.0.1/32")}},
		{in: "2001:db8::1/64, 127.0.0.1/32", want: []netip.Prefix{p("2001:db8::/64"), p("127.0.0.1/32")}},
		{in: "10.0.0.256", err: `not an address or CIDR: "10.0.0.256"`},
		{in: "10.0.0.0/33", err: `not an address or CIDR: "10.0.0.0/33"`},
		{in: "10.0.0.1/", err: `not an address or CIDR: "10.0.0.1/"`},
		{in: "10.0.0.0/8, proxy.local", err: `not an address or CIDR: "proxy.local"`},
	})
}
