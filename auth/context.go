package auth

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/shopql/shopql/internal/ctxval"
)

// Principal is the caller proven by a valid access token.
type Principal struct {
	UserID    int64
	SessionID string
	Admin     bool
	Fresh     bool
	// ExpiresAt is the access token's exp: a connection authenticated by it ends then.
	ExpiresAt time.Time
}

// identity is what WithIdentity learnt from the Authorization header: a principal, or why not.
type identity struct {
	raw       string     // the bearer token as sent, for refreshToken's header fallback
	headerErr error      // why the header holds no bearer token: ErrTokenMissing, or malformed
	principal *Principal // &proven when the token is valid
	err       error      // headerErr, or why the token is not a valid access token
	proven    Principal  // in the same allocation as the identity (and its context)
}

type identityKey struct{}

// anonymous is the identity of every request without an Authorization header; it is never changed.
var anonymous = &identity{headerErr: ErrTokenMissing, err: ErrTokenMissing}

// WithIdentity returns ctx carrying the identity proven by the Authorization header in h: the
// HTTP layer calls it for every request, and connection_init for its payload. It never fails the
// request itself: some fields are public, and the directives decide with FromContext.
func (s *Service) WithIdentity(ctx context.Context, h http.Header) context.Context {
	if len(h.Values("Authorization")) == 0 {
		return context.WithValue(ctx, identityKey{}, anonymous) // most public requests: nothing to allocate
	}
	c := &ctxval.Context[identityKey, identity]{Context: ctx}
	id := &c.Val
	id.raw, id.headerErr = bearerToken(h)
	if id.err = id.headerErr; id.err == nil {
		if id.err = s.authenticate(context.Background(), id.raw, &id.proven); id.err == nil {
			id.principal = &id.proven
		}
	}
	return c
}

// FromContext returns the authenticated caller, or the reason there is none.
func FromContext(ctx context.Context) (*Principal, error) {
	id, _ := ctx.Value(identityKey{}).(*identity)
	if id == nil {
		return nil, ErrTokenMissing
	}
	return id.principal, id.err
}

// Optional is FromContext for fields where a token is optional: no token gives (nil, nil), while a
// token that is present but bad is still an error, so that clients learn to refresh it.
func Optional(ctx context.Context) (*Principal, error) {
	p, err := FromContext(ctx)
	if err == ErrTokenMissing {
		return nil, nil
	}
	return p, err
}

// BearerToken returns the raw token the request carried in its Authorization header, whatever its
// type, or why there is none: ErrTokenMissing without a header, TOKEN_INVALID for a malformed one.
func BearerToken(ctx context.Context) (string, error) {
	if id, _ := ctx.Value(identityKey{}).(*identity); id != nil {
		return id.raw, id.headerErr
	}
	return "", ErrTokenMissing
}

// bearerToken extracts the token of a single "Authorization: Bearer <token>" header (the scheme is
// case-insensitive, RFC 9110 §11.1). Anything else present is TOKEN_INVALID, absence TOKEN_MISSING.
func bearerToken(h http.Header) (string, error) {
	values := h.Values("Authorization")
	switch {
	case len(values) == 0 || (len(values) == 1 && strings.TrimSpace(values[0]) == ""):
		return "", ErrTokenMissing
	case len(values) > 1:
		return "", tokenInvalid("send exactly one Authorization header")
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	token = strings.TrimLeft(token, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", tokenInvalid("malformed Authorization header: expected 'Bearer <token>'")
	}
	if len(token) > MaxTokenBytes {
		return "", tokenInvalid("the token is too long")
	}
	return token, nil
}
