package auth

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxUserAgentRunes bounds the User-Agent a session records.
const maxUserAgentRunes = 256

type clientDetailsKey struct{}

type details struct{ ip, userAgent string }

// WithClientDetails records what a login stores of its client: the address (the HTTP layer's
// client-IP logic, X-Forwarded-For believed only from TRUSTED_PROXIES) and the User-Agent header.
func WithClientDetails(ctx context.Context, ip, userAgent string) context.Context {
	return context.WithValue(ctx, clientDetailsKey{}, details{ip, userAgent})
}

// clientDetails returns the recorded address and User-Agent (nil when absent), the User-Agent
// cleaned of invalid UTF-8 and control characters and cut to maxUserAgentRunes.
func clientDetails(ctx context.Context) (ip, userAgent *string) {
	d, _ := ctx.Value(clientDetailsKey{}).(details)
	if d.ip != "" {
		ip = &d.ip
	}
	ua := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.TrimSpace(d.userAgent))
	if utf8.RuneCountInString(ua) > maxUserAgentRunes {
		ua = string([]rune(ua)[:maxUserAgentRunes])
	}
	if ua != "" {
		userAgent = &ua
	}
	return ip, userAgent
}
