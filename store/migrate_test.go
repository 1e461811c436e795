package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/shopql/shopql/store"
)

// freshDatabase returns the URL and options of an empty database: a SQLite file, or a schema of its
// own in TEST_DATABASE_URL's PostgreSQL database.
func freshDatabase(t testing.TB) (string, store.Options) {
	t.Helper()
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		return filepath.Join(t.TempDir(), "shop.db"), store.Options{}
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "test_store_" + hex.EncodeToString(b[:])
	admin, err := store.Open(context.Background(), url, store.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	return url, store.Options{SearchPath: schema}
}

// migrated opens the database at url with opts, as open does, and applies the migrations.
func migrated(t testing.TB, url string, opts store.Options) *bun.DB {
	t.Helper()
	db := open(t, url, opts)
	if _, err := store.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

func open(t testing.TB, url string, opts store.Options) *bun.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestInstancesMigrateTogether: instances starting at the same moment on a fresh database all come
// up; the migrations run once.
func TestInstancesMigrateTogether(t *testing.T) {
	for round := range 5 {
		url, opts := freshDatabase(t)
		var wg sync.WaitGroup
		errs := make([]error, 6)
		applied := make([][]string, len(errs))
		for i := range errs {
			wg.Go(func() {
				db, err := store.Open(context.Background(), url, opts)
				if err != nil {
					errs[i] = err
					return
				}
				defer db.Close()
				applied[i], errs[i] = store.Migrate(context.Background(), db)
			})
		}
		wg.Wait()
		runs := 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, instance %d: %v", round, i, err)
			}
			if len(applied[i]) > 0 {
				runs++
			}
		}
		if runs != 1 {
			t.Fatalf("round %d: %d instances applied migrations, want 1", round, runs)
		}
	}
}

// TestMigrationLockOfAKilledInstance: a lock left by an instance killed while migrating does not
// stop the next start. (PostgreSQL: the advisory lock ends with the session. SQLite: with nothing
// pending no lock is needed.)
func TestMigrationLockOfAKilledInstance(t *testing.T) {
	url, opts := freshDatabase(t)
	db := migrated(t, url, opts)
	ctx := context.Background()
	// What a killed instance leaves behind in bun's lock table.
	if _, err := db.NewRaw("INSERT INTO bun_migration_locks (table_name) VALUES ('bun_migrations')").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if store.IsPostgres(db) {
		// And a session that died holding the advisory lock.
		dying := open(t, url, opts)
		conn, err := dying.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext('shopql migrations' || current_schema()))"); err != nil {
			t.Fatal(err)
		}
		// The process dies: its socket closes without a word.
		err = conn.Raw(func(dc any) error { return dc.(*pgdriver.Conn).Conn().Close() })
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := store.Migrate(ctx, db); err != nil {
		t.Fatalf("a restarted instance cannot migrate: %v", err)
	}
}
