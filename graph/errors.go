package graph

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopql/shopql/auth"
	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

// Error codes sent as extensions.code, besides gqlgen's own GRAPHQL_PARSE_FAILED and
// GRAPHQL_VALIDATION_FAILED.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeNotFound        = "NOT_FOUND"
	CodeConflict        = "CONFLICT"
	CodeInternal        = "INTERNAL_SERVER_ERROR"
)

// ErrorPresenter returns gqlgen's error presenter: the one place where typed errors become
// extensions.code (and extensions.reason for auth failures). Any error it does not know is logged
// and masked, so that SQL, driver messages and internals never reach a client.
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var (
			authErr  *auth.Error
			inputErr *model.InputError
		)
		switch {
		case errors.As(err, &authErr):
			code := CodeUnauthenticated
			if authErr.Reason.Forbidden() {
				code = CodeForbidden
			}
			setCode(gqlErr, authErr.Message, code)
			gqlErr.Extensions["reason"] = string(authErr.Reason)
		case errors.As(err, &inputErr):
			setCode(gqlErr, inputErr.Message, CodeBadUserInput)
			if inputErr.Field != "" {
				gqlErr.Extensions["field"] = inputErr.Field
			}
		case errors.Is(err, store.ErrNotFound):
			setCode(gqlErr, err.Error(), CodeNotFound)
		case errors.Is(err, store.ErrConflict):
			setCode(gqlErr, err.Error(), CodeConflict)
		case gqlErr.Err == nil:
			// gqlgen's own errors (parse, validation, coercion) are written for clients already.
		default:
			log.ErrorContext(ctx, "resolver failed", "err", err, "path", gqlErr.Path.String())
			setCode(gqlErr, "internal server error", CodeInternal)
		}
		return gqlErr
	}
}

func setCode(e *gqlerror.Error, message, code string) {
	e.Message = message
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}

// Recover returns gqlgen's panic handler: the stack goes to the log, the client gets a masked error.
func Recover(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", p, "stack", string(debug.Stack()))
		return &gqlerror.Error{Message: "internal server error", Extensions: map[string]any{"code": CodeInternal}}
	}
}
