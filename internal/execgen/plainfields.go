package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Plain fields: a scalar field read straight from a Go struct field (no resolver, no directive,
// no arguments) goes through graphql.ResolveField like any other, which builds a field context, a
// context.WithValue, five closures and an `any` for a value that is already at hand: about nine
// allocations for each `name` or `price` of a page, most of the executor's cost. The rewrite puts
// in front of each such field
//
//	if plainFields(ec.OperationContext) {
//		return ec.marshalNString2string(ctx, field.Selections, obj.Name)
//	}
//
// which is what ResolveField ends in when nothing can observe the field context: the operation runs
// no field middleware (plainFields, graph/execution.go) and the marshaller reads its context only
// on a path the value cannot take (pureMarshalers). Of an object given by pointer, the field is
// marshalled as its address instead, `return (*stringField)(&obj.Name)`, which writes the same
// bytes with no allocation (pureMarshaler.field). Such fields are listed in pureScalarFields; a
// field of an object type whose selection is only these (pureSelection) is marshalled with no
// field context of its own when its value is there: nothing under it could read one. Any other field bound to a struct field of a
// concrete type (an object, a list, a nullable or time scalar) calls resolvePlain instead, which
// is ResolveField's own sequence without the middleware: the field context (its arguments
// included), the panic guard, the result, the marshaller — but none of the closures and the
// escaping context that only the middleware needs. Every field of an operation with field
// middleware, and every field with a resolver, a directive or a method, goes through ResolveField.

// plainFieldSite is gqlgen's whole function for a field bound to a struct field: ${1} its
// signature, ${2} its body, ${3} the field context function, ${4} the struct field, ${5} its Go
// type, ${6} the marshaller.
var plainFieldSite = regexp.MustCompile(`(?m)` +
	`^(func \(ec \*executionContext\) _\w+\(ctx context\.Context, field graphql\.CollectedField, obj \*?[\w.]+\) \(ret graphql\.Marshaler\) \{\n)` +
	`(\treturn graphql\.ResolveField\(\n\t\tctx,\n\t\tec\.OperationContext,\n\t\tfield,\n` +
	`\t\tfunc\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{\n\t\t\treturn ec\.(fieldContext_\w+)\(ctx, field\)\n\t\t\},\n` +
	`\t\tfunc\(ctx context\.Context\) \(any, error\) \{\n\t\t\treturn obj\.(\w+), nil\n\t\t\},\n` +
	`\t\tnil,\n` +
	`\t\tfunc\(ctx context\.Context, selections ast\.SelectionSet, v ([^)\n]+)\) graphql\.Marshaler \{\n\t\t\treturn ec\.([\pL\pN_]+)\(ctx, selections, v\)\n\t\t\},\n` +
	`\t\ttrue,\n\t\t(?:true|false),\n\t\)\n\}\n)`)

// pureMarshaler is a generated marshaller whose whole text is known: it uses its context only
// when the value maps to null (never, for the functions it calls) or, with a guard, on a path the
// guard excludes.
type pureMarshaler struct {
	text  string // the generated function, exactly
	guard string // a Go condition on the value (%s) that keeps the marshaller off its context, or ""
	call  string // what to call instead of the marshaller with the value (%s), if not itself
	// field, for a struct field of an object given by pointer: a Marshaler made of the field's
	// address (%s), which writes what the marshaller would and costs no allocation (a pointer
	// boxes into an interface as it is; the marshaller's closure or value does not).
	field string
}

// neverNull is gqlgen's marshaller of a non-null scalar through marshal, which never returns
// graphql.Null (graphql.MarshalString, MarshalID, MarshalBoolean and model.MarshalID always
// return a writer), so its context is never read.
func neverNull(name, goType, marshal, gqlType, field string) pureMarshaler {
	return pureMarshaler{field: "(*" + field + ")(%s)", text: fmt.Sprintf(`func (ec *executionContext) %s(ctx context.Context, sel ast.SelectionSet, v %s) graphql.Marshaler {
	_ = sel
	res := %s(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, %q)
	}
	return res
}
`, name, goType, marshal, gqlType)}
}

var pureMarshalers = map[string]pureMarshaler{
	"marshalNString2string": neverNull("marshalNString2string", "string", "graphql.MarshalString", "String!", "stringField"),
	"marshalNID2string":     neverNull("marshalNID2string", "string", "graphql.MarshalID", "ID!", "idField"),
	"marshalNID2int64":      neverNull("marshalNID2int64", "int64", "model.MarshalID", "ID!", "int64IDField"),
	"marshalNBoolean2bool":  neverNull("marshalNBoolean2bool", "bool", "graphql.MarshalBoolean", "Boolean!", "boolField"),
	"marshalNInt2int":       neverNull("marshalNInt2int", "int", "graphql.MarshalInt", "Int!", "intField"),
	"marshalOString2ᚖstring": {text: `func (ec *executionContext) marshalOString2ᚖstring(ctx context.Context, sel ast.SelectionSet, v *string) graphql.Marshaler {
	if v == nil {
		return graphql.Null
	}
	_ = sel
	_ = ctx
	res := graphql.MarshalString(*v)
	return res
}
`},
	// MarshalFloatContext fails (and the wrapper reports it on the context's path) only for NaN
	// and ±Inf, which the guard sends through ResolveField. For the other values marshalFloat
	// writes the same bytes without the context wrapper and its allocation (or fmt's).
	"marshalNFloat2float64": {text: `func (ec *executionContext) marshalNFloat2float64(ctx context.Context, sel ast.SelectionSet, v float64) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalFloatContext(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "Float!")
	}
	return graphql.WrapContextMarshaler(ctx, res)
}
`, guard: "finite(%s)", call: "marshalFloat(%s)", field: "(*floatField)(%s)"},
}

// scalarFieldContext is the only field context function a plain field may have: no arguments to
// parse (which could fail), a scalar (no children that would need its path).
var scalarFieldContext = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) (fieldContext_\w+)\(_ context\.Context, field graphql\.CollectedField\) \(fc \*graphql\.FieldContext, err error\) \{\n\treturn graphql\.NewScalarFieldContext\("(\w+)", field, false, false, "\w+"\)\n\}\n`)

// objectMarshaler is gqlgen's marshaller of an object type given by pointer, non-null (with its
// error) or nullable: nil aside, it calls the object's marshaller with its context and selection.
func objectMarshaler(name string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^func \(ec \*executionContext\) ` + regexp.QuoteMeta(name) +
		`\(ctx context\.Context, sel ast\.SelectionSet, v \*[\w.]+\) graphql\.Marshaler \{\n\tif v == nil \{\n` +
		`(?:\t\tgraphql\.AddInvalidNullError\(ctx, "\w+!"\)\n)?\t\treturn graphql\.Null\n\t\}\n\treturn ec\._(\w+)\(ctx, sel, v\)\n\}\n`)
}

// pureSelectionSite is what the rewrite puts before resolvePlain for a field of an object type:
// when the value is there and nothing but pure scalar fields is selected of it (pureSelection,
// graph/execution.go), no field context is made, since nothing could read it: such a field has no
// resolver, no arguments, no error and no context of its own.
const pureSelectionSite = "\t\tif obj.%[1]s != nil && pureSelection(field.Selections) {\n\t\t\treturn ec.%[2]s(ctx, field.Selections, obj.%[1]s)\n\t\t}\n"

func rewritePlainFields(src []byte) ([]byte, error) {
	s := string(src)
	scalar := map[string]string{} // field context function -> object type
	for _, m := range scalarFieldContext.FindAllStringSubmatch(s, -1) {
		scalar[m[1]] = m[2]
	}
	var pureFields []string        // "Object", "field" pairs, as Go source
	pureSites := map[string]bool{} // the object marshallers called by pure-selection sites
	checked := map[string]bool{}
	rewritten := 0
	var failure error
	out := plainFieldSite.ReplaceAllStringFunc(s, func(site string) string {
		m := plainFieldSite.FindStringSubmatch(site)
		signature, body, fieldContext, structField, goType, marshaler := m[1], m[2], m[3], m[4], m[5], m[6]
		pure, ok := pureMarshalers[marshaler]
		object, isScalar := scalar[fieldContext]
		if !ok || !isScalar {
			if !concreteType(goType) {
				return site
			}
			rewritten++
			skip := ""
			if strings.HasPrefix(goType, "*") && objectMarshaler(marshaler).MatchString(s) && !takesArguments(s, fieldContext) {
				skip = fmt.Sprintf(pureSelectionSite, structField, marshaler)
				pureSites[marshaler] = true
			}
			return signature + "\tif plainFields(ec.OperationContext) {\n" + skip + "\t\treturn resolvePlain(ctx, ec.OperationContext, field, ec." +
				fieldContext + ", obj." + structField + ", ec." + marshaler + ")\n\t}\n" + body
		}
		if pure.guard == "" {
			name := strings.TrimPrefix(fieldContext, "fieldContext_"+object+"_")
			pureFields = append(pureFields, fmt.Sprintf("{%q, %q}", object, name))
		}
		if !checked[marshaler] {
			if strings.Count(s, "\n"+pure.text) != 1 {
				failure = fmt.Errorf("plain fields: %s is not the function the rewrite knows: gqlgen's output has changed, review pureMarshalers", marshaler)
			}
			checked[marshaler] = true
		}
		cond := "plainFields(ec.OperationContext)"
		if pure.guard != "" {
			cond += " && " + fmt.Sprintf(pure.guard, "obj."+structField)
		}
		call := "ec." + marshaler + "(ctx, field.Selections, obj." + structField + ")"
		switch {
		case pure.field != "" && strings.Contains(signature, " obj *"):
			call = fmt.Sprintf(pure.field, "&obj."+structField)
		case pure.call != "":
			call = fmt.Sprintf(pure.call, "obj."+structField)
		}
		rewritten++
		return signature + "\tif " + cond + " {\n\t\treturn " + call + "\n\t}\n" + body
	})
	switch {
	case failure != nil:
		return nil, failure
	case rewritten == 0:
		return nil, fmt.Errorf("plain fields: no field bound to a struct field of the expected shape: gqlgen's output has changed, review the rewrite")
	}
	sort.Strings(pureFields)
	if out, failure = pureObjects(out, pureSites, pureFields); failure != nil {
		return nil, failure
	}
	// An init function, not a declaration: gqlgen type-checks the package before the rewrite, so
	// graph/execution.go declares the table and the rewritten executor fills it.
	out += "\nfunc init() {\n\tpureScalarFields = map[[2]string]bool{\n"
	for _, f := range pureFields {
		out += "\t\t" + f + ": true,\n"
	}
	return []byte(out + "\t}\n}\n"), nil
}

// takesArguments reports whether the field context function parses arguments, which can fail: a
// field with arguments always gets its field context.
func takesArguments(src, fieldContext string) bool {
	start := strings.Index(src, "func (ec *executionContext) "+fieldContext+"(")
	if start < 0 {
		return true
	}
	body := src[start:]
	return strings.Contains(body[:strings.Index(body, "\n}\n")], "fc.Args")
}

// concreteType reports whether goType, as gqlgen writes it, is certainly not an interface: a
// pointer, a slice, a predeclared scalar or time.Time. ResolveField treats a nil interface
// (resTmp == nil) apart, which resolvePlain does not; any other type boxes to a non-nil value.
func concreteType(goType string) bool {
	switch goType {
	case "string", "bool", "int", "int32", "int64", "float64", "time.Time":
		return true
	}
	return strings.HasPrefix(goType, "*") || strings.HasPrefix(goType, "[]")
}

// pureObjects gives each object that keeps a field set (it has a field resolved on it) and is
// marshalled at a pure-selection site a second marshaller, pure_<Object>, for the selections
// pureSelection admits: the object's own, with only its pure scalar fields and __typename, resolved
// in line (newObjectFields) as rewriteObjectReturns makes an object with no other field. The
// sites call it, rather than the field set the object's own marshaller builds (a category's
// products resolver, never selected under the catalog's category { name }, made one per product).
func pureObjects(src string, sites map[string]bool, pureFields []string) (string, error) {
	pure := map[string]bool{}
	for _, f := range pureFields {
		pure[f] = true
	}
	var added strings.Builder
	marshalers := make([]string, 0, len(sites))
	for m := range sites {
		marshalers = append(marshalers, m)
	}
	sort.Strings(marshalers)  // the same output every time
	made := map[string]bool{} // an object reached through a non-null and a nullable field has two marshallers
	for _, marshaler := range marshalers {
		object := objectMarshaler(marshaler).FindStringSubmatch(src)[1]
		start := strings.Index(src, "\nfunc (ec *executionContext) _"+object+"(ctx context.Context, sel ast.SelectionSet, obj ")
		if start < 0 {
			return "", fmt.Errorf("pure objects: no marshaller of %s: review the rewrite", object)
		}
		fn := src[start+1:]
		fn = fn[:strings.Index(fn, "\n}\n")+3]
		if !strings.Contains(fn, fieldSetLine) {
			continue // resolved in line already: the site calls the object's own marshaller
		}
		if !made[object] {
			variant, err := pureObject(fn, object, pure)
			if err != nil {
				return "", err
			}
			added.WriteString("\n" + variant)
			made[object] = true
		}
		call := "\t\t\treturn ec." + marshaler + "(ctx, field.Selections, obj."
		src = strings.ReplaceAll(src, "pureSelection(field.Selections) {\n"+call, "pureSelection(field.Selections) {\n\t\t\treturn ec.pure_"+object+"(ctx, field.Selections, obj.")
	}
	return src + added.String(), nil
}

// pureCase is one case of an object marshaller's switch on the field name.
var pureCase = regexp.MustCompile(`(?s)\t\tcase "(\w+)":\n.*?(?:\n\t\tcase |\n\t\tdefault:)`)

// pureObject is fn, the marshaller of object, reduced to its pure fields and resolved in line.
func pureObject(fn, object string, pure map[string]bool) (string, error) {
	var b strings.Builder
	rest := fn
	for {
		loc := pureCase.FindStringSubmatchIndex(rest)
		if loc == nil {
			break
		}
		end := loc[1] - len("\t\tcase ")
		if strings.HasSuffix(rest[:loc[1]], "default:") {
			end = loc[1] - len("\t\tdefault:")
		}
		name := rest[loc[2]:loc[3]]
		b.WriteString(rest[:loc[0]])
		if name == "__typename" || pure[fmt.Sprintf("{%q, %q}", object, name)] {
			b.WriteString(rest[loc[0]:end])
		}
		rest = rest[end:]
	}
	b.WriteString(rest)
	out := strings.Replace(b.String(), "func (ec *executionContext) _"+object+"(", "func (ec *executionContext) pure_"+object+"(", 1)
	out = strings.ReplaceAll(out, "atomic.AddUint32(&out.Invalids, 1)", "out.Invalids++")
	out = strings.Replace(out, returnFields, returnOut, 1)
	if !allMatch(outUse.FindAllString(out, -1), syncUses) || strings.Count(out, dispatchLine) != 1 ||
		!strings.HasSuffix(strings.TrimSuffix(out, "\n"), returnOut) {
		return "", fmt.Errorf("pure objects: %s's marshaller is not of the shape the rewrite knows: review it", object)
	}
	out = strings.Replace(out, fieldSetLine, objectFieldLine, 1)
	return strings.Replace(out, dispatchLine, "", 1), nil
}
