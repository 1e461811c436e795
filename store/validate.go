package store

import (
	"fmt"
	"math"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shopql/shopql/model"
)

const (
	maxNameLen        = 200   // runes in a product or category name
	maxUsernameLen    = 64    // runes in a username
	maxDescriptionLen = 10000 // runes in a description
	maxEmailLen       = 254   // RFC 5321 path limit
	maxAmount         = 1e15  // beyond this a price or quantity is a typo, and loses cent precision
)

func invalid(field, format string, args ...any) error {
	return &model.InputError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// checkName accepts a product or category name: valid UTF-8, not blank, no control or invisible
// characters, at most maxNameLen runes. Names are stored exactly as given, and unique by their
// nameKey.
func checkName(field, s string) error { return checkLabel(field, s, maxNameLen) }

func checkLabel(field, s string, max int) error {
	if err := checkText(field, s, max); err != nil {
		return err
	}
	if strings.TrimSpace(s) == "" {
		return invalid(field, "%s must not be blank", field)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalid(field, "%s must not contain control characters", field)
		}
		if isInvisible(r) {
			return invalid(field, "%s must not contain invisible or direction-changing characters (U+%04X)", field, r)
		}
	}
	return nil
}

// checkText accepts any valid UTF-8 without NUL bytes (PostgreSQL cannot store them) up to max runes.
func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return invalid(field, "%s must be valid UTF-8", field)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return invalid(field, "%s must not contain NUL characters", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return invalid(field, "%s is too long (%d characters, at most %d)", field, n, max)
	}
	return nil
}

func checkAmount(field string, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return invalid(field, "%s must be a finite number", field)
	}
	if f < 0 {
		return invalid(field, "%s must not be negative", field)
	}
	if f > maxAmount {
		return invalid(field, "%s must be at most %g", field, maxAmount)
	}
	return nil
}

// NormalizeEmail validates an address and returns its canonical, lower-case form, the form that is
// stored and looked up so that uniqueness ignores case.
func NormalizeEmail(s string) (string, error) {
	if len(s) > maxEmailLen || !utf8.ValidString(s) || strings.IndexFunc(s, isInvisible) >= 0 {
		return "", invalid("email", "email is not a valid address")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" || !strings.Contains(addr.Address[strings.LastIndexByte(addr.Address, '@'):], ".") {
		return "", invalid("email", "email is not a valid address")
	}
	return strings.ToLower(s), nil
}
