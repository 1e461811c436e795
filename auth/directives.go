package auth

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// The schema directives. Each lets the field resolve only for a caller that meets its rule.

// AuthDirective implements @auth: a valid access token.
func AuthDirective(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	if _, err := FromContext(ctx); err != nil {
		return nil, err
	}
	return next(ctx)
}

// FreshDirective implements @fresh: a valid access token issued by login.
func FreshDirective(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	if err := RequireFresh(ctx); err != nil {
		return nil, err
	}
	return next(ctx)
}

// RequireFresh is the @fresh rule as a function, for writes that learn only as they run whether
// they create something: creating a product or category always needs a fresh token, whichever
// mutation does it (upsertProduct asks it, inside its transaction, when the name is new).
func RequireFresh(ctx context.Context) error {
	p, err := FromContext(ctx)
	if err != nil {
		return err
	}
	if !p.Fresh {
		return ErrFreshTokenRequired
	}
	return nil
}

// AdminDirective implements @admin: a valid access token carrying the admin claim.
func AdminDirective(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	p, err := FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if !p.Admin {
		return nil, ErrAdminRequired
	}
	return next(ctx)
}

// RequireSelfOrAdmin lets a caller read an account that is its own, or any account as an admin.
func RequireSelfOrAdmin(ctx context.Context, userID int64) error {
	p, err := FromContext(ctx)
	if err != nil {
		return err
	}
	if p.UserID != userID && !p.Admin {
		return &Error{ReasonAdminRequired, "only an administrator can read other accounts"}
	}
	return nil
}
