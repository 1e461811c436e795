package graph

import (
	"strconv"
	"testing"

	"github.com/shopql/shopql/store"
)

// The schema states products' default page size and its range; the store and the cost walk use
// store's constants, which must say the same.
func TestPageSizesMatchTheSchema(t *testing.T) {
	first := NewExecutableSchema(Config{}).Schema().Query.Fields.ForName("products").Arguments.ForName("first")
	if first == nil || first.DefaultValue == nil || first.DefaultValue.Raw != strconv.Itoa(store.DefaultPageSize) {
		t.Fatalf("products(first:) defaults to %v in the schema, store.DefaultPageSize is %d", first.DefaultValue, store.DefaultPageSize)
	}
	if got := pageSize(nil); got != store.DefaultPageSize {
		t.Errorf("cost of an unset first: %d items, want %d", got, store.DefaultPageSize)
	}
	big := store.MaxPageSize + 1
	if got := pageSize(&big); got != store.MaxPageSize {
		t.Errorf("cost of first: %d is %d items, want the largest page, %d", big, got, store.MaxPageSize)
	}
}
