package auth

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shopql/shopql/internal/ctxval"
)

// maxUserAgentRunes bounds the User-Agent a session records.
const maxUserAgentRunes = 256

// Client is what the HTTP layer learnt of a request's client, recorded in one context value.
type Client struct {
	// Address is what the login and registration throttles count the client as (ClientAddress).
	Address string
	// IP and UserAgent are what a login stores of its client: the address (the HTTP layer's
	// client-IP logic, X-Forwarded-For believed only from TRUSTED_PROXIES) and the User-Agent header;
	// "" when unknown.
	IP, UserAgent string
}

type clientKey struct{}

// WithClient records what the HTTP layer learnt of the client (see Client).
func WithClient(ctx context.Context, c Client) context.Context {
	return &ctxval.Context[clientKey, Client]{Context: ctx, Val: c}
}

func clientFrom(ctx context.Context) *Client {
	c, _ := ctx.Value(clientKey{}).(*Client)
	return c
}

// clientDetails returns the recorded address and User-Agent (nil when absent), the User-Agent
// cleaned of invalid UTF-8 and control characters and cut to maxUserAgentRunes.
func clientDetails(ctx context.Context) (ip, userAgent *string) {
	var d Client
	if c := clientFrom(ctx); c != nil {
		d = *c
	}
	if d.IP != "" {
		ip = &d.IP
	}
	ua := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.TrimSpace(d.UserAgent))
	if utf8.RuneCountInString(ua) > maxUserAgentRunes {
		ua = string([]rune(ua)[:maxUserAgentRunes])
	}
	if ua != "" {
		userAgent = &ua
	}
	return ip, userAgent
}
