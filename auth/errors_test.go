package auth

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"
)

// Reasons must name every Reason constant, or a new one would go uncounted.
func TestReasonsListsEveryReason(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := 0
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			v := spec.(*ast.ValueSpec)
			if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "Reason" {
				continue
			}
			for _, val := range v.Values {
				s, _ := strconv.Unquote(val.(*ast.BasicLit).Value)
				declared++
				if !slices.Contains(Reasons, Reason(s)) {
					t.Errorf("Reasons lacks %s", s)
				}
			}
		}
	}
	if declared != len(Reasons) {
		t.Errorf("%d Reason constants, %d in Reasons", declared, len(Reasons))
	}
}
