package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/uptrace/bun/migrate"
)

// TestNameKeysMigrationKeepsLookAlikes: rows stored before names were compared normalised,
// look-alikes among them, all survive the migration that adds the unique key, each reachable by
// its exact name; afterwards a new look-alike of any of them is CONFLICT.
func TestNameKeysMigrationKeepsLookAlikes(t *testing.T) {
	ctx := context.Background()
	url := os.Getenv("TEST_DATABASE_URL")
	opts := Options{}
	if url == "" {
		url = filepath.Join(t.TempDir(), "shop.db")
	} else {
		admin, err := Open(ctx, url, Options{MaxOpenConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		var b [6]byte
		_, _ = rand.Read(b[:])
		schema := "test_name_keys_" + hex.EncodeToString(b[:])
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
			admin.Close()
		})
		opts.SearchPath = schema
	}
	db, err := Open(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// The schema as it was before the migration.
	before := migrate.NewMigrations()
	for _, m := range migrations.Sorted() {
		if m.Name != keyNameTables.Name {
			before.Add(m)
		}
	}
	old := migrate.NewMigrator(db, before, migrate.WithTemplateData(typesFor(db)), migrate.WithMarkAppliedOnSuccess(true))
	if err := old.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	names := []string{"Ｔools", "Tools", "Tools\u200b", "Garden", "ﬁle", "Cafe\u0301"}
	for i, name := range names {
		if _, err := db.ExecContext(ctx, "INSERT INTO categories (name, product_count, created_at) VALUES (?, 0, ?)", name, now()); err != nil {
			t.Fatalf("category %d: %v", i, err)
		}
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO products (name, description, price, quantity, category_id, created_at) VALUES (?, '', 1, 1, 1, ?), (?, '', 1, 1, 1, ?)",
		"Ｈammer", now(), "Hammer", now()); err != nil {
		t.Fatal(err)
	}

	if _, err := Migrate(ctx, db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	for _, name := range names {
		if _, err := CategoryByName(ctx, db, name); err != nil {
			t.Errorf("category %q after the migration: %v", name, err)
		}
	}
	var keys []string
	if err := db.NewSelect().Table("categories").Column("name_key").Order("id").Scan(ctx, &keys); err != nil {
		t.Fatal(err)
	}
	// "Tools" is already in its key's form and keeps the key; the fullwidth and zero-width
	// spellings step aside, marked with their IDs.
	want := []string{"Tools\x1f1", "Tools", "Tools\x1f3", "Garden", "file", "Café"}
	for i := range want {
		if i >= len(keys) || keys[i] != want[i] {
			t.Fatalf("keys %q, want %q", keys, want)
		}
	}
	for _, name := range []string{"Ｔools", "Tools", "ﬁle", "Café", "Ｇarden"} {
		if _, err := CreateCategory(ctx, db, name); !errors.Is(err, ErrConflict) {
			t.Errorf("new category %q: %v, want a conflict", name, err)
		}
	}
	if _, err := CreateProduct(ctx, db, "Hammer", ProductFields{CategoryID: 1}); !errors.Is(err, ErrConflict) {
		t.Errorf("new product Hammer: %v, want a conflict", err)
	}
	if _, err := CreateCategory(ctx, db, "Pond"); err != nil {
		t.Errorf("a new name: %v", err)
	}
	// The migration can be rolled back.
	if _, err := newMigrator(db).Rollback(ctx); err != nil {
		t.Fatalf("rollback: %v", err)
	}
}
