package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
	"github.com/shopql/shopql/graph"
	"github.com/shopql/shopql/graph/limits"
)

// maxErrorResponse bounds the body of an answer made of errors only: at most limits.MaxErrors,
// each a message of at most graph.MaxMessageBytes with a few locations and its code.
const maxErrorResponse = limits.MaxErrors * (graph.MaxMessageBytes + 200)

func repeatf(format string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// amplifiers are documents that each draw one validation error per repetition.
var amplifiers = map[string]string{
	"conflicting alias pairs (issue 9)": "{ " + strings.Repeat("a: __typename a: me ", 332) + "}",
	"unknown directives (issue 9)":      "{ __typename " + strings.Repeat("@aa ", 900) + "}",
	"differing arguments (issue 9)":     "{ " + repeatf("products(first: %d) { names } ", 200) + "}",
	"unknown fields":                    "{ " + strings.Repeat("x ", 1000) + "}",
	"long unknown fields":               "{ " + strings.Repeat(strings.Repeat("x", 3000)+" ", 10) + "}",
	"unknown arguments":                 "{ products(" + repeatf("a%d: 1 ", 300) + ") { names } }",
	"wrong argument types":              "{ " + repeatf("p%d: products(first: \"x\") { names } ", 300) + "}",
	"undefined variables":               "{ " + repeatf("p%d: products(first: $v) { names } ", 300) + "}",
	"unknown fragments":                 "{ " + repeatf("...F%d ", 600) + "}",
	"unknown types":                     "{ " + repeatf("... on T%d { __typename } ", 300) + "}",
	"missing arguments":                 "{ " + repeatf("u%d: user { id } ", 300) + "}",
	"unused variables":                  "query(" + repeatf("$v%d: Int ", 600) + ") { __typename }",
	"missing subselections":             "{ " + strings.Repeat("me ", 1000) + "}",
}

// gqlResponse is a GraphQL response with the locations of its errors.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Locations  []any          `json:"locations"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r *gqlResponse) String() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// sendRaw sends req and returns the status, the body's size and the decoded response.
func sendRaw(t *testing.T, req *http.Request) (int, int, *gqlResponse) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &gqlResponse{}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("status %d, body not JSON: %.200s", res.StatusCode, raw)
	}
	return res.StatusCode, len(raw), out
}

// TestValidationErrorsAreBounded sends each amplifier by POST and by GET, with the default limits
// and with every limit off: the answer is a validation failure of at most limits.MaxErrors errors
// and maxErrorResponse bytes, with the issue's documents refused by a limit in one error.
func TestValidationErrorsAreBounded(t *testing.T) {
	off := func(c *app.Config) {
		c.GraphQLMaxAliases, c.GraphQLMaxDirectives, c.GraphQLMaxDepth, c.GraphQLMaxComplexity, c.GraphQLMaxTokens = 0, 0, 0, 0, 0
	}
	for _, mode := range []string{"default limits", "limits off"} {
		t.Run(mode, func(t *testing.T) {
			s := apptest.New(t)
			if mode == "limits off" {
				s = apptest.New(t, off)
			}
			for name, doc := range amplifiers {
				for _, method := range []string{http.MethodPost, http.MethodGet} {
					var req *http.Request
					if method == http.MethodPost {
						req = mustRequest(t, method, s.URL+"/graphql", jsonQuery(doc))
						req.Header.Set("Content-Type", "application/json")
					} else {
						req = mustRequest(t, method, s.URL+"/graphql?"+url.Values{"query": {doc}}.Encode(), "")
					}
					req.Header.Set("Accept", "application/graphql-response+json")
					status, size, r := sendRaw(t, req)
					if status != http.StatusBadRequest || len(r.Errors) == 0 || r.Data != nil {
						t.Fatalf("%s %s: want 400 with errors and no data, got %d %.300s", method, name, status, r)
					}
					if len(r.Errors) > limits.MaxErrors || size > maxErrorResponse {
						t.Fatalf("%s %s: %d errors, %d bytes for a %d-byte document", method, name, len(r.Errors), size, len(doc))
					}
					for _, e := range r.Errors {
						if code := e.Extensions["code"]; code != "GRAPHQL_VALIDATION_FAILED" && code != "GRAPHQL_PARSE_FAILED" || len(e.Message) > graph.MaxMessageBytes {
							t.Fatalf("%s %s: error %+v", method, name, e)
						}
					}
					if mode == "default limits" && strings.HasSuffix(name, "(issue 9)") && !strings.HasPrefix(name, "differing") && (len(r.Errors) != 1 || r.Errors[0].Extensions["reason"] == nil) {
						t.Fatalf("%s %s: want the one error of a limit, got %d errors, first %+v", method, name, len(r.Errors), r.Errors[0])
					}
				}
			}
		})
	}
}

// TestIssueDocumentsRefusedByTheirLimit: with the default settings, each document of the issue
// is refused by the limit it breaks, in one error.
func TestIssueDocumentsRefusedByTheirLimit(t *testing.T) {
	c := apptest.New(t).Client()
	assertLimit(t, c.Do(amplifiers["conflicting alias pairs (issue 9)"], nil), limits.ReasonAliases)
	assertLimit(t, c.Do(amplifiers["unknown directives (issue 9)"], nil), limits.ReasonDirectives)
	// 200 differing arguments pass the limits (no alias, 401 fields): gqlparser reports their
	// 19,900 conflicting pairs, cut at the budget.
	r := c.Do(amplifiers["differing arguments (issue 9)"], nil)
	if len(r.Errors) != limits.MaxErrors || !strings.Contains(r.Errors[len(r.Errors)-1].Message, "too many validation errors") {
		t.Fatalf("want %d errors, the last saying validation stopped; got %d", limits.MaxErrors, len(r.Errors))
	}
}

func jsonQuery(doc string) string {
	b, _ := json.Marshal(map[string]string{"query": doc})
	return string(b)
}

// identifiers are the GraphQL names in s.
var identifiers = regexp.MustCompile(`[_A-Za-z][_0-9A-Za-z]*`)

// schemaNames are the names of the types, fields, arguments, input fields and enum values of
// the schema, built-in scalars included.
func schemaNames(t *testing.T) map[string]bool {
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	s := gqlparser.MustLoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	names := map[string]bool{}
	for name, def := range s.Types {
		if strings.HasPrefix(name, "__") {
			continue
		}
		names[name] = true
		for _, f := range def.Fields {
			names[f.Name] = true
			for _, a := range f.Arguments {
				names[a.Name] = true
			}
		}
		for _, v := range def.EnumValues {
			names[v.Name] = true
		}
	}
	return names
}

// TestValidationMessagesNameNoSchemaWithoutIntrospection sends documents whose errors used to
// spell out the schema (clairvoyance's oracle): with introspection off, no error names a type,
// field or argument of the schema that the document does not itself contain, and the code and
// locations stay. With it on, the same documents get gqlparser's helpful messages (which do name
// them, so the check can fail).
func TestValidationMessagesNameNoSchemaWithoutIntrospection(t *testing.T) {
	type request struct {
		doc  string
		vars map[string]any
	}
	leaky := map[string]request{
		"missing subselection":        {`{ me }`, nil},
		"unknown field":               {`{ produts { names } }`, nil},
		"field of a nested type":      {`{ products { items { nam } } }`, nil},
		"subselection on a scalar":    {`{ products { names { x } } }`, nil},
		"unknown argument":            {`{ products(frist: 1) { names } }`, nil},
		"wrong argument type":         {`{ products(first: "x") { names } }`, nil},
		"missing required argument":   {`{ product { description } }`, nil},
		"unknown type in a variable":  {`query($c: Categry) { __typename }`, nil},
		"unknown type in a fragment":  {`{ ... on Prodct { __typename } }`, nil},
		"impossible fragment spread":  {`{ ... on Product { __typename } }`, nil},
		"variable in wrong position":  {`query($n: String) { products(first: $n) { names } }`, nil},
		"conflicting fields":          {`{ a: products(first: 1) { names } a: products(first: 2) { names } }`, nil},
		"conflicting types":           {`{ products { items { x: name x: price } } }`, nil},
		"non-input variable type":     {`query($u: AuthPayload) { __typename }`, nil},
		"unknown operation type":      {`subscription { x }`, nil},
		"input object literal":        {`mutation { register(input: { nope: 1 }) { id } }`, nil},
		"unknown input field (var)":   {`mutation($in: RegisterInput!) { register(input: $in) { id } }`, map[string]any{"in": map[string]any{"x": 1}}},
		"missing input field (var)":   {`mutation($in: RegisterInput!) { register(input: $in) { id } }`, map[string]any{"in": map[string]any{}}},
		"unknown directive":           {`{ __typename @cached }`, nil},
		"misplaced directive":         {`query @include(if: true) { __typename }`, nil},
		"repeated directive location": {`{ __typename @skip(if: false) @skip(if: false) }`, nil},
	}
	names := schemaNames(t)
	leaks := func(doc string, r *gqlResponse) []string {
		inDoc := map[string]bool{}
		for _, id := range identifiers.FindAllString(doc, -1) {
			inDoc[id] = true
		}
		var found []string
		for _, e := range r.Errors {
			text := e.Message + fmt.Sprint(e.Path)
			for _, id := range identifiers.FindAllString(text, -1) {
				if names[id] && !inDoc[id] {
					found = append(found, id)
				}
			}
			if strings.Contains(e.Message, "Did you mean") {
				found = append(found, "Did you mean")
			}
		}
		return found
	}
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprint("introspection=", on), func(t *testing.T) {
			s := apptest.New(t, func(c *app.Config) { c.GraphQLIntrospection = on })
			leaked := 0
			for name, req := range leaky {
				body, _ := json.Marshal(map[string]any{"query": req.doc, "variables": req.vars})
				post := mustRequest(t, http.MethodPost, s.URL+"/graphql", string(body))
				post.Header.Set("Content-Type", "application/json")
				_, _, r := sendRaw(t, post)
				if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" || r.Data != nil {
					t.Fatalf("%s: want GRAPHQL_VALIDATION_FAILED, got %s", name, r)
				}
				found := leaks(req.doc, r)
				if len(found) > 0 {
					leaked++
				}
				if on {
					continue
				}
				if len(found) > 0 {
					t.Errorf("%s: %s names %v", name, r, found)
				}
				for _, e := range r.Errors {
					// Errors in variables' values have a path (variable, name) instead.
					if e.Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" || req.vars == nil && len(e.Locations) == 0 {
						t.Errorf("%s: want GRAPHQL_VALIDATION_FAILED and locations: %+v", name, e)
					}
				}
			}
			if on && leaked < len(leaky)/2 {
				t.Fatalf("with introspection on, only %d of %d documents drew messages naming the schema", leaked, len(leaky))
			}
		})
	}
}
