package graph

import (
	"context"
	"sync"
	"testing"
)

// TestLoadersBuiltOnFirstUse: a request's loaders cost nothing until a resolver needs one, and
// every resolver of the request, however many ask at once, gets the same loader.
func TestLoadersBuiltOnFirstUse(t *testing.T) {
	l := loaders(WithLoaders(context.Background(), nil))
	if l.productsByCategory != nil {
		t.Fatal("the category loader is built before any resolver asked for it")
	}
	var wg sync.WaitGroup
	got := make([]any, 8)
	for i := range got {
		wg.Go(func() { got[i] = l.categoryLoader() })
	}
	wg.Wait()
	for i, g := range got {
		if g == nil || g != got[0] {
			t.Fatalf("resolver %d got loader %p, resolver 0 %p", i, g, got[0])
		}
	}
	if other := loaders(WithLoaders(context.Background(), nil)).categoryLoader(); any(other) == got[0] {
		t.Fatal("two requests share a loader")
	}
}
