package graph

import (
	"regexp"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// gqlparser words a variable of the wrong type with Go's reflect kinds ("cannot use slice as
// String", "must be a ProductInput, not a map") and a JSON number it cannot convert with the zero
// value it got instead ("cannot use value 0 as Int" for 1.5). Clients sent JSON: these say it in
// JSON's words, and name no Go type.
var (
	kindAsType    = regexp.MustCompile(`^cannot use (\w+) as (\w+)$`)
	numberAsID    = regexp.MustCompile(`^cannot use \S+ as ID: `)
	inputNotKind  = regexp.MustCompile(`^must be a (\w+), not a (\w+)$`)
	numberAsType  = regexp.MustCompile(`^cannot use value \S+ as (Int|Float)$`)
	jsonKindNames = map[string]string{
		"bool": "boolean", "string": "string", "slice": "list", "array": "list", "map": "object",
		"struct": "object", "invalid": "null", "ptr": "value", "interface": "value",
		"int": "number", "int8": "number", "int16": "number", "int32": "number", "int64": "number",
		"uint": "number", "uint8": "number", "uint16": "number", "uint32": "number", "uint64": "number",
		"float32": "number", "float64": "number",
	}
)

// presentVariableError rewrites gqlparser's messages about a variable's value (path "variable", …)
// into JSON's terms; other messages are left alone.
func presentVariableError(e *gqlerror.Error) {
	if len(e.Path) == 0 || e.Path[0] != ast.PathName("variable") {
		return
	}
	e.Message = variableMessage(e.Message)
}

func variableMessage(msg string) string {
	if m := numberAsType.FindStringSubmatch(msg); m != nil {
		if m[1] == "Int" {
			return "cannot use this number as Int: an Int is a whole number from -2147483648 to 2147483647"
		}
		return "cannot use this number as Float: it is too large"
	}
	const badID = "cannot use this number as ID: send an ID as a string or a whole number"
	if numberAsID.MatchString(msg) {
		return badID
	}
	if m := kindAsType.FindStringSubmatch(msg); m != nil {
		if kind, ok := jsonKindNames[m[1]]; ok {
			if m[2] == "ID" && kind == "number" {
				return badID
			}
			if kind == "string" {
				// Numbers inside input objects stay json.Number, whose kind is string too.
				return "cannot use this value as " + m[2]
			}
			return "cannot use a JSON " + kind + " as " + m[2]
		}
	}
	if m := inputNotKind.FindStringSubmatch(msg); m != nil {
		if kind, ok := jsonKindNames[m[2]]; ok {
			return "must be a " + m[1] + " object, not a JSON " + kind
		}
	}
	return msg
}
