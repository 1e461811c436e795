package auth

// Reason is the precise cause of an authentication or authorisation failure; the GraphQL layer sends
// it as extensions.reason beside the broader extensions.code.
type Reason string

// Token failures (reported as UNAUTHENTICATED).
const (
	ReasonTokenMissing       Reason = "TOKEN_MISSING"
	ReasonTokenInvalid       Reason = "TOKEN_INVALID"
	ReasonTokenExpired       Reason = "TOKEN_EXPIRED"
	ReasonTokenRevoked       Reason = "TOKEN_REVOKED"
	ReasonFreshTokenRequired Reason = "FRESH_TOKEN_REQUIRED"
	ReasonInvalidCredentials Reason = "INVALID_CREDENTIALS"
)

// Permission failures (reported as FORBIDDEN).
const (
	ReasonAdminRequired Reason = "ADMIN_REQUIRED"
	ReasonUserBlocked   Reason = "USER_BLOCKED"
)

// Reasons lists every Reason, for whatever must know them all (the metrics count each).
var Reasons = []Reason{
	ReasonTokenMissing, ReasonTokenInvalid, ReasonTokenExpired, ReasonTokenRevoked,
	ReasonFreshTokenRequired, ReasonInvalidCredentials, ReasonAdminRequired, ReasonUserBlocked,
}

// Forbidden reports whether the caller is known but not allowed, as opposed to not authenticated.
func (r Reason) Forbidden() bool { return r == ReasonAdminRequired || r == ReasonUserBlocked }

// Error is an authentication or authorisation failure with a message fit for the API's users.
type Error struct {
	Reason  Reason
	Message string
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is match on the reason alone, so callers can test against the Err* values below
// while the message varies.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason
}

// The failures, with their default messages.
var (
	ErrTokenMissing       = &Error{ReasonTokenMissing, "missing Authorization header: send 'Authorization: Bearer <access token>'"}
	ErrTokenInvalid       = &Error{ReasonTokenInvalid, "the token is not valid"}
	ErrTokenExpired       = &Error{ReasonTokenExpired, "the token has expired"}
	ErrTokenRevoked       = &Error{ReasonTokenRevoked, "the token has been revoked"}
	ErrFreshTokenRequired = &Error{ReasonFreshTokenRequired, "this operation needs a fresh token: log in again"}
	ErrInvalidCredentials = &Error{ReasonInvalidCredentials, "wrong email or password"}
	ErrAdminRequired      = &Error{ReasonAdminRequired, "this operation needs an administrator"}
	ErrUserBlocked        = &Error{ReasonUserBlocked, "this account is blocked"}
)

func tokenInvalid(msg string) *Error { return &Error{ReasonTokenInvalid, msg} }
