package graph

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// slotOf is marshalResponse's slot of op.
func slotOf(op *ast.OperationDefinition) uint64 {
	return (uint64(reflect.ValueOf(op).Pointer()) * 0x9E3779B97F4A7C15) >> 56
}

// TestMarshalResponseOfASmallOperationSharingASlot: an operation that shares its slot with one of
// large responses (256 slots: two of 20 hot documents share one more often than not, and a
// document parsed anew lands anywhere) gets the large one's size as its guess. A wrong guess costs
// not a few doublings but up to 64 KiB for each response of a few bytes — allocated and, as
// response.Data, kept (by the response cache too) — where bytes.Buffer never allocates more than
// about twice the response.
func TestMarshalResponseOfASmallOperationSharingASlot(t *testing.T) {
	large := &ast.OperationDefinition{}
	var small *ast.OperationDefinition
	var keep []*ast.OperationDefinition // distinct addresses until one shares large's slot
	for small == nil {
		op := &ast.OperationDefinition{}
		if slotOf(op) == slotOf(large) {
			small = op
		}
		keep = append(keep, op)
	}
	big := strings.Repeat("x", 60<<10)
	marshalResponse(large, graphql.WriterFunc(func(w io.Writer) { _, _ = io.WriteString(w, big) }))
	data := marshalResponse(small, graphql.WriterFunc(func(w io.Writer) { _, _ = io.WriteString(w, `{"me":{"id":"1"}}`) }))
	if limit := 2*len(data) + 64; cap(data) > limit {
		t.Errorf("a %d-byte response of another operation in the slot is held in %d bytes (bytes.Buffer: at most ~%d)", len(data), cap(data), limit)
	}
	_ = keep
}
