package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sample is gqlgen 0.17.98's output for one object and one list of it, as it generates them.
const sample = `package graph

type executionContext struct {
	*graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]
}

func (ec *executionContext) _Product(ctx context.Context, sel ast.SelectionSet, obj *model.Product) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, sel, productImplementors)

	out := graphql.NewFieldSet(fields)
	deferred := graphql.NewDeferredGroup(ctx)
	for i, field := range fields {
		switch field.Name {
		case "name":
			out.ResolveConcurrently(ec.OperationContext, &deferred, i,
				true, true,
				func(ctx context.Context) graphql.Marshaler {
					return ec._Product_name(ctx, field, obj)
				})
		}
	}
	out.Dispatch(ctx)
	if n := len(deferred.Defers); n > 0 {
		atomic.AddInt32(&ec.Deferred, int32(min(n, math.MaxInt32)))
		ec.ProcessDeferredGroup(deferred)
	}
	return out
}

func (ec *executionContext) _PageInfo(ctx context.Context, sel ast.SelectionSet, obj *model.PageInfo) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, sel, pageInfoImplementors)

	out := graphql.NewFieldSet(fields)
	deferred := graphql.NewDeferredGroup(ctx)
	for i, field := range fields {
		switch field.Name {
		case "__typename":
			out.Values[i] = graphql.MarshalString("PageInfo")
		case "endCursor":
			out.Values[i] = ec._PageInfo_endCursor(ctx, field, obj)
			if out.Values[i] == graphql.RequiredNull {
				out.Invalids++
			}
		case "hasNextPage":
			out.Values[i] = ec._PageInfo_hasNextPage(ctx, field, obj)
			if out.Values[i] == graphql.Null {
				atomic.AddUint32(&out.Invalids, 1)
			}
		default:
			panic("unknown field " + strconv.Quote(field.Name))
		}
	}
	out.Dispatch(ctx)
	if out.Invalids > 0 {
		return graphql.Null
	}

	if n := len(deferred.Defers); n > 0 {
		atomic.AddInt32(&ec.Deferred, int32(min(n, math.MaxInt32)))
		ec.ProcessDeferredGroup(deferred)
	}

	return out
}

func (ec *executionContext) marshalNProduct2ᚕᚖProductᚄ(ctx context.Context, sel ast.SelectionSet, v []*model.Product) graphql.Marshaler {
	ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		fc := graphql.GetFieldContext(ctx)
		fc.Result = &v[i]
		return ec.marshalNProduct2ᚖProduct(ctx, sel, v[i])
	})
	return ret
}

func (ec *executionContext) _Product_name(ctx context.Context, field graphql.CollectedField, obj *model.Product) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Product_name(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Name, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v string) graphql.Marshaler {
			return ec.marshalNString2string(ctx, selections, v)
		},
		true,
		true,
	)
}
func (ec *executionContext) fieldContext_Product_name(_ context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	return graphql.NewScalarFieldContext("Product", field, false, false, "String")
}

func (ec *executionContext) marshalNString2string(ctx context.Context, sel ast.SelectionSet, v string) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalString(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "String!")
	}
	return res
}

func (e *executableSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	ec := newExecutionContext(opCtx, e, make(chan graphql.DeferredResult))
	return func(ctx context.Context) *graphql.Response {
		var response graphql.Response
		data := ec._Query(ctx, opCtx.Operation.SelectionSet)
		var buf bytes.Buffer
		data.MarshalGQL(&buf)
		response.Data = buf.Bytes()
		return &response
	}
}
`

func TestRewrite(t *testing.T) {
	out, err := Rewrite([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\tret := marshalList(ctx, sel, len(v), func(ctx context.Context, i int) graphql.Marshaler {\n\t\tfc := graphql.GetFieldContext(ctx)\n",
		"\tdeferred := newDeferredGroup(ctx, fields)\n",
		"\treturn &objectFields{fields: fields, Values: out.Values}\n}\n",
		"\tout := newObjectFields(fields)\n\tdeferred := newDeferredGroup(ctx, fields)\n",
		"\t}\n\tif out.Invalids > 0 {\n\t\treturn graphql.Null\n\t}\n\n\tif n := len(deferred.Defers); n > 0 {\n\t\tatomic.AddInt32(&ec.Deferred, int32(min(n, math.MaxInt32)))\n\t\tec.ProcessDeferredGroup(deferred)\n\t}\n\n\treturn out\n}\n",
		"(ret graphql.Marshaler) {\n\tif plainFields(ec.OperationContext) {\n\t\treturn (*stringField)(&obj.Name)\n\t}\n\treturn graphql.ResolveField(\n",
		"\t\tdata := ec._Query(ctx, opCtx.Operation.SelectionSet)\n\t\tresponse.Data = marshalResponse(opCtx.Operation, data)\n\t\treturn &response\n",
		"\tfields := ec.collected.fields(ec.OperationContext, sel, productImplementors)\n",
		"\tcollected collectedFieldsMemo\n}\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rewritten output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "MarshalSliceConcurrently") || strings.Contains(string(out), "NewDeferredGroup") {
		t.Errorf("a site is left unrewritten:\n%s", out)
	}
}

// TestPlainScalarOfAValue: a scalar field of an object given by value has no address to take:
// it is marshalled by its marshaller, with the value.
func TestPlainScalarOfAValue(t *testing.T) {
	src := strings.Replace(sample, "_Product_name(ctx context.Context, field graphql.CollectedField, obj *model.Product)",
		"_Product_name(ctx context.Context, field graphql.CollectedField, obj model.Product)", 1)
	out, err := Rewrite([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if want := "\tif plainFields(ec.OperationContext) {\n\t\treturn ec.marshalNString2string(ctx, field.Selections, obj.Name)\n\t}\n"; !strings.Contains(string(out), want) {
		t.Errorf("rewritten output lacks %q:\n%s", want, out)
	}
}

// TestRewriteRefusesOtherShapes: any variant of the constructs fails the generation.
func TestRewriteRefusesOtherShapes(t *testing.T) {
	for name, edit := range map[string][2]string{
		"a worker limit (exec.worker_limit)":      {"len(v), 0, false", "len(v), 4, false"},
		"omit_panic_handler":                      {"len(v), 0, false", "len(v), 0, true"},
		"another element body":                    {"\t\tfc.Result = &v[i]\n", "\t\tfc.Result = v[i]\n"},
		"a second, different list":                {"\treturn ret\n}\n", "\treturn ret\n}\n\nfunc x() { _ = graphql.MarshalSliceConcurrently(ctx, n, 0, false, f) }\n"},
		"no list at all":                          {"MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {", "Other(func(ctx context.Context, i int) graphql.Marshaler {"},
		"a group made elsewhere":                  {"\tdeferred := graphql.NewDeferredGroup(ctx)\n", "\tdeferred := graphql.NewDeferredGroup(ctx)\n\t_ = graphql.NewDeferredGroup(ctx)\n"},
		"another use of the group (its path)":     {"\tout.Dispatch(ctx)\n", "\tout.Dispatch(ctx)\n\t_ = deferred.Path\n"},
		"the group not right after the field set": {"\tout := graphql.NewFieldSet(fields)\n\tdeferred", "\tout := graphql.NewFieldSet(fields)\n\t_ = 1\n\tdeferred"},
		"an object returning out twice":           {"\tout.Dispatch(ctx)\n", "\tout.Dispatch(ctx)\n\tif out == nil {\n\t\treturn out\n\t}\n"},
		"an object returning something else":      {"\treturn out\n}\n\nfunc (ec *executionContext) marshalNProduct", "\treturn graphql.Null\n}\n\nfunc (ec *executionContext) marshalNProduct"},
		"no object resolved in line":              {"\t\t\tout.Values[i] = ec._PageInfo_hasNextPage(ctx, field, obj)\n", "\t\t\tout.Concurrently(i, f)\n"},
		"out returned without a field set":        {"\treturn ret\n}\n", "\treturn ret\n}\n\nfunc y() graphql.Marshaler {\n\treturn out\n}\n"},
		"a marshaller that may map to null":       {"res := graphql.MarshalString(v)", "res := graphql.MarshalTime(v)"},
		"a marshaller reading its context":        {"\t_ = sel\n\tres := graphql.MarshalString(v)", "\t_ = sel\n\t_ = graphql.GetFieldContext(ctx)\n\tres := graphql.MarshalString(v)"},
		"no plain field left":                     {"return obj.Name, nil", "return obj.Name(), nil"},
		"fields collected another way":            {"\treturn ret\n}\n", "\treturn ret\n}\n\nfunc z() { _ = graphql.CollectFields(oc, sel, nil) }\n"},
		"another use of the response buffer":      {"\t\tresponse.Data = buf.Bytes()\n", "\t\tresponse.Data = buf.Bytes()[1:]\n"},
	} {
		src := strings.Replace(sample, edit[0], edit[1], 1)
		if src == sample {
			t.Fatalf("%s: the edit does not apply", name)
		}
		if _, err := Rewrite([]byte(src)); err == nil {
			t.Errorf("%s: rewritten without an error", name)
		}
	}
}

// TestGqlgenTemplatesHaveTheShape reads the templates of the gqlgen in go.mod: when an upgrade
// changes the code the rewrites target, this fails (as does the generation itself).
func TestGqlgenTemplatesHaveTheShape(t *testing.T) {
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/99designs/gqlgen").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), "codegen", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, c := range []struct{ file, shape string }{
		{"type.gotpl", `(?m)^\s*ret := graphql\.MarshalSliceConcurrently\(ctx, len\(v\), \{\{ \$\.Config\.Exec\.WorkerLimit \}\}, \{\{ \$\.Config\.OmitPanicHandler \}\}, func\(ctx context\.Context, i int\) graphql\.Marshaler \{\n\s*fc := graphql\.GetFieldContext\(ctx\)\n\s*fc\.Result = &v\[i\]\n`},
		{"object.gotpl", `(?m)^\s*out := graphql\.NewFieldSet\(fields\)\n\s*deferred := graphql\.NewDeferredGroup\(ctx\)\n`},
	} {
		tpl := read(c.file)
		if n := len(regexp.MustCompile(c.shape).FindAllString(tpl, -1)); n != 1 {
			t.Errorf("%s: %d matches of the shape the rewrite expects, want 1", c.file, n)
		}
	}
}

// TestCommittedExecutorIsRewritten: graph/generated.go is the rewritten output.
func TestCommittedExecutorIsRewritten(t *testing.T) {
	src, err := os.ReadFile("../../graph/generated.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	if strings.Contains(s, "MarshalSliceConcurrently") || strings.Contains(s, "NewDeferredGroup") {
		t.Error("graph/generated.go holds gqlgen's output without the rewrites: run go generate ./graph")
	}
	fieldSets, inLine := strings.Count(s, "out := graphql.NewFieldSet(fields)"), strings.Count(s, "out := newObjectFields(fields)")
	if groups := strings.Count(s, "deferred := newDeferredGroup(ctx, fields)"); fieldSets == 0 || inLine == 0 || groups != fieldSets+inLine {
		t.Errorf("%d objects with a field set, %d without, %d rewritten deferred groups", fieldSets, inLine, groups)
	}
	if returns := strings.Count(s, "\treturn &objectFields{fields: fields, Values: out.Values}\n"); returns != fieldSets {
		t.Errorf("%d objects with a field set, %d rewritten returns", fieldSets, returns)
	}
	if strings.Count(s, "\tif plainFields(ec.OperationContext)") == 0 {
		t.Error("no plain field is rewritten")
	}
	if strings.Count(s, "ret := marshalList(ctx, sel, len(v),") == 0 {
		t.Error("no list is rewritten")
	}
}

// TestGqlgenResolveFieldIsTheOneReviewed: the plain path (plainfields.go) answers what
// graphql.ResolveField of gqlgen 0.17.98 answers for a struct field with no middleware. Any change
// to that file in a gqlgen upgrade fails this test: review the equivalence, then the hash.
func TestGqlgenResolveFieldIsTheOneReviewed(t *testing.T) {
	const reviewed = "fcd64cc0895aebdb6384deead9ecdffcb18e2f0afd76b017efe29218091d47c1"
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/99designs/gqlgen").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), "graphql", "resolve_field.go"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%x", sha256.Sum256(src)); got != reviewed {
		t.Errorf("gqlgen's graphql/resolve_field.go is not the one the plain-field rewrite was reviewed against (sha256 %s)", got)
	}
}

// TestPlainFieldForms: which struct-bound fields take which plain path.
func TestPlainFieldForms(t *testing.T) {
	site := func(goType, marshaler string) string {
		s := strings.ReplaceAll(sample, "v string) graphql.Marshaler {\n\t\t\treturn ec.marshalNString2string(ctx, selections, v)",
			"v "+goType+") graphql.Marshaler {\n\t\t\treturn ec."+marshaler+"(ctx, selections, v)")
		return s
	}
	for _, c := range []struct{ goType, marshaler, want string }{
		{"string", "marshalNString2string", "\tif plainFields(ec.OperationContext) {\n\t\treturn (*stringField)(&obj.Name)\n\t}\n"},
		{"*model.Category", "marshalNCategory2ᚖCategory", "\tif plainFields(ec.OperationContext) {\n\t\treturn resolvePlain(ctx, ec.OperationContext, field, ec.fieldContext_Product_name, obj.Name, ec.marshalNCategory2ᚖCategory)\n\t}\n"},
		{"[]string", "marshalNString2ᚕstringᚄ", "\t\treturn resolvePlain(ctx, ec.OperationContext, field, ec.fieldContext_Product_name, obj.Name, ec.marshalNString2ᚕstringᚄ)\n"},
		{"time.Time", "marshalNTime2timeᚐTime", "\t\treturn resolvePlain(ctx, ec.OperationContext, field, ec.fieldContext_Product_name, obj.Name, ec.marshalNTime2timeᚐTime)\n"},
		{"model.Node", "marshalNNode2Node", ""}, // may be an interface: ResolveField
	} {
		// A sample whose only plain field may be an interface has no plain site: add a string one.
		src := site(c.goType, c.marshaler)
		if c.want == "" {
			other := sample[strings.Index(sample, "func (ec *executionContext) _Product_name"):strings.Index(sample, "func (ec *executionContext) fieldContext_Product_name")]
			src += "\n" + strings.Replace(other, "_Product_name(", "_Product_other(", 1)
		}
		out, err := Rewrite([]byte(src))
		if err != nil {
			t.Fatalf("%s: %v", c.goType, err)
		}
		body := string(out)[strings.Index(string(out), "func (ec *executionContext) _Product_name("):]
		body = body[:strings.Index(body, "\n}\n")]
		switch {
		case c.want == "" && strings.Contains(body, "plainFields"):
			t.Errorf("%s: rewritten, want ResolveField only:\n%s", c.goType, body)
		case c.want != "" && !strings.Contains(body, c.want):
			t.Errorf("%s: lacks %q:\n%s", c.goType, c.want, body)
		}
	}
}

// categoryMarshalerSample is gqlgen's marshaller of a non-null *model.Category.
const categoryMarshalerSample = `
func (ec *executionContext) marshalNCategory2ᚖCategory(ctx context.Context, sel ast.SelectionSet, v *model.Category) graphql.Marshaler {
	if v == nil {
		graphql.AddInvalidNullError(ctx, "Category!")
		return graphql.Null
	}
	return ec._Category(ctx, sel, v)
}
`

// categorySample is the category's object marshaller: the sample's product one, whose one field
// is resolved on its field set (as Category.products is), with gqlgen's default case.
func categorySample() string {
	category := sample[:strings.Index(sample, "\nfunc (ec *executionContext) marshalNProduct2ᚕᚖProductᚄ")]
	return strings.NewReplacer("_Product(", "_Category(", "obj *model.Product", "obj *model.Category",
		"\t\t}\n\t}\n\tout.Dispatch", "\t\tdefault:\n\t\t\tpanic(\"unknown field \" + strconv.Quote(field.Name))\n\t\t}\n\t}\n\tout.Dispatch").
		Replace(category[strings.Index(category, "func "):])
}

// categoryFieldSample is the sample with Product.name made a field of type *model.Category.
func categoryFieldSample() string {
	return strings.ReplaceAll(sample, "v string) graphql.Marshaler {\n\t\t\treturn ec.marshalNString2string(ctx, selections, v)",
		"v *model.Category) graphql.Marshaler {\n\t\t\treturn ec.marshalNCategory2ᚖCategory(ctx, selections, v)")
}

// titleFieldSample is the sample's Product.name site and field context as a second scalar field,
// Product.title.
func titleFieldSample() string {
	scalar := sample[strings.Index(sample, "func (ec *executionContext) _Product_name"):strings.Index(sample, "func (ec *executionContext) marshalNString2string")]
	return strings.NewReplacer("_Product_name", "_Product_title", "obj.Name", "obj.Title").Replace(scalar)
}

// TestPureSelectionSites: a plain field of an object type given by pointer gets the pure-selection
// shortcut before resolvePlain, unless its field context parses arguments; and the pure scalar
// fields are listed for pureSelection.
func TestPureSelectionSites(t *testing.T) {
	object := categoryFieldSample() + categoryMarshalerSample + "\n" + categorySample()
	scalar := titleFieldSample()
	withArgs := strings.Replace(object, `return graphql.NewScalarFieldContext("Product", field, false, false, "String")`,
		"fc = &graphql.FieldContext{Object: \"Product\", Field: field}\n\tif fc.Args, err = ec.field_Product_name_args(ctx, field.ArgumentMap(ec.Variables)); err != nil {\n\t\treturn fc, err\n\t}\n\treturn fc, nil", 1)
	const shortcut = "\t\tif obj.Name != nil && pureSelection(field.Selections) {\n\t\t\treturn ec.pure_Category(ctx, field.Selections, obj.Name)\n\t\t}\n\t\treturn resolvePlain("
	for _, c := range []struct {
		name, src string
		want      bool
	}{{"object", object + "\n" + scalar, true}, {"with arguments", withArgs + "\n" + scalar, false}} {
		out, err := Rewrite([]byte(c.src))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := strings.Contains(string(out), shortcut); got != c.want {
			t.Errorf("%s: shortcut %v, want %v:\n%s", c.name, got, c.want, out)
		}
		pure := string(out)[strings.Index(string(out), "func (ec *executionContext) _Category("):]
		if i := strings.Index(string(out), "func (ec *executionContext) pure_Category("); i >= 0 {
			pure = string(out)[i:]
		}
		pure = pure[:strings.Index(pure, "\n}\n")]
		if got := strings.Contains(pure, "pure_Category") && strings.Contains(pure, "out := newObjectFields(fields)") &&
			!strings.Contains(pure, "ResolveConcurrently") && !strings.Contains(pure, "Dispatch"); got != c.want {
			t.Errorf("%s: a category marshaller resolved in line %v, want %v:\n%s", c.name, got, c.want, pure)
		}
		if want := "\t\t{\"Product\", \"title\"}: true,\n"; !strings.Contains(string(out), want) {
			t.Errorf("%s: pureScalarFields lacks %q:\n%s", c.name, want, out)
		}
	}
}
