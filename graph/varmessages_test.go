package graph

import "testing"

func TestVariableMessage(t *testing.T) {
	for in, want := range map[string]string{
		"cannot use slice as String":           "cannot use a JSON list as String",
		"cannot use map as String":             "cannot use a JSON object as String",
		"cannot use bool as Int":               "cannot use a JSON boolean as Int",
		"cannot use float64 as ID":             "cannot use this number as ID: send an ID as a string or a whole number",
		"cannot use string as Boolean":         "cannot use this value as Boolean",
		"cannot use value 0 as Int":            "cannot use this number as Int: an Int is a whole number from -2147483648 to 2147483647",
		"cannot use value +Inf as Float":       "cannot use this number as Float: it is too large",
		"must be a ProductInput, not a slice":  "must be a ProductInput object, not a JSON list",
		"must be a ProductInput, not a string": "must be a ProductInput object, not a JSON string",
		"cannot use 1e+300 as ID: integers beyond 2^53-1 may have been rounded; decode variables with json.Decoder.UseNumber": "cannot use this number as ID: send an ID as a string or a whole number",
		"cannot be null": "cannot be null",
		"unknown field":  "unknown field",
	} {
		if got := variableMessage(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}
