package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Errors the store reports for data rules. Callers test them with errors.Is; the message of the
// wrapping error is written for the API's users.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

func notFound(format string, args ...any) error {
	return &RuleError{Kind: ErrNotFound, Message: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) error {
	return &RuleError{Kind: ErrConflict, Message: fmt.Sprintf(format, args...)}
}

// RuleError is a broken data rule: Kind is ErrNotFound or ErrConflict, Message says what, for the
// API's users.
type RuleError struct {
	Kind    error
	Message string
}

func (e *RuleError) Error() string { return e.Message }
func (e *RuleError) Unwrap() error { return e.Kind }

// PostgreSQL reports SQLSTATEs through pgdriver.Error.Field('C'); SQLite's messages are the same
// through every driver, so both are matched without importing a particular SQLite driver.
type pgError interface{ Field(byte) string }

func sqlState(err error) string {
	var pe pgError
	if errors.As(err, &pe) {
		return pe.Field('C')
	}
	return ""
}

func isUniqueViolation(err error) bool {
	return sqlState(err) == "23505" || strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func isForeignKeyViolation(err error) bool {
	return sqlState(err) == "23503" || strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

// IsBusy reports whether err is SQLite giving up on a lock another connection held for longer than
// its busy timeout (which store keeps within the request timeout).
func IsBusy(err error) bool {
	s := err.Error()
	return strings.Contains(s, "database is locked") || strings.Contains(s, "SQLITE_BUSY")
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
