// Package store is the shop's persistence: opening SQLite or PostgreSQL through bun, the schema
// migrations, and every query. Data rules (uniqueness, existence, valid values) are enforced here and
// surface as typed errors: ErrNotFound, ErrConflict and *model.InputError.
//
// Query functions take a bun.IDB so that they work on the database, a connection or a transaction alike.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/driver/sqliteshim"
)

// DefaultSQLitePath is where the database lives when no URL is configured.
const DefaultSQLitePath = "shop.db"

// Options tune the connection pool. Zero values pick defaults suited to the database kind.
type Options struct {
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	// SearchPath, for PostgreSQL, is the schema to use (tests give each run its own).
	SearchPath string
	// BusyTimeout, for SQLite, is how long a statement waits for a lock another connection holds
	// (default and most 10s). SQLite's wait does not watch the context, so a server keeps it within
	// its request timeout.
	BusyTimeout time.Duration
	// QueryHooks see every statement run on the returned DB (tests count queries with one).
	QueryHooks []bun.QueryHook
}

// Open connects to the database named by rawURL: a postgres:// or postgresql:// URL for PostgreSQL,
// otherwise a SQLite file path (optionally as file:path or sqlite:path; empty means DefaultSQLitePath).
// It checks the connection before returning.
func Open(ctx context.Context, rawURL string, opts Options) (*bun.DB, error) {
	var db *bun.DB
	if IsPostgresURL(rawURL) {
		connOpts := []pgdriver.Option{
			pgdriver.WithDSN(rawURL),
			pgdriver.WithApplicationName("shopql"),
			pgdriver.WithResetSessionFunc(discardIfClosed),
		}
		if opts.SearchPath != "" {
			connOpts = append(connOpts, pgdriver.WithConnParams(map[string]any{"search_path": opts.SearchPath}))
		}
		sqldb := sql.OpenDB(pgdriver.NewConnector(connOpts...))
		setPool(sqldb, opts, 20)
		db = bun.NewDB(sqldb, pgdialect.New())
	} else {
		sqldb, err := sql.Open(sqliteshim.ShimName, sqliteDSN(rawURL, opts.BusyTimeout))
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		// WAL lets readers run beside the one writer; the pool is still bounded because every
		// connection holds its own page cache.
		setPool(sqldb, opts, 8)
		db = bun.NewDB(sqldb, sqlitedialect.New())
	}
	for _, h := range opts.QueryHooks {
		db = db.WithQueryHook(h)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// Switching a new SQLite file to WAL needs a moment of exclusive access, which a second process
	// opening the file at the same time may see as busy, without the busy timeout applying.
	if err := retryContended(pingCtx, func() error { return db.PingContext(pingCtx) }); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return db, nil
}

// discardIfClosed runs before database/sql reuses a pooled PostgreSQL connection. A connection
// the server has closed while it sat idle (a restart, pg_terminate_backend, a proxy's idle timeout)
// would fail the query given to it; reporting it as bad makes database/sql drop it and use another,
// so no request fails for it. The check is one non-blocking read system call.
func discardIfClosed(_ context.Context, cn *pgdriver.Conn) error {
	conn := cn.Conn()
	// pgdriver leaves the last read deadline on the socket (it sets a new one before every read);
	// once past, a read fails with a timeout without looking, and every connection idle for
	// longer than that would be thrown away.
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		return driver.ErrBadConn
	}
	if connCheck(conn) != nil {
		return driver.ErrBadConn
	}
	return nil
}

// IsPostgresURL reports whether rawURL names a PostgreSQL database.
func IsPostgresURL(rawURL string) bool {
	return strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://")
}

// IsPostgres reports whether db talks to PostgreSQL.
func IsPostgres(db bun.IDB) bool { return db.Dialect().Name() == dialect.PG }

// sqliteDSN builds a modernc/mattn-compatible DSN. Every connection gets a busy timeout and foreign
// keys; transactions begin IMMEDIATE so that two writers queue on the lock instead of one of them
// failing with "database is locked" when it upgrades from reading to writing.
func sqliteDSN(rawURL string, busyTimeout time.Duration) string {
	path := rawURL
	for _, prefix := range []string{"sqlite://", "sqlite:", "file:"} {
		path = strings.TrimPrefix(path, prefix)
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		path = DefaultSQLitePath
	}
	q := url.Values{}
	if busyTimeout <= 0 || busyTimeout > maxBusyTimeout {
		busyTimeout = maxBusyTimeout
	}
	// At least a second, so that start-up and background work, which share the pool, are not
	// refused for a short REQUEST_TIMEOUT.
	busyTimeout = max(busyTimeout, time.Second)
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

const maxBusyTimeout = 10 * time.Second

func setPool(sqldb *sql.DB, opts Options, defaultOpen int) {
	maxOpen := opts.MaxOpenConns
	if maxOpen <= 0 {
		maxOpen = defaultOpen
	}
	maxIdle := opts.MaxIdleConns
	if maxIdle <= 0 || maxIdle > maxOpen {
		maxIdle = maxOpen
	}
	lifetime := opts.ConnMaxLifetime
	if lifetime <= 0 {
		lifetime = 30 * time.Minute
	}
	sqldb.SetMaxOpenConns(maxOpen)
	sqldb.SetMaxIdleConns(maxIdle)
	sqldb.SetConnMaxLifetime(lifetime)
}

// runInTx runs fn in a transaction, again (a few times) when PostgreSQL aborted it to break a
// deadlock or a serialization failure: concurrent catalog writes can lock a product and its old
// and new categories in orders that cross (an upsert moving a product while its category is
// deleted), and PostgreSQL resolves that by failing one of them, which is worth retrying rather than
// reporting as an internal error. fn must be safe to run again: all its effects are in tx.
func runInTx(ctx context.Context, db bun.IDB, fn func(context.Context, bun.Tx) error) error {
	for attempt := 1; ; attempt++ {
		txCtx, committed := collectEvents(ctx, db) // afresh on a retry
		err := db.RunInTx(txCtx, nil, fn)
		if state := sqlState(err); attempt < 4 && (state == "40P01" || state == "40001") && ctx.Err() == nil {
			continue
		}
		if err == nil {
			committed()
		}
		return err
	}
}
