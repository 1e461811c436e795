package graphiql

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestStarterOperations: the operations GraphiQL opens with are valid against schema.graphqls,
// cover the whole first visit (register, log in, the detailed catalog with items, refresh),
// and use a password the data rules accept (at least 8 characters).
func TestStarterOperations(t *testing.T) {
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	doc, errs := gqlparser.LoadQueryWithRules(schema, defaultQuery, nil)
	if errs != nil {
		t.Fatalf("the starter operations do not validate: %v", errs)
	}
	var names []string
	for _, op := range doc.Operations {
		names = append(names, op.Name)
	}
	for _, want := range []string{"Catalog", "Register", "Login", "Refresh"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s operation among %v", want, names)
		}
	}
	catalog := doc.Operations.ForName("Catalog").SelectionSet[0].(*ast.Field)
	if !hasField(catalog.SelectionSet, "items") {
		t.Error("Catalog does not ask for items: a logged-in user would still see names only")
	}
	if !hasField(doc.Operations.ForName("Login").SelectionSet[0].(*ast.Field).SelectionSet, "refreshToken") {
		t.Error("Login does not ask for the refreshToken that Refresh needs")
	}
	passwords := regexp.MustCompile(`password: "([^"]*)"`).FindAllStringSubmatch(defaultQuery, -1)
	if len(passwords) < 2 {
		t.Fatalf("found %d passwords", len(passwords))
	}
	for _, p := range passwords {
		if len([]rune(p[1])) < 8 {
			t.Errorf("password %q is shorter than the 8 characters the data rules require", p[1])
		}
	}
}

func hasField(set ast.SelectionSet, name string) bool {
	return slices.ContainsFunc(set, func(s ast.Selection) bool {
		f, ok := s.(*ast.Field)
		return ok && f.Name == name
	})
}
