package store

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// TestCatalogQueriesStayPrepared runs each page query (every variant of columns read) three times with new bindings on a
// statement prepared once, through SQLite's C API as modernc.org/sqlite embeds it, and reads
// SQLite's own count of re-preparations (SQLITE_STMTSTATUS_REPREPARE): none for the queries as
// written, and, as the control that the count sees what it should, one in every run (the first
// binding after the preparation too) for the same queries with a bare LIMIT ?.
func TestCatalogQueriesStayPrepared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.db")
	ctx := context.Background()
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := Seed(ctx, db, 100, 4, nil); err != nil {
		t.Fatal(err)
	}
	var categoryID int64
	if err := db.QueryRowContext(ctx, "SELECT MIN(id) FROM categories").Scan(&categoryID); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	tls := libc.NewTLS()
	defer tls.Close()
	conn := openRaw(t, tls, path)
	defer sqlite3.Xsqlite3_close_v2(tls, conn)
	pages, _ := catalogQueries(false)
	for read := range AllColumns + 1 {
		for _, inCategory := range []bool{false, true} {
			query := pages[pageVariant(read, inCategory)]
			args := func(run int) []int64 { // after ID, page size + 1
				if inCategory {
					return []int64{categoryID, int64(run * 10), categoryID, int64(11 + run)}
				}
				return []int64{int64(run * 10), int64(11 + run)}
			}
			if n := reprepares(t, tls, conn, query, args); n != 0 {
				t.Errorf("%s\nwas prepared again %d times in 3 runs", query, n)
			}
			bare := strings.Replace(query, " LIMIT ? + 0", " LIMIT ?", 1)
			if bare == query {
				t.Fatalf("no LIMIT ? + 0 in %s", query)
			}
			if n := reprepares(t, tls, conn, bare, args); n != 3 {
				t.Errorf("control: with a bare LIMIT ?, prepared again %d times in 3 runs, not 3: "+
					"has SQLite stopped re-preparing it? then catalogQueries' LIMIT ? + 0 can go\n%s", n, bare)
			}
		}
	}
}

// openRaw opens the SQLite file at path with the C API, read-only.
func openRaw(t *testing.T, tls *libc.TLS, path string) uintptr {
	t.Helper()
	cpath, err := libc.CString(path)
	if err != nil {
		t.Fatal(err)
	}
	defer libc.Xfree(tls, cpath)
	pconn := tls.Alloc(8)
	defer tls.Free(8)
	if rc := sqlite3.Xsqlite3_open_v2(tls, cpath, pconn, sqlite3.SQLITE_OPEN_READONLY, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("open %s: code %d", path, rc)
	}
	return readPointer(pconn)
}

// readPointer reads the pointer the C API stored at p (without converting p to an unsafe.Pointer,
// which go vet rightly questions).
func readPointer(p uintptr) uintptr {
	if strconv.IntSize == 32 {
		return uintptr(binary.NativeEndian.Uint32(libc.GoBytes(p, 4)))
	}
	return uintptr(binary.NativeEndian.Uint64(libc.GoBytes(p, 8)))
}

// reprepares prepares query once, runs it three times to the end with the arguments args(run)
// gives, and returns how often SQLite prepared it again meanwhile.
func reprepares(t *testing.T, tls *libc.TLS, conn uintptr, query string, args func(run int) []int64) int32 {
	t.Helper()
	csql, err := libc.CString(query)
	if err != nil {
		t.Fatal(err)
	}
	defer libc.Xfree(tls, csql)
	pstmt := tls.Alloc(8)
	defer tls.Free(8)
	if rc := sqlite3.Xsqlite3_prepare_v2(tls, conn, csql, -1, pstmt, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("prepare: %s", libc.GoString(sqlite3.Xsqlite3_errmsg(tls, conn)))
	}
	stmt := readPointer(pstmt)
	defer sqlite3.Xsqlite3_finalize(tls, stmt)
	for run := range 3 {
		values := args(run)
		if n := sqlite3.Xsqlite3_bind_parameter_count(tls, stmt); int(n) != len(values) {
			t.Fatalf("%d parameters, %d values", n, len(values))
		}
		for i, v := range values {
			if rc := sqlite3.Xsqlite3_bind_int64(tls, stmt, int32(i+1), v); rc != sqlite3.SQLITE_OK {
				t.Fatalf("bind: code %d", rc)
			}
		}
		rows := 0
		rc := sqlite3.Xsqlite3_step(tls, stmt)
		for ; rc == sqlite3.SQLITE_ROW; rc = sqlite3.Xsqlite3_step(tls, stmt) {
			rows++
		}
		if rc != sqlite3.SQLITE_DONE || rows != int(values[len(values)-1]) {
			t.Fatalf("run %d: code %d after %d rows (%s)", run, rc, rows, libc.GoString(sqlite3.Xsqlite3_errmsg(tls, conn)))
		}
		sqlite3.Xsqlite3_reset(tls, stmt)
	}
	return sqlite3.Xsqlite3_stmt_status(tls, stmt, sqlite3.SQLITE_STMTSTATUS_REPREPARE, 0)
}
