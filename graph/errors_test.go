package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopql/shopql/auth"
	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

func TestErrorPresenter(t *testing.T) {
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	leak := errors.New(`pq: relation "users" does not exist (SQLSTATE 42P01)`)
	cases := []struct {
		name    string
		ctx     context.Context
		err     error
		code    string
		reason  string // extensions.reason; "" when there must be none
		message string // "" keeps the error's own message
		logged  bool   // whether the error is written to the log
	}{
		{name: "token expired", err: auth.ErrTokenExpired, code: CodeUnauthenticated, reason: "TOKEN_EXPIRED"},
		{name: "token revoked, wrapped", err: fmt.Errorf("refresh: %w", auth.ErrTokenRevoked), code: CodeUnauthenticated, reason: "TOKEN_REVOKED", message: auth.ErrTokenRevoked.Message},
		{name: "fresh token required", err: auth.ErrFreshTokenRequired, code: CodeUnauthenticated, reason: "FRESH_TOKEN_REQUIRED"},
		{name: "wrong password", err: auth.ErrInvalidCredentials, code: CodeUnauthenticated, reason: "INVALID_CREDENTIALS"},
		{name: "admin required", err: auth.ErrAdminRequired, code: CodeForbidden, reason: "ADMIN_REQUIRED"},
		{name: "user blocked", err: auth.ErrUserBlocked, code: CodeForbidden, reason: "USER_BLOCKED"},
		{name: "bad input", err: &model.InputError{Field: "price", Message: "price must be at least 0"}, code: CodeBadUserInput},
		{name: "not found", err: &store.RuleError{Kind: store.ErrNotFound, Message: "no category 7"}, code: CodeNotFound, message: "no category 7"},
		{name: "conflict", err: &store.RuleError{Kind: store.ErrConflict, Message: `a product named "tea" exists`}, code: CodeConflict, message: `a product named "tea" exists`},
		{name: "rate limit", err: &auth.RateLimitError{Message: "too many attempts", RetryAfter: 1500 * time.Millisecond}, code: CodeTooManyRequests},
		{name: "gqlgen's own error without a code", err: gqlerror.Errorf("provided APQ hash does not match query"), code: CodeBadRequest, message: "provided APQ hash does not match query"},
		{name: "gqlgen's validation error keeps its code", err: &gqlerror.Error{Message: "Cannot query field", Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}}, code: "GRAPHQL_VALIDATION_FAILED", message: "Cannot query field"},
		{name: "context deadline", err: fmt.Errorf("query: %w", context.DeadlineExceeded), code: CodeTimeout, message: "the request took too long and was stopped"},
		{name: "driver error after the deadline", ctx: expired, err: errors.New("read tcp: i/o timeout"), code: CodeTimeout, message: "the request took too long and was stopped", logged: true},
		{name: "SQLite busy", err: errors.New("database is locked (5) (SQLITE_BUSY)"), code: CodeTimeout, message: "the request took too long and was stopped", logged: true},
		{name: "anything else is masked", err: leak, code: CodeInternal, message: "internal server error", logged: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			present := ErrorPresenter(slog.New(slog.NewTextHandler(&logs, nil)))
			ctx := c.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			got := present(graphql.WithResponseContext(ctx, graphql.DefaultErrorPresenter, graphql.DefaultRecover), c.err)
			if got.Extensions["code"] != c.code {
				t.Errorf("code %v, want %s", got.Extensions["code"], c.code)
			}
			if reason, _ := got.Extensions["reason"].(string); reason != c.reason {
				t.Errorf("reason %q, want %q", reason, c.reason)
			}
			want := c.message
			if want == "" {
				want = c.err.Error()
			}
			if got.Message != want {
				t.Errorf("message %q, want %q", got.Message, want)
			}
			if strings.Contains(got.Message, "SQLSTATE") || strings.Contains(got.Message, "relation") {
				t.Errorf("message leaks the cause: %q", got.Message)
			}
			if logged := logs.Len() > 0; logged != c.logged {
				t.Errorf("logged %v, want %v: %s", logged, c.logged, logs.String())
			}
		})
	}
}

func TestErrorPresenterExtras(t *testing.T) {
	present := ErrorPresenter(slog.New(slog.DiscardHandler))
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	if got := present(ctx, &model.InputError{Field: "price", Message: "m"}); got.Extensions["field"] != "price" {
		t.Errorf("input error: extensions.field %v, want price", got.Extensions["field"])
	}
	if got := present(ctx, &model.InputError{Message: "m"}); got.Extensions["field"] != nil {
		t.Errorf("input error without a field: extensions.field %v, want none", got.Extensions["field"])
	}
	if got := present(ctx, &auth.RateLimitError{Message: "m", RetryAfter: 1500 * time.Millisecond}); got.Extensions["retryAfter"] != 2 {
		t.Errorf("retryAfter %v, want 2 (whole seconds, rounded up)", got.Extensions["retryAfter"])
	}
}

func TestRecoverMasksThePanic(t *testing.T) {
	var logs bytes.Buffer
	err := Recover(slog.New(slog.NewTextHandler(&logs, nil)))(context.Background(), "secret detail")
	var gqlErr *gqlerror.Error
	if !errors.As(err, &gqlErr) || gqlErr.Extensions["code"] != CodeInternal || strings.Contains(gqlErr.Message, "secret") {
		t.Fatalf("got %#v, want a masked INTERNAL_SERVER_ERROR", err)
	}
	if !strings.Contains(logs.String(), "secret detail") || !strings.Contains(logs.String(), "stack") {
		t.Errorf("the panic and its stack are not logged: %s", logs.String())
	}
}

func TestRequestErrorCode(t *testing.T) {
	for status, want := range map[int]string{
		http.StatusMethodNotAllowed:      CodeMethodNotAllowed,
		http.StatusNotAcceptable:         CodeNotAcceptable,
		http.StatusRequestEntityTooLarge: CodePayloadTooLarge,
		http.StatusUnsupportedMediaType:  CodeUnsupportedMediaType,
		http.StatusBadRequest:            CodeBadRequest,
	} {
		if got := RequestErrorCode(status); got != want {
			t.Errorf("status %d: %s, want %s", status, got, want)
		}
	}
}
