package main

import (
	"strings"
	"testing"
)

// TestPureSelectionSitesOfOneObjectThroughTwoMarshalers: an object reached by a non-null field
// and by a nullable one (marshalN… and marshalO…, as Product is today through ProductEdge.node and
// ProductChange.product) is two pure-selection sites with two marshallers of one object. The
// rewrite must give that object one pure_<Object> (or refuse the shape): two are a Go compile
// error in graph/generated.go, not a refusal the generation explains.
func TestPureSelectionSitesOfOneObjectThroughTwoMarshalers(t *testing.T) {
	const nullableMarshaler = `
func (ec *executionContext) marshalOCategory2ᚖCategory(ctx context.Context, sel ast.SelectionSet, v *model.Category) graphql.Marshaler {
	if v == nil {
		return graphql.Null
	}
	return ec._Category(ctx, sel, v)
}
`
	object := categoryFieldSample()
	site := object[strings.Index(object, "func (ec *executionContext) _Product_name"):strings.Index(object, "func (ec *executionContext) marshalNString2string")]
	nullable := strings.NewReplacer("_Product_name", "_Product_maybe", "obj.Name", "obj.Maybe", "marshalNCategory2ᚖCategory", "marshalOCategory2ᚖCategory").Replace(site)
	src := object + categoryMarshalerSample + nullableMarshaler + "\n" + categorySample() + "\n" + nullable + "\n" + titleFieldSample()

	out, err := Rewrite([]byte(src))
	if err != nil {
		return // a refusal is an answer
	}
	if n := strings.Count(string(out), "func (ec *executionContext) pure_Category("); n != 1 {
		t.Errorf("%d functions pure_Category in the rewritten executor, want 1", n)
	}
	for _, call := range []string{"return ec.pure_Category(ctx, field.Selections, obj.Name)", "return ec.pure_Category(ctx, field.Selections, obj.Maybe)"} {
		if !strings.Contains(string(out), call) {
			t.Errorf("no site %q", call)
		}
	}
}
