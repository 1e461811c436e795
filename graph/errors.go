package graph

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

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

// Error codes of the abuse protections (README, Security). Document-shape limits are gqlgen's
// GRAPHQL_VALIDATION_FAILED with an extensions.reason (package graph/limits).
const (
	// CodeTooManyRequests: a rate limit was reached; extensions.retryAfter is in whole seconds.
	CodeTooManyRequests = "TOO_MANY_REQUESTS"
	// CodeTimeout: the request ran out of its execution time (REQUEST_TIMEOUT).
	CodeTimeout = "TIMEOUT"
	// HTTP-level refusals, written by the transport before the GraphQL executor runs
	// (app/httpspec.go): a request that is not a GraphQL-over-HTTP request at all.
	CodeBadRequest           = "BAD_REQUEST"            // 400: e.g. a body that is not a JSON object
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"     // 405: e.g. a mutation over GET
	CodeNotAcceptable        = "NOT_ACCEPTABLE"         // 406
	CodePayloadTooLarge      = "PAYLOAD_TOO_LARGE"      // 413: MAX_BODY_BYTES
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE" // 415: Content-Type other than application/json (CSRF)
)

// RequestErrorCode is the extensions.code of a request the HTTP layer refuses with status, so that
// every error a client sees has a code.
func RequestErrorCode(status int) string {
	switch status {
	case http.StatusMethodNotAllowed:
		return CodeMethodNotAllowed
	case http.StatusNotAcceptable:
		return CodeNotAcceptable
	case http.StatusRequestEntityTooLarge:
		return CodePayloadTooLarge
	case http.StatusUnsupportedMediaType:
		return CodeUnsupportedMediaType
	default:
		return CodeBadRequest
	}
}

// ErrorPresenter returns gqlgen's error presenter: the one place where typed errors become
// extensions.code (and extensions.reason for auth failures). Any error it does not know is logged
// and masked, so that SQL, driver messages and internals never reach a client.
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var (
			authErr  *auth.Error
			inputErr *model.InputError
			ruleErr  *store.RuleError
			limitErr *auth.RateLimitError
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
		case errors.As(err, &ruleErr):
			code := CodeNotFound
			if ruleErr.Kind == store.ErrConflict {
				code = CodeConflict
			}
			setCode(gqlErr, ruleErr.Message, code)
		case errors.As(err, &limitErr):
			setCode(gqlErr, limitErr.Message, CodeTooManyRequests)
			gqlErr.Extensions["retryAfter"] = limitErr.RetryAfterSeconds()
		case gqlErr.Err == nil && gqlErr.Extensions["code"] == nil:
			// A few of gqlgen's own request errors carry no code (e.g. "provided APQ hash does
			// not match query"); every error a client sees has one.
			setCode(gqlErr, gqlErr.Message, CodeBadRequest)
		case gqlErr.Err == nil:
			// gqlgen's own errors (parse, validation, coercion) are written for clients already,
			// except that variable coercion speaks of Go kinds.
			presentVariableError(gqlErr)
		case errors.Is(err, context.DeadlineExceeded), deadlinePassed(ctx), store.IsBusy(err):
			// Drivers report a deadline in their own words (PostgreSQL: an I/O timeout on the
			// socket, which can fire a moment before the context's timer; SQLite: busy after
			// waiting for a lock), so the request's own deadline decides. What was cut short is
			// logged, in case it was something else.
			if !errors.Is(err, context.DeadlineExceeded) {
				log.WarnContext(ctx, "resolver failed at the request deadline", "err", err, "path", gqlErr.Path.String())
			}
			setCode(gqlErr, "the request took too long and was stopped", CodeTimeout)
		default:
			log.ErrorContext(ctx, "resolver failed", "err", err, "path", gqlErr.Path.String())
			setCode(gqlErr, "internal server error", CodeInternal)
		}
		gqlErr.Message = truncate(gqlErr.Message)
		return gqlErr
	}
}

// MaxMessageBytes bounds the message of every error: parse, validation and variable errors quote
// the document's names, and a name of 30 KB must not be echoed in each of a hundred errors.
const MaxMessageBytes = 300

// truncate cuts a message to MaxMessageBytes, on a character boundary, marking the cut.
func truncate(msg string) string {
	if len(msg) <= MaxMessageBytes {
		return msg
	}
	cut := MaxMessageBytes - len("…")
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return strings.ToValidUTF8(msg[:cut], "") + "…"
}

// deadlinePassed reports whether the request's deadline (REQUEST_TIMEOUT) is behind us.
func deadlinePassed(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ok && !time.Now().Before(deadline)
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
