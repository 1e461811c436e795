package app_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopql/shopql/app/apptest"
)

// introspectionQuery is graphql-js's getIntrospectionQuery with every option on, as GraphiQL, codegen
// and schema-diff tools send it (kept in testdata/introspection.graphql).
func introspectionQuery(t *testing.T) string {
	t.Helper()
	q, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	return string(q)
}

type introType struct {
	Kind, Name    string
	Description   *string
	Fields        []introField
	InputFields   []introValue
	Interfaces    []introRef
	EnumValues    []struct{ Name, Description string }
	PossibleTypes []introRef
}

type introField struct {
	Name        string
	Description *string
	Args        []introValue
	Type        introRef
}

type introValue struct {
	Name         string
	Description  *string
	Type         introRef
	DefaultValue *string
}

type introRef struct {
	Kind   string
	Name   *string
	OfType *introRef
}

// String renders a type reference in SDL, e.g. [Product!]!.
func (r introRef) String() string {
	switch r.Kind {
	case "NON_NULL":
		return r.OfType.String() + "!"
	case "LIST":
		return "[" + r.OfType.String() + "]"
	default:
		return *r.Name
	}
}

type introDirective struct {
	Name         string
	Description  *string
	IsRepeatable bool
	Locations    []string
	Args         []introValue
}

type introspection struct {
	Schema struct {
		QueryType, MutationType struct{ Name string }
		SubscriptionType        *struct{ Name string }
		Types                   []introType
		Directives              []introDirective
	} `json:"__schema"`
}

// builtIn reports whether a type or directive comes with every GraphQL server rather than from
// schema.graphqls.
func builtIn(name string) bool {
	return strings.HasPrefix(name, "__") || slices.Contains([]string{
		"String", "Int", "Float", "Boolean", "ID", "include", "skip", "deprecated", "specifiedBy", "oneOf",
	}, name)
}

// TestIntrospectionMatchesSchemaFile runs the standard introspection query over HTTP, rebuilds
// from it every type and directive signature with its description, and compares them with
// schema.graphqls; and it checks that every type, field, argument and directive is described.
func TestIntrospectionMatchesSchemaFile(t *testing.T) {
	s := apptest.New(t)
	var got introspection
	s.Client().MustDo(introspectionQuery(t), nil, &got)

	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	want, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	if err != nil {
		t.Fatal(err)
	}

	if got.Schema.QueryType.Name != want.Query.Name || got.Schema.MutationType.Name != want.Mutation.Name ||
		got.Schema.SubscriptionType == nil || want.Subscription == nil || got.Schema.SubscriptionType.Name != want.Subscription.Name {
		t.Errorf("root types differ: %+v", got.Schema)
	}
	gotSigs, wantSigs := map[string]string{}, map[string]string{}
	for _, ty := range got.Schema.Types {
		if !builtIn(ty.Name) {
			gotSigs["type "+ty.Name] = introTypeSig(ty)
			checkDescribed(t, ty)
		}
	}
	for _, d := range got.Schema.Directives {
		if !builtIn(d.Name) {
			gotSigs["directive @"+d.Name] = introDirectiveSig(d)
			if d.Description == nil || *d.Description == "" {
				t.Errorf("directive @%s has no description", d.Name)
			}
			for _, a := range d.Args {
				if a.Description == nil || *a.Description == "" {
					t.Errorf("argument %s of @%s has no description", a.Name, d.Name)
				}
			}
		}
	}
	for name, def := range want.Types {
		if !builtIn(name) {
			wantSigs["type "+name] = astTypeSig(def)
		}
	}
	for name, d := range want.Directives {
		// gqlparser's prelude declares @defer; the server leaves it out (graph.NewServedSchema).
		if !builtIn(name) && name != "defer" {
			wantSigs["directive @"+name] = astDirectiveSig(d)
		}
	}
	if len(gotSigs) < 12 {
		t.Fatalf("introspection returned only %d types and directives", len(gotSigs))
	}
	for k := range wantSigs {
		if gotSigs[k] != wantSigs[k] {
			t.Errorf("%s differs.\nintrospection:\n%s\nschema.graphqls:\n%s", k, gotSigs[k], wantSigs[k])
		}
	}
	for k := range gotSigs {
		if _, ok := wantSigs[k]; !ok {
			t.Errorf("introspection has %s, which schema.graphqls lacks", k)
		}
	}
}

// checkDescribed reports every part of ty that lacks a description.
func checkDescribed(t *testing.T, ty introType) {
	t.Helper()
	if ty.Description == nil || *ty.Description == "" {
		t.Errorf("type %s has no description", ty.Name)
	}
	for _, f := range ty.Fields {
		if f.Description == nil || *f.Description == "" {
			t.Errorf("field %s.%s has no description", ty.Name, f.Name)
		}
		for _, a := range f.Args {
			if a.Description == nil || *a.Description == "" {
				t.Errorf("argument %s of %s.%s has no description", a.Name, ty.Name, f.Name)
			}
		}
	}
	for _, f := range ty.InputFields {
		if f.Description == nil || *f.Description == "" {
			t.Errorf("input field %s.%s has no description", ty.Name, f.Name)
		}
	}
	for _, v := range ty.EnumValues {
		if v.Description == "" {
			t.Errorf("enum value %s.%s has no description", ty.Name, v.Name)
		}
	}
}

// The signatures below render a type or directive the same way from introspection and from the
// parsed schema file: kind, description, and each member with its type, default and description.

func introTypeSig(ty introType) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q\n", ty.Kind, deref(ty.Description))
	for _, f := range ty.Fields {
		fmt.Fprintf(&b, "  %s: %s %q\n", f.Name, f.Type, deref(f.Description))
		for _, a := range f.Args {
			writeIntroValue(&b, "    ", a)
		}
	}
	for _, f := range ty.InputFields {
		writeIntroValue(&b, "  ", f)
	}
	for _, v := range ty.EnumValues {
		fmt.Fprintf(&b, "  = %s %q\n", v.Name, v.Description)
	}
	for _, i := range ty.Interfaces {
		fmt.Fprintf(&b, "  implements %s\n", i)
	}
	return b.String()
}

func writeIntroValue(b *strings.Builder, indent string, v introValue) {
	fmt.Fprintf(b, "%s(%s: %s = %s) %q\n", indent, v.Name, v.Type, deref(v.DefaultValue), deref(v.Description))
}

func introDirectiveSig(d introDirective) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q repeatable=%v on %s\n", deref(d.Description), d.IsRepeatable, strings.Join(d.Locations, "|"))
	for _, a := range d.Args {
		writeIntroValue(&b, "  ", a)
	}
	return b.String()
}

func astTypeSig(def *ast.Definition) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q\n", def.Kind, def.Description)
	for _, f := range def.Fields {
		if builtIn(f.Name) {
			continue // __typename, __schema, __type
		}
		if def.Kind == ast.InputObject {
			writeASTValue(&b, "  ", f.Name, f.Type, f.DefaultValue, f.Description)
			continue
		}
		fmt.Fprintf(&b, "  %s: %s %q\n", f.Name, f.Type, f.Description)
		for _, a := range f.Arguments {
			writeASTValue(&b, "    ", a.Name, a.Type, a.DefaultValue, a.Description)
		}
	}
	for _, v := range def.EnumValues {
		fmt.Fprintf(&b, "  = %s %q\n", v.Name, v.Description)
	}
	for _, i := range def.Interfaces {
		fmt.Fprintf(&b, "  implements %s\n", i)
	}
	return b.String()
}

func writeASTValue(b *strings.Builder, indent, name string, ty *ast.Type, def *ast.Value, desc string) {
	dv := ""
	if def != nil {
		dv = def.String()
	}
	fmt.Fprintf(b, "%s(%s: %s = %s) %q\n", indent, name, ty, dv, desc)
}

func astDirectiveSig(d *ast.DirectiveDefinition) string {
	var b strings.Builder
	locs := make([]string, len(d.Locations))
	for i, l := range d.Locations {
		locs[i] = string(l)
	}
	fmt.Fprintf(&b, "%q repeatable=%v on %s\n", d.Description, d.IsRepeatable, strings.Join(locs, "|"))
	for _, a := range d.Arguments {
		writeASTValue(&b, "  ", a.Name, a.Type, a.DefaultValue, a.Description)
	}
	return b.String()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
