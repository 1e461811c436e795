package app_test

import (
	"encoding/json"
	"testing"

	"github.com/shopql/shopql/internal/baseline"
	"github.com/shopql/shopql/store"
)

// BenchmarkCatalogBaseline serves the catalog query with baseline.Handler on the same data as
// BenchmarkCatalogAuthenticated: compare the two in one run.
func BenchmarkCatalogBaseline(b *testing.B) {
	s, token := benchShop(b)
	serveParallel(b, baseline.Handler(s.App.DB.DB, store.IsPostgres(s.App.DB), s.App.Auth), catalogQuery, token)
}

// TestBaselineMatchesServer keeps the comparison honest: both answer the same JSON, for the
// catalog query and for pages of the long tail (BenchmarkCatalogLongTail, cmd/loadtest).
func TestBaselineMatchesServer(t *testing.T) {
	s, token := benchShop(t)
	base := baseline.Handler(s.App.DB.DB, store.IsPostgres(s.App.DB), s.App.Auth)
	bodies := append([]string{catalogQuery}, longTail(t, s, 5)...)
	bodies = append(bodies, longTailBody(20, lastProductID(t, s))) // an empty page
	for _, body := range bodies {
		sameJSON(t, record(t, s.App.Handler(), body, token), record(t, base, body, token))
	}
}

func sameJSON(t *testing.T, ours, theirs []byte) {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(ours, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(theirs, &b); err != nil {
		t.Fatal(err)
	}
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	if string(aj) != string(bj) {
		t.Fatalf("responses differ:\nours:     %.300s\nbaseline: %.300s", aj, bj)
	}
}
