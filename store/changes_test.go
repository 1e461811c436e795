package store_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

// events collects the product events a database reports: published after commit on SQLite, notified
// on PostgreSQL.
type events struct {
	mu  sync.Mutex
	got []store.ProductEvent
}

func (e *events) add(ev store.ProductEvent) {
	e.mu.Lock()
	e.got = append(e.got, ev)
	e.mu.Unlock()
}

// next waits for the n-th event (from 0).
func (e *events) next(t *testing.T, n int) store.ProductEvent {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second) // only against hanging
	for {
		e.mu.Lock()
		if len(e.got) > n {
			ev := e.got[n]
			e.mu.Unlock()
			return ev
		}
		e.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no event %d", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestProductWritesAnnounceCommittedChanges(t *testing.T) {
	url, opts := freshDatabase(t)
	db := migrated(t, url, opts)
	ctx := context.Background()
	got := &events{}
	ctx = store.WithPublisher(ctx, got.add)
	if store.IsPostgres(db) {
		listen(t, db, got)
	}
	a, err := store.CreateCategory(ctx, db, "A")
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.CreateCategory(ctx, db, "B")
	if err != nil {
		t.Fatal(err)
	}
	fields := func(cat int64) store.ProductFields {
		return store.ProductFields{Description: "d", Price: 1, Quantity: 1, CategoryID: cat}
	}

	// Failed and rolled-back writes first: nothing of theirs may come before the committed ones.
	if _, err := store.CreateProduct(ctx, db, "Bad", fields(999999)); err == nil {
		t.Fatal("created a product in a missing category")
	}
	errRollback := errors.New("roll back")
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := store.CreateProduct(ctx, tx, "Ghost", fields(a.ID)); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}

	p, err := store.CreateProduct(ctx, db, "Hammer", fields(a.ID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateProduct(ctx, db, "Hammer", fields(a.ID)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := store.UpsertProduct(ctx, db, "Hammer", fields(a.ID), func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := store.UpsertProduct(ctx, db, "Hammer", fields(b.ID), func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteProduct(ctx, db, "Hammer"); err != nil {
		t.Fatal(err)
	}
	want := []store.ProductEvent{
		{Kind: model.ChangeKindCreated, ID: p.ID, Name: "Hammer", Categories: []int64{a.ID}},
		{Kind: model.ChangeKindUpdated, ID: p.ID, Name: "Hammer", Categories: []int64{a.ID}},
		{Kind: model.ChangeKindUpdated, ID: p.ID, Name: "Hammer", Categories: []int64{b.ID, a.ID}},
		{Kind: model.ChangeKindDeleted, ID: p.ID, Name: "Hammer", Categories: []int64{b.ID}},
	}
	for i, w := range want {
		if ev := got.next(t, i); ev.Kind != w.Kind || ev.ID != w.ID || ev.Name != w.Name || !slices.Equal(ev.Categories, w.Categories) {
			t.Errorf("event %d: got %+v, want %+v", i, ev, w)
		}
	}
}

// listen adds to got every product event db's database announces to db's deployment, from now
// until the test ends.
func listen(t *testing.T, db *bun.DB, got *events) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = store.Listen(ctx, db, map[string]func(string){store.ProductChannel: func(p string) {
			if ev, ok := store.ParseProductEvent(p); ok {
				got.add(ev)
			}
		}}, func() { close(listening) }, func() {})
	}()
	<-listening
	t.Cleanup(func() { cancel(); <-done })
}

// TestProductEventsStayInTheirSchema: deployments in two schemas of one PostgreSQL database each
// hear their own product changes and never the other's. Notifications from different
// transactions arrive in commit order, so a listener that heard the other schema's change, written
// first, would get it before its own.
func TestProductEventsStayInTheirSchema(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") == "" {
		t.Skip("PostgreSQL only: deployments sharing a SQLite file are one deployment")
	}
	ctx := context.Background()
	var dbs [2]*bun.DB
	var got [2]*events
	for i := range dbs {
		url, opts := freshDatabase(t)
		dbs[i], got[i] = open(t, url, opts), &events{}
		if _, err := store.Migrate(ctx, dbs[i]); err != nil {
			t.Fatal(err)
		}
		listen(t, dbs[i], got[i])
	}
	write := func(i int, name string) {
		t.Helper()
		cat, err := store.CreateCategory(ctx, dbs[i], name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.CreateProduct(ctx, dbs[i], name, store.ProductFields{Description: "d", Price: 1, Quantity: 1, CategoryID: cat.ID}); err != nil {
			t.Fatal(err)
		}
	}
	write(0, "first in schema 0")
	write(1, "in schema 1")
	write(0, "second in schema 0")
	for i, want := range [][]string{{"first in schema 0", "second in schema 0"}, {"in schema 1"}} {
		for n, name := range want {
			if ev := got[i].next(t, n); ev.Name != name {
				t.Errorf("schema %d, event %d: %q, want %q", i, n, ev.Name, name)
			}
		}
	}
}

func TestProductEventConcerns(t *testing.T) {
	moved := store.ProductEvent{Categories: []int64{2, 1}}
	for _, tc := range []struct {
		cat  int64
		want bool
	}{{0, true}, {1, true}, {2, true}, {3, false}} {
		if got := moved.Concerns(tc.cat); got != tc.want {
			t.Errorf("Concerns(%d) = %v", tc.cat, got)
		}
	}
	for _, payload := range []string{"", "{}", `{"k":"CREATED"}`, `not json`} {
		if _, ok := store.ParseProductEvent(payload); ok {
			t.Errorf("ParseProductEvent(%q) accepted", payload)
		}
	}
}
