package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/model"
)

// TestCatalogCacheServesRepeats changes the data behind the server's back (no mutation, no
// announcement): a repeated query still gets the cached answer until it expires, while a query
// with other variables sees the change.
func TestCatalogCacheServesRepeats(t *testing.T) {
	const ttl = 2 * time.Second
	s := newShop(t, func(c *app.Config) { c.ResponseCacheTTL = ttl })
	cat := s.category(t, "Tools")
	s.product(t, "Hammer", cat, 1)
	var catID int64
	if err := s.App.DB.NewRaw("SELECT id FROM categories WHERE name = 'Tools'").Scan(context.Background(), &catID); err != nil {
		t.Fatal(err)
	}
	page := map[string]any{"first": 10}
	// On PostgreSQL the server also hears its own announcements of the writes above, a moment
	// later (longer under the race detector), and drops its cache: an attempt that sees that
	// happen between filling the cache and repeating the query is made again.
	cached, stored := false, 1
	for attempt := 1; attempt <= 5 && !cached; attempt++ {
		time.Sleep(300 * time.Millisecond)
		before := products(t, s.user, page) // fills the cache
		saw := &model.Product{Name: fmt.Sprint("Saw ", attempt), CategoryID: catID, CreatedAt: time.Now().UTC()}
		if _, err := s.App.DB.NewInsert().Model(saw).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		stored++
		at := time.Now()
		got := products(t, s.user, page)
		cached = len(got.Names) == len(before.Names)
		if !cached && time.Since(at) >= ttl {
			t.Skip("the machine was too slow to observe the cache within its TTL")
		}
	}
	if !cached {
		t.Fatal("a repeated query was never served from the cache")
	}
	if got := products(t, s.user, map[string]any{"first": 11}); len(got.Names) != stored {
		t.Fatalf("a query with other variables was served from the cache: %v", got.Names)
	}
	time.Sleep(ttl)
	if got := products(t, s.user, page); len(got.Names) != stored {
		t.Fatalf("an expired entry was served: %v", got.Names)
	}
}

func TestCatalogCacheIsInvalidatedByWrites(t *testing.T) {
	s := newShop(t)
	cat := s.category(t, "Tools")
	s.product(t, "Hammer", cat, 1)
	if got := products(t, s.anon, nil); strings.Join(got.Names, ",") != "Hammer" {
		t.Fatalf("before: %v", got.Names)
	}
	s.product(t, "Saw", cat, 1)
	if got := products(t, s.anon, nil); strings.Join(got.Names, ",") != "Hammer,Saw" || got.TotalCount != 2 {
		t.Fatalf("after create: %+v", got)
	}
	s.user.MustDo(`mutation { renameCategory(name: "Tools", newName: "Hand tools") { id } }`, nil, nil)
	var out struct {
		Products struct {
			Items []struct{ Category struct{ Name string } }
		}
	}
	s.user.MustDo(`{ products { items { category { name } } } }`, nil, &out)
	s.admin.MustDo(`mutation { deleteProduct(name: "Saw") }`, nil, nil)
	if got := products(t, s.anon, nil); strings.Join(got.Names, ",") != "Hammer" {
		t.Fatalf("after delete: %v", got.Names)
	}
	s.user.MustDo(`{ products { items { category { name } } } }`, nil, &out)
	if out.Products.Items[0].Category.Name != "Hand tools" {
		t.Fatalf("after rename: %+v", out)
	}
}

// TestCatalogCacheNeverHidesTokenErrors: a cached detailed page is never served to a caller whose
// token fails, nor to an anonymous caller.
func TestCatalogCacheNeverHidesTokenErrors(t *testing.T) {
	s := newShop(t)
	cat := s.category(t, "Tools")
	s.product(t, "Hammer", cat, 1)
	if got := products(t, s.user, nil); !got.Detailed {
		t.Fatal("not detailed")
	}
	if got := products(t, s.anon, nil); got.Detailed || got.Items != nil {
		t.Fatalf("anonymous caller got the detailed page: %+v", got)
	}
	assertAuthError(t, s.anon.WithToken("garbage").Do(productsQuery, nil), "UNAUTHENTICATED", "TOKEN_INVALID")
	s.user.MustDo(`mutation { logout }`, nil, nil)
	assertAuthError(t, s.user.Do(productsQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
}

// TestCatalogCacheSeesWritesThroughFragments: a catalog mutation invalidates the cache however
// the document reaches the field (inline fragment, named fragment, alias).
func TestCatalogCacheSeesWritesThroughFragments(t *testing.T) {
	s := newShop(t)
	cat := s.category(t, "Tools")
	s.product(t, "Hammer", cat, 1)
	steps := []struct {
		mutation string
		vars     map[string]any
		want     string
	}{
		{`mutation($n: String!, $in: ProductInput!) { ... on Mutation { createProduct(name: $n, input: $in) { id } } }`,
			productVars("Saw", cat, 2), "Hammer,Saw"},
		{`mutation { ...Delete } fragment Delete on Mutation { deleteProduct(name: "Hammer") }`,
			nil, "Saw"},
		{`mutation($n: String!, $in: ProductInput!) { ... { made: upsertProduct(name: $n, input: $in) { id } } }`,
			productVars("Plane", cat, 3), "Saw,Plane"},
	}
	for _, step := range steps {
		products(t, s.anon, nil) // cached
		if step.vars == nil {
			s.admin.MustDo(step.mutation, nil, nil)
		} else {
			s.user.MustDo(step.mutation, step.vars, nil)
		}
		if got := products(t, s.anon, nil); strings.Join(got.Names, ",") != step.want {
			t.Fatalf("after %s: %v, want %s", step.mutation, got.Names, step.want)
		}
	}
}
