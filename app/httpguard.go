package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/shopql/shopql/auth"
)

// ParseTrustedProxies reads TRUSTED_PROXIES: comma-separated CIDRs (their host bits dropped) or
// single addresses (each a prefix of its own length, an IPv4-mapped IPv6 one as its IPv4 address).
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("not an address or CIDR: %q", part)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("not an address or CIDR: %q", part)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// guardGraphQL bounds the request body to maxBody bytes (the transport answers 413 when it is
// exceeded, see httpspec.go) and returns r's context with the client's address, for the login and
// registration throttles and the sessions a login records. Content-Type (CSRF) and method checks
// are the transport's.
func guardGraphQL(w http.ResponseWriter, r *http.Request, maxBody int64, trusted []netip.Prefix) context.Context {
	if maxBody > 0 && r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	}
	ip := clientIP(r, trusted)
	c := auth.Client{Address: throttleKey(ip, r.RemoteAddr)}
	if ip.IsValid() {
		c.IP = c.Address // the same text unless the key is an IPv6 /64
		if ip.Is6() {
			c.IP = ip.String()
		}
		c.UserAgent = r.UserAgent()
	}
	return auth.WithClient(r.Context(), c)
}

// clientIP is the client's address: the TCP peer, or, when the peer is one of the trusted proxies,
// the right-most X-Forwarded-For address that is not a trusted proxy (left of it, anything may be
// forged by the client). Invalid when the peer address cannot be read.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	addr := parseAddr(r.RemoteAddr)
	if addr.IsValid() && isTrusted(addr, trusted) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop := parseAddr(strings.TrimSpace(hops[i]))
			if !hop.IsValid() {
				break // a trusted proxy would not have written this: stop at the last good hop
			}
			addr = hop
			if !isTrusted(hop, trusted) {
				break
			}
		}
	}
	return addr
}

// clientAddress is the address throttles count a request against (see throttleKey).
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	return throttleKey(clientIP(r, trusted), r.RemoteAddr)
}

// throttleKey is what throttles count a client address as. IPv6 clients are counted by /64, the
// smallest network a subscriber usually gets, so that one cannot escape a limit by changing the low
// bits of its address; an unreadable address counts as itself.
func throttleKey(addr netip.Addr, remote string) string {
	if !addr.IsValid() {
		return remote
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// parseAddr reads "ip", "ip:port" or "[ipv6]:port", unmapping IPv4-in-IPv6.
func parseAddr(s string) netip.Addr {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1] // a bracketed IPv6 address without a port
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
