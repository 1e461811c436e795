package app_test

import (
	"context"
	"database/sql"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/app/apptest"
	"github.com/shopql/shopql/store"
)

// TestDatabaseGoesAway (PostgreSQL only) cuts the server off its database in two ways and checks
// that clients get a masked INTERNAL_SERVER_ERROR, /readyz says not ready, and the server recovers
// by itself once the database is back. The shared PostgreSQL server itself is never stopped: the
// faults are confined to this test's connections and schema.
func TestDatabaseGoesAway(t *testing.T) {
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		t.Skip("PostgreSQL only: set TEST_DATABASE_URL")
	}
	s := apptest.New(t)
	user, _ := s.Client().User("ann@example.com")
	user.MustDo(meQuery, nil, nil)
	if got := readyz(t, s); got != http.StatusOK {
		t.Fatalf("readyz before: %d", got)
	}
	admin, err := store.Open(context.Background(), url, store.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()

	t.Run("connections terminated", func(t *testing.T) {
		pids := serverBackends(t, s)
		for _, pid := range pids {
			if _, err := admin.ExecContext(ctx, "SELECT pg_terminate_backend(?)", pid); err != nil {
				t.Fatal(err)
			}
		}
		waitForBackendsGone(t, admin, pids)
		// Every pooled connection is dead. The pool notices before using one (store's reset-session
		// check) and opens new ones: no request fails.
		for range 2 * len(pids) {
			if r := user.Do(meQuery, nil); len(r.Errors) > 0 {
				t.Fatalf("a request failed on a dead pooled connection: %s", r)
			}
		}
		if got := readyz(t, s); got != http.StatusOK {
			t.Fatalf("readyz after recovery: %d", got)
		}
	})

	t.Run("schema gone", func(t *testing.T) {
		schema := s.Config.SearchPath
		if _, err := admin.ExecContext(ctx, "ALTER SCHEMA "+schema+" RENAME TO "+schema+"_away"); err != nil {
			t.Fatal(err)
		}
		restored := false
		restore := func() {
			if !restored {
				restored = true
				if _, err := admin.ExecContext(ctx, "ALTER SCHEMA "+schema+"_away RENAME TO "+schema); err != nil {
					t.Fatal(err)
				}
			}
		}
		defer restore()
		assertMasked(t, user.Do(meQuery, nil))
		assertMasked(t, s.Client().Do(`mutation { login(email: "ann@example.com", password: "password-ann@example.com") { accessToken } }`, nil))
		if got := readyz(t, s); got != http.StatusServiceUnavailable {
			t.Fatalf("readyz while the schema is gone: %d, want 503", got)
		}
		restore()
		if got := readyz(t, s); got != http.StatusOK {
			t.Fatalf("readyz after: %d", got)
		}
		user.MustDo(meQuery, nil, nil)
		s.Client().Login("ann@example.com", "password-ann@example.com")
	})
}

// serverBackends returns the PostgreSQL backend PIDs of every connection the server's pool can
// hold, by taking them all at once.
func serverBackends(t *testing.T, s *apptest.Server) []int {
	t.Helper()
	ctx := context.Background()
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var pids []int
	for range s.App.DB.Stats().MaxOpenConnections {
		c, err := s.App.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c.Conn)
		var pid int
		if err := c.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// waitForBackendsGone waits until PostgreSQL has ended the backends, and so closed their sockets.
func waitForBackendsGone(t *testing.T, db *bun.DB, pids []int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var alive int
		err := db.NewRaw("SELECT count(*) FROM pg_stat_activity WHERE pid IN (?)", bun.List(pids)).Scan(context.Background(), &alive)
		if err != nil {
			t.Fatal(err)
		}
		if alive == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d terminated backends still running", alive)
		}
	}
}

// assertMasked checks a response failed with INTERNAL_SERVER_ERROR and nothing of the cause.
func assertMasked(t *testing.T, r *apptest.Response) {
	t.Helper()
	if r.Code() != "INTERNAL_SERVER_ERROR" || r.Errors[0].Message != "internal server error" || len(r.Errors[0].Extensions) != 1 {
		t.Fatalf("want a masked INTERNAL_SERVER_ERROR, got %s", r)
	}
}

func readyz(t *testing.T, s *apptest.Server) int {
	t.Helper()
	res, err := http.Get(s.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
