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
	const marshalers = `
func (ec *executionContext) marshalNCategory2ᚖCategory(ctx context.Context, sel ast.SelectionSet, v *model.Category) graphql.Marshaler {
	if v == nil {
		graphql.AddInvalidNullError(ctx, "Category!")
		return graphql.Null
	}
	return ec._Category(ctx, sel, v)
}

func (ec *executionContext) marshalOCategory2ᚖCategory(ctx context.Context, sel ast.SelectionSet, v *model.Category) graphql.Marshaler {
	if v == nil {
		return graphql.Null
	}
	return ec._Category(ctx, sel, v)
}
`
	category := sample[:strings.Index(sample, "\nfunc (ec *executionContext) marshalNProduct2ᚕᚖProductᚄ")]
	category = strings.NewReplacer("_Product(", "_Category(", "obj *model.Product", "obj *model.Category",
		"\t\t}\n\t}\n\tout.Dispatch", "\t\tdefault:\n\t\t\tpanic(\"unknown field \" + strconv.Quote(field.Name))\n\t\t}\n\t}\n\tout.Dispatch").
		Replace(category[strings.Index(category, "func "):])
	object := strings.ReplaceAll(sample, "v string) graphql.Marshaler {\n\t\t\treturn ec.marshalNString2string(ctx, selections, v)",
		"v *model.Category) graphql.Marshaler {\n\t\t\treturn ec.marshalNCategory2ᚖCategory(ctx, selections, v)")
	site := object[strings.Index(object, "func (ec *executionContext) _Product_name"):strings.Index(object, "func (ec *executionContext) marshalNString2string")]
	nullable := strings.NewReplacer("_Product_name", "_Product_maybe", "obj.Name", "obj.Maybe", "marshalNCategory2ᚖCategory", "marshalOCategory2ᚖCategory").Replace(site)
	scalar := sample[strings.Index(sample, "func (ec *executionContext) _Product_name"):strings.Index(sample, "func (ec *executionContext) marshalNString2string")]
	scalar = strings.NewReplacer("_Product_name", "_Product_title", "obj.Name", "obj.Title").Replace(scalar)
	src := object + marshalers + "\n" + category + "\n" + nullable + "\n" + scalar

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
