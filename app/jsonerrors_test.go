package app_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/shopql/shopql/app/apptest"
)

// goTypeName matches what encoding/json, mapstructure and reflection put in their messages: Go type
// and package names that tell an attacker what the server is built with and mean nothing to a client.
var goTypeName = regexp.MustCompile(`Go (value|struct)|\bapp\.|\bgraphql\.|\bmodel\.|\bmap\[|\binterface ?\{|\bfloat64\b|\bint64\b|\bint32\b|\[\]uint8|json\.Number|\bjson:|\bstruct\b|\breflect\b|\bunmarshal\b|\b(slice|map|ptr)\b`)

// TestJSONErrorsNameNoGoTypes sends bodies whose JSON is malformed or of the wrong shape at every
// level, and checks each answer is a clear error with a code that names no Go type.
func TestJSONErrorsNameNoGoTypes(t *testing.T) {
	s := apptest.New(t)
	const q = `"query($n: String!, $f: Int) { product(name: $n) { id } products(first: $f) { names } }"`
	const m = `"mutation($in: ProductInput!) { createProduct(name: \"x\", input: $in) { id } }"`
	bodies := map[string]string{
		"array batch":              `[{"query":"{ __typename }"}]`,
		"empty array":              `[]`,
		"string":                   `"{ __typename }"`,
		"number":                   `42`,
		"huge number":              `1e999`,
		"true":                     `true`,
		"null":                     `null`,
		"empty":                    ``,
		"whitespace":               `   `,
		"truncated":                `{"query":"{ __typename }"`,
		"syntax":                   `{"query": x}`,
		"trailing":                 `{"query":"{ __typename }"} {}`,
		"query number":             `{"query": 1}`,
		"query object":             `{"query": {"a": 1}}`,
		"query array":              `{"query": ["{ __typename }"]}`,
		"operationName number":     `{"query":"{ __typename }","operationName": 7}`,
		"operationName object":     `{"query":"{ __typename }","operationName": {}}`,
		"variables array":          `{"query":"{ __typename }","variables": [1]}`,
		"variables string":         `{"query":"{ __typename }","variables": "{}"}`,
		"variables number":         `{"query":"{ __typename }","variables": 1}`,
		"extensions array":         `{"query":"{ __typename }","extensions": [1]}`,
		"extensions string":        `{"query":"{ __typename }","extensions": "x"}`,
		"persistedQuery string":    `{"query":"{ __typename }","extensions": {"persistedQuery": "x"}}`,
		"persistedQuery array":     `{"extensions": {"persistedQuery": [1]}}`,
		"persistedQuery version":   `{"extensions": {"persistedQuery": {"version": "one", "sha256Hash": 5}}}`,
		"persistedQuery hash type": `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": {"a": 1}}}}`,
		"variable string for Int":  `{"query":` + q + `,"variables": {"n": "x", "f": "ten"}}`,
		"variable float for Int":   `{"query":` + q + `,"variables": {"n": "x", "f": 1.5}}`,
		"variable huge Int":        `{"query":` + q + `,"variables": {"n": "x", "f": 1e30}}`,
		"variable big Int":         `{"query":` + q + `,"variables": {"n": "x", "f": 99999999999999999999}}`,
		"variable object for Str":  `{"query":` + q + `,"variables": {"n": {"a": [1]}}}`,
		"variable array for Str":   `{"query":` + q + `,"variables": {"n": [1, 2]}}`,
		"variable number for Str":  `{"query":` + q + `,"variables": {"n": 1}}`,
		"variable null for Str!":   `{"query":` + q + `,"variables": {"n": null}}`,
		"nested input array":       `{"query":` + m + `,"variables": {"in": [1]}}`,
		"nested input wrong":       `{"query":` + m + `,"variables": {"in": {"description": 1, "price": "a", "quantity": [], "categoryId": {}}}}`,
		"nested input extra":       `{"query":` + m + `,"variables": {"in": {"description": "d", "price": 1, "quantity": 1, "categoryId": "1", "x": 1}}}`,
		"nested input huge price":  `{"query":` + m + `,"variables": {"in": {"description": "d", "price": 1e400, "quantity": 1, "categoryId": "1"}}}`,
		"deep nesting":             `{"query":"{ __typename }","variables": {"v": ` + strings.Repeat(`[`, 5000) + strings.Repeat(`]`, 5000) + `}}`,
		"deep nesting of a string": `{"query":` + q + `,"variables": {"n": ` + strings.Repeat(`[`, 5000) + strings.Repeat(`]`, 5000) + `}}`,
	}
	for name, body := range bodies {
		r := send(t, s, "POST", "/graphql", body, map[string]string{"Content-Type": "application/json"})
		t.Logf("%s: %d %s", name, r.status, r.text)
		if goTypeName.MatchString(r.text) {
			t.Errorf("%s: the answer names Go types: %s", name, r.text)
		}
		if name != "deep nesting" && !strings.Contains(r.text, `"code"`) {
			t.Errorf("%s: no extensions.code: %d %s", name, r.status, r.text)
		}
	}
}
