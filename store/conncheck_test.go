package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/shopql/shopql/store"
)

// TestIdleConnectionIsReused (PostgreSQL only): the check made before reusing a pooled connection
// keeps a healthy one, however long it sat idle, even past the read deadline its last query left
// on the socket.
func TestIdleConnectionIsReused(t *testing.T) {
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		t.Skip("PostgreSQL only: set TEST_DATABASE_URL")
	}
	db, err := store.Open(context.Background(), url, store.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	backend := func(ctx context.Context) int {
		var pid int
		if err := db.NewRaw("SELECT pg_backend_pid()").Scan(ctx, &pid); err != nil {
			t.Fatal(err)
		}
		return pid
	}
	first := backend(context.Background())
	// pgdriver leaves a read deadline on the socket, ReadTimeout (10 s) after its last read.
	time.Sleep(11 * time.Second)
	if second := backend(context.Background()); second != first {
		t.Fatalf("a healthy idle connection was replaced: backend %d, then %d", first, second)
	}
}
