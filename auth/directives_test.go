package auth

import (
	"context"
	"errors"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// withCaller is the context the middleware leaves behind: a principal, or why there is none.
func withCaller(p *Principal, err error) context.Context {
	return context.WithValue(context.Background(), identityKey{}, &identity{principal: p, err: err})
}

func TestDirectives(t *testing.T) {
	fresh := &Principal{UserID: 1, SessionID: "s", Fresh: true}
	refreshed := &Principal{UserID: 1, SessionID: "s"}
	admin := &Principal{UserID: 2, SessionID: "t", Admin: true}
	directives := map[string]func(context.Context, any, graphql.Resolver) (any, error){
		"@auth": AuthDirective, "@fresh": FreshDirective, "@admin": AdminDirective,
	}
	cases := []struct {
		directive string
		ctx       context.Context
		want      error // nil: next runs and its result comes back
	}{
		{"@auth", context.Background(), ErrTokenMissing},
		{"@auth", withCaller(nil, ErrTokenExpired), ErrTokenExpired},
		{"@auth", withCaller(nil, ErrTokenRevoked), ErrTokenRevoked},
		{"@auth", withCaller(refreshed, nil), nil},
		{"@fresh", context.Background(), ErrTokenMissing},
		{"@fresh", withCaller(nil, ErrTokenInvalid), ErrTokenInvalid},
		{"@fresh", withCaller(refreshed, nil), ErrFreshTokenRequired},
		{"@fresh", withCaller(fresh, nil), nil},
		{"@admin", context.Background(), ErrTokenMissing},
		{"@admin", withCaller(nil, ErrTokenExpired), ErrTokenExpired},
		{"@admin", withCaller(fresh, nil), ErrAdminRequired},
		{"@admin", withCaller(admin, nil), nil},
	}
	for _, c := range cases {
		reached := false
		next := func(context.Context) (any, error) { reached = true; return "resolved", nil }
		got, err := directives[c.directive](c.ctx, nil, next)
		if c.want == nil {
			if err != nil || !reached || got != "resolved" {
				t.Errorf("%s %+v: got (%v, %v), next reached %v; want the resolver's result", c.directive, c.ctx.Value(identityKey{}), got, err, reached)
			}
			continue
		}
		if !errors.Is(err, c.want) || reached {
			t.Errorf("%s %+v: got %v, next reached %v; want %v without reaching next", c.directive, c.ctx.Value(identityKey{}), err, reached, c.want)
		}
	}
}

func TestRequireSelfOrAdmin(t *testing.T) {
	cases := []struct {
		ctx    context.Context
		userID int64
		want   error
	}{
		{context.Background(), 1, ErrTokenMissing},
		{withCaller(nil, ErrTokenRevoked), 1, ErrTokenRevoked},
		{withCaller(&Principal{UserID: 1}, nil), 1, nil},
		{withCaller(&Principal{UserID: 1}, nil), 2, ErrAdminRequired},
		{withCaller(&Principal{UserID: 1, Admin: true}, nil), 2, nil},
	}
	for _, c := range cases {
		if err := RequireSelfOrAdmin(c.ctx, c.userID); !errors.Is(err, c.want) {
			t.Errorf("user %d, caller %+v: got %v, want %v", c.userID, c.ctx.Value(identityKey{}), err, c.want)
		}
	}
}
