package model

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
)

// IDs are int64 in the database and decimal strings on the wire, as the GraphQL ID type asks
// (clients must treat them as opaque).

// MarshalID writes an ID as a JSON string.
func MarshalID(id int64) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		var buf [24]byte
		b := append(buf[:0], '"')
		b = strconv.AppendInt(b, id, 10)
		b = append(b, '"')
		_, _ = w.Write(b)
	})
}

// UnmarshalID accepts an ID given as a string or, as the spec allows, an integer.
func UnmarshalID(v any) (int64, error) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case json.Number:
		s = v.String()
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	default:
		return 0, &InputError{Message: fmt.Sprintf("ID must be a string, got %T", v)}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, &InputError{Message: fmt.Sprintf("%q is not a valid ID", truncate(s, 40))}
	}
	return id, nil
}

// InputError is input that breaks a data rule. The GraphQL layer reports it as BAD_USER_INPUT.
type InputError struct {
	Field   string // the argument or input field at fault, if known
	Message string
}

func (e *InputError) Error() string { return e.Message }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
