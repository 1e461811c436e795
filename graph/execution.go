package graph

import (
	"bytes"
	"context"
	"io"
	"math"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopql/shopql/model"
)

// The helpers the rewritten executor calls (internal/execgen): they keep gqlgen's semantics and
// skip only work that cannot matter for the request at hand.

// marshalList marshals the n elements of a list of objects. gqlgen marshals each element on a
// goroutine of its own, so that resolvers under different elements run at the same time and
// loaders can batch them. When nothing selected under the list resolves on a goroutine of its own
// (synchronous), there is nothing to overlap and the goroutines are pure cost: the elements are
// marshalled one after the other, each with the field context and panic guard gqlgen gives it.
func marshalList(ctx context.Context, sel ast.SelectionSet, n int, marshal func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	if n <= 1 || !synchronous(sel) {
		return graphql.MarshalSliceConcurrently(ctx, n, 0, false, marshal)
	}
	ret := make(graphql.Array, n)
	elements := make([]elementContext, n) // one allocation for every element's context
	parent := graphql.GetFieldContext(ctx)
	for i := range elements {
		e := &elements[i]
		e.Context, e.index = ctx, i
		e.fc.Index, e.fc.Parent = &e.index, parent
		ret[i] = marshalElement(e, i, marshal)
	}
	return ret
}

// elementContext is what graphql.WithFieldContext(ctx, &fc) gives for a list element's field
// context — ctx with fc under gqlgen's key, fc.Parent the field context of ctx — with the context,
// the field context and its index in one value, so that a list's elements take one allocation,
// not one context.WithValue each.
type elementContext struct {
	context.Context
	fc    graphql.FieldContext
	index int
}

func (c *elementContext) Value(key any) any {
	if key == fieldContextKey {
		return &c.fc
	}
	return c.Context.Value(key)
}

// fieldContextKey is the key gqlgen keeps a field context under (unexported), learnt by asking
// graphql.GetFieldContext for one.
var fieldContextKey = func() any {
	var probe keyProbe
	graphql.GetFieldContext(&probe)
	return probe.key
}()

// keyProbe is a context that records the key it is asked for.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

// marshalElement is gqlgen's per-element panic guard: a panic becomes a (masked) error on the
// element's path and a null element.
func marshalElement(ctx context.Context, i int, marshal func(ctx context.Context, i int) graphql.Marshaler) (m graphql.Marshaler) {
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			m = graphql.Null
		}
	}()
	return marshal(ctx, i)
}

// synchronous reports whether every field selected in sel, at any depth and through fragments, is
// resolved in line (not concurrentField), on object types, with no @defer.
func synchronous(sel ast.SelectionSet) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.ObjectDefinition == nil || s.ObjectDefinition.Kind != ast.Object ||
				concurrentField(s.ObjectDefinition.Name, s.Name) || !synchronous(s.SelectionSet) {
				return false
			}
		case *ast.InlineFragment:
			if s.Directives.ForName("defer") != nil || !synchronous(s.SelectionSet) {
				return false
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || s.Directives.ForName("defer") != nil || !synchronous(s.Definition.SelectionSet) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// newDeferredGroup is graphql.NewDeferredGroup when a field of the object is deferred. Otherwise
// it is the zero group: the generated code then only asks it len(Defers) (0), and gqlgen's
// NewDeferredGroup would compute the object's path and allocate a field set and a map for nothing.
func newDeferredGroup(ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	for _, f := range fields {
		if f.IsDeferred() {
			return graphql.NewDeferredGroup(ctx)
		}
	}
	return graphql.DeferredGroup{}
}

// objectFields writes an object's fields as graphql.FieldSet.MarshalGQL does — `{"alias":value,…}`
// in the order collected, the first of any repeated alias only — without its per-object map,
// iterator closures and field copies. For an object whose fields all resolve in line it is also
// what the generated code fills instead of a field set (newObjectFields): Values and Invalids are
// named as the field set's are.
type objectFields struct {
	fields   []graphql.CollectedField
	Values   []graphql.Marshaler
	Invalids uint32
}

// An object resolved in line keeps its values in the allocation of its objectFields, sized to the
// next of these capacities (a product of the catalog query has 3 values, a category 1): one
// allocation per object, and no 8-value array for a 1-field object, which would triple its bytes.
type (
	objectFields2 struct {
		objectFields
		inline [2]graphql.Marshaler
	}
	objectFields4 struct {
		objectFields
		inline [4]graphql.Marshaler
	}
	objectFields8 struct {
		objectFields
		inline [8]graphql.Marshaler
	}
)

func newObjectFields(fields []graphql.CollectedField) *objectFields {
	n := len(fields)
	switch {
	case n <= 2:
		o := &objectFields2{objectFields: objectFields{fields: fields}}
		o.Values = o.inline[:n]
		return &o.objectFields
	case n <= 4:
		o := &objectFields4{objectFields: objectFields{fields: fields}}
		o.Values = o.inline[:n]
		return &o.objectFields
	case n <= 8:
		o := &objectFields8{objectFields: objectFields{fields: fields}}
		o.Values = o.inline[:n]
		return &o.objectFields
	}
	return &objectFields{fields: fields, Values: make([]graphql.Marshaler, n)}
}

// dedupAbove is the field count above which repeated aliases are found with a map rather than by
// looking back.
const dedupAbove = 32

func (o *objectFields) MarshalGQL(w io.Writer) {
	var written map[string]struct{}
	if len(o.fields) > dedupAbove {
		written = make(map[string]struct{}, len(o.fields))
	}
	_, _ = io.WriteString(w, "{")
	first := true
	for i := range o.fields {
		alias := o.fields[i].Alias
		if repeated(o.fields[:i], alias, written) {
			continue
		}
		if !first {
			_, _ = io.WriteString(w, ",")
		}
		first = false
		if plainName(alias) { // always, for a GraphQL name; quoting is for anything else
			_, _ = io.WriteString(w, `"`)
			_, _ = io.WriteString(w, alias)
			_, _ = io.WriteString(w, `":`)
		} else {
			graphql.MarshalString(alias).MarshalGQL(w)
			_, _ = io.WriteString(w, ":")
		}
		o.Values[i].MarshalGQL(w)
	}
	_, _ = io.WriteString(w, "}")
}

// repeated reports whether alias is among the fields before it (in written, when it is kept).
func repeated(before []graphql.CollectedField, alias string, written map[string]struct{}) bool {
	if written != nil {
		if _, ok := written[alias]; ok {
			return true
		}
		written[alias] = struct{}{}
		return false
	}
	for i := range before {
		if before[i].Alias == alias {
			return true
		}
	}
	return false
}

// plainName reports whether s is a GraphQL name, which needs no escaping in JSON.
func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

// plainFields reports whether the operation runs no field middleware, so that nothing but the
// field's own marshaller sees a scalar field's resolution: its ResolverMiddleware is the
// pass-through gqlgen's executor installs when the handler has no graphql.FieldInterceptor (no
// srv.AroundFields, no tracing extension) and no extension replaced it. Any other middleware is
// a different function, and the field goes through graphql.ResolveField.
func plainFields(oc *graphql.OperationContext) bool {
	return reflect.ValueOf(oc.ResolverMiddleware).Pointer() == passThroughFieldMiddleware()
}

// passThroughFieldMiddleware is the code address of the field middleware of an executor with no
// extensions, read once from gqlgen itself rather than assumed.
var passThroughFieldMiddleware = sync.OnceValue(func() uintptr {
	oc, _ := executor.New(NewExecutableSchema(Config{})).
		CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: "{__typename}"})
	return reflect.ValueOf(oc.ResolverMiddleware).Pointer()
})

// finite: the values a Float marshals without an error.
func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// marshalFloat writes a finite f as graphql.MarshalFloatContext does (fmt's %g, which for a
// float64 is strconv's shortest 'g' form), without fmt and the context wrapper. The executor
// writes into a bytes.Buffer, whose spare capacity takes the digits without an allocation.
func marshalFloat(f float64) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		if b, ok := w.(*bytes.Buffer); ok {
			_, _ = b.Write(strconv.AppendFloat(b.AvailableBuffer(), f, 'g', -1, 64))
			return
		}
		_, _ = io.WriteString(w, strconv.FormatFloat(f, 'g', -1, 64))
	})
}

// resolvePlain is graphql.ResolveField for a field bound to a struct field, of a concrete type,
// with no directive, when plainFields: gqlgen's resolveField with the pass-through middleware
// reduces to these steps (the field context and its arguments, the context carrying it, the
// panic guard, the result, the marshaller), and resolvePlain takes them without the closures and
// the boxed, escaping context that only a middleware could use.
func resolvePlain[T any](ctx context.Context, oc *graphql.OperationContext, field graphql.CollectedField,
	fieldContext func(context.Context, graphql.CollectedField) (*graphql.FieldContext, error),
	v T, marshal func(context.Context, ast.SelectionSet, T) graphql.Marshaler,
) (ret graphql.Marshaler) {
	fc, err := fieldContext(ctx, field)
	if err != nil {
		return graphql.Null
	}
	ctx = graphql.WithFieldContext(ctx, fc)
	defer func() {
		if r := recover(); r != nil {
			oc.Error(ctx, oc.Recover(ctx, r))
			ret = graphql.Null
		}
	}()
	fc.Result = v
	return marshal(ctx, field.Selections, v)
}

// The plain scalar fields of an object given by pointer are marshalled as the address of the
// struct field converted to one of these (internal/execgen, plainfields.go): a pointer is an
// interface value as it is, where the marshallers' closures (and marshalFloat's) are each an
// allocation, three per product of the catalog. Each writes what its marshaller writes, reading
// the field when the response is written — after execution, which is when every other value of
// the response is written too; the objects a resolver returns are its own and are not changed
// once returned.
type (
	stringField  string
	idField      string
	int64IDField int64
	boolField    bool
	intField     int
	floatField   float64 // finite: the rewrite guards the field with finite before converting it
)

func (f *stringField) MarshalGQL(w io.Writer)  { graphql.MarshalString(string(*f)).MarshalGQL(w) }
func (f *idField) MarshalGQL(w io.Writer)      { graphql.MarshalID(string(*f)).MarshalGQL(w) }
func (f *int64IDField) MarshalGQL(w io.Writer) { model.MarshalID(int64(*f)).MarshalGQL(w) }
func (f *boolField) MarshalGQL(w io.Writer)    { graphql.MarshalBoolean(bool(*f)).MarshalGQL(w) }
func (f *intField) MarshalGQL(w io.Writer)     { graphql.MarshalInt(int(*f)).MarshalGQL(w) }
func (f *floatField) MarshalGQL(w io.Writer)   { marshalFloat(float64(*f)).MarshalGQL(w) }

// pureScalarFields are the fields, as {object type, field}, bound to a struct field with a
// marshaller that cannot fail nor read its context; the rewritten executor fills the table
// (internal/execgen, plainfields.go).
var pureScalarFields map[[2]string]bool

// pureSelection reports whether sel, the selection of an object, is only fields whose marshalling
// cannot fail nor read its context (pureScalarFields, from the generation) and __typename, with no
// fragment. Such a selection reads nothing of the object's field context: the rewritten executor
// then makes none (the catalog's category { name } and pageInfo, once per product and page).
func pureSelection(sel ast.SelectionSet) bool {
	for _, s := range sel {
		f, ok := s.(*ast.Field)
		if !ok || f.ObjectDefinition == nil {
			return false
		}
		if f.Name != "__typename" && !pureScalarFields[[2]string{f.ObjectDefinition.Name, f.Name}] {
			return false
		}
	}
	return true
}

// responseSizes holds the size of the last response of an operation, in a slot chosen by its
// address (the operation of a cached document keeps its address from request to request): the
// next response of that operation is written into a buffer of about that size from the start,
// where one growing from nothing by doubling allocated ~2.5 times the response (11% of an uncached
// catalog request's bytes). A slot holds the size with the upper half of the address's hash, so
// that another operation in the slot is told apart (and grows its buffer as before) rather than
// given a guess made for different responses.
var responseSizes [256]atomic.Uint64

// maxResponseHint bounds the buffer a guess may allocate: beyond it, doubling costs little more.
const maxResponseHint = 64 << 10

// marshalResponse writes data, the response to op, as gqlgen's executor does (into a
// bytes.Buffer, returning its bytes), into a buffer sized by op's last response.
func marshalResponse(op *ast.OperationDefinition, data graphql.Marshaler) []byte {
	h := uint64(reflect.ValueOf(op).Pointer()) * 0x9E3779B97F4A7C15
	slot, tag := &responseSizes[h>>56], h>>32
	var buf bytes.Buffer
	if last := slot.Load(); last>>32 == tag {
		if hint := int(uint32(last)); hint > 0 {
			buf.Grow(min(hint+hint/8, maxResponseHint))
		}
	}
	data.MarshalGQL(&buf)
	slot.Store(tag<<32 | uint64(min(buf.Len(), maxResponseHint)))
	return buf.Bytes()
}

// collectedFieldsMemo remembers, for one operation, the fields graphql.CollectFields collected of
// a selection set for an object type. gqlgen keeps the same cache in the operation context, but
// its key hashes the type names through an FNV hasher allocated on every call: one allocation
// per object of the response (a hundred for the catalog page). Here the key is the selection set
// and the type's implementor list themselves, by address (the executor's are package variables),
// and the result is gqlgen's own.
type collectedFieldsMemo struct {
	mu      sync.Mutex // lists of objects may be marshalled concurrently
	entries []collected
}

type collected struct {
	sel       *ast.Selection // the selection set's first element, and its length
	n         int
	satisfies *string
	fields    []graphql.CollectedField
}

// maxCollected bounds the memo: an operation with more distinct selections than this has the
// rest collected through gqlgen's cache, as before.
const maxCollected = 32

func (m *collectedFieldsMemo) fields(oc *graphql.OperationContext, sel ast.SelectionSet, satisfies []string) []graphql.CollectedField {
	if len(sel) == 0 || len(satisfies) == 0 {
		return graphql.CollectFields(oc, sel, satisfies)
	}
	key := collected{sel: &sel[0], n: len(sel), satisfies: &satisfies[0]}
	m.mu.Lock()
	for _, e := range m.entries {
		if e.sel == key.sel && e.n == key.n && e.satisfies == key.satisfies {
			m.mu.Unlock()
			return e.fields
		}
	}
	m.mu.Unlock()
	key.fields = graphql.CollectFields(oc, sel, satisfies)
	m.mu.Lock()
	if len(m.entries) < maxCollected {
		m.entries = append(m.entries, key)
	}
	m.mu.Unlock()
	return key.fields
}
