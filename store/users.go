package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/model"
)

// CreateUser inserts u after validating its email and username; u.Email is normalised in place.
func CreateUser(ctx context.Context, db bun.IDB, u *model.User) error {
	email, err := NormalizeEmail(u.Email)
	if err != nil {
		return err
	}
	if err := checkLabel("username", u.Username, maxUsernameLen); err != nil {
		return err
	}
	u.Email = email
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now()
	}
	if _, err := db.NewInsert().Model(u).Returning("id").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return conflict("an account with this email already exists")
		}
		return err
	}
	return nil
}

// UserByID returns the account with id, or ErrNotFound.
func UserByID(ctx context.Context, db bun.IDB, id int64) (*model.User, error) {
	u := new(model.User)
	err := db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx)
	return u, found(err, "no account with ID %d", id)
}

// LockUser returns an account read inside tx and, on PostgreSQL, holds a share lock on its row until
// tx ends. Blocking, a role change and deletion write that row before they revoke sessions, so each
// is ordered wholly before tx (and seen by it) or after it (and sees what tx wrote). SQLite needs no
// lock: its write transactions run one at a time (_txlock=immediate).
func LockUser(ctx context.Context, tx bun.Tx, id int64) (*model.User, error) {
	return lockUser(ctx, tx, id, "SHARE")
}

// LockUserForUpdate is LockUser for a transaction that will change the account: concurrent changes
// of it wait for tx, so that what tx read is still true when it writes.
func LockUserForUpdate(ctx context.Context, tx bun.Tx, id int64) (*model.User, error) {
	return lockUser(ctx, tx, id, "UPDATE")
}

func lockUser(ctx context.Context, tx bun.Tx, id int64, strength string) (*model.User, error) {
	u := new(model.User)
	q := tx.NewSelect().Model(u).Where("id = ?", id)
	if IsPostgres(tx) {
		q = q.For(strength)
	}
	err := q.Scan(ctx)
	return u, found(err, "no account with ID %d", id)
}

// UserByEmail returns the account with email (any case), or ErrNotFound.
func UserByEmail(ctx context.Context, db bun.IDB, email string) (*model.User, error) {
	normal, err := NormalizeEmail(email)
	if err != nil {
		return nil, notFound("no account with this email")
	}
	u := new(model.User)
	err = db.NewSelect().Model(u).Where("email = ?", normal).Scan(ctx)
	return u, found(err, "no account with this email")
}

// Users lists every account by ID.
func Users(ctx context.Context, db bun.IDB) ([]*model.User, error) {
	var users []*model.User
	err := db.NewSelect().Model(&users).Order("id").Scan(ctx)
	return users, err
}

// SetUserBlocked sets the blocked flag and returns the updated account.
func SetUserBlocked(ctx context.Context, db bun.IDB, id int64, blocked bool) (*model.User, error) {
	return updateUser(ctx, db, id, "blocked = ?", blocked)
}

// SetUserAdmin sets the admin flag and returns the updated account.
func SetUserAdmin(ctx context.Context, db bun.IDB, id int64, isAdmin bool) (*model.User, error) {
	return updateUser(ctx, db, id, "is_admin = ?", isAdmin)
}

// SetUserPassword replaces the password hash.
func SetUserPassword(ctx context.Context, db bun.IDB, id int64, hash string) (*model.User, error) {
	return updateUser(ctx, db, id, "password_hash = ?", hash)
}

// ReplacePasswordHash swaps the password hash from old to hash, unless it changed meanwhile (a
// password change racing a rehash at login must win); it reports whether it did.
func ReplacePasswordHash(ctx context.Context, db bun.IDB, id int64, old, hash string) (bool, error) {
	res, err := db.NewUpdate().Model((*model.User)(nil)).Set("password_hash = ?", hash).
		Where("id = ?", id).Where("password_hash = ?", old).Exec(ctx)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func updateUser(ctx context.Context, db bun.IDB, id int64, set string, value any) (*model.User, error) {
	u := new(model.User)
	err := db.NewUpdate().Model(u).Set(set, value).Where("id = ?", id).Returning("*").Scan(ctx)
	return u, found(err, "no account with ID %d", id)
}

// DeleteUser removes the account with id, or reports ErrNotFound.
func DeleteUser(ctx context.Context, db bun.IDB, id int64) error {
	res, err := db.NewDelete().Model((*model.User)(nil)).Where("id = ?", id).Exec(ctx)
	return affected(res, err, "no account with ID %d", id)
}

// found turns sql.ErrNoRows into a NOT_FOUND rule error.
func found(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(format, args...)
	}
	return err
}

// affected reports ErrNotFound when a write touched no row.
func affected(res sql.Result, err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound(format, args...)
	}
	return nil
}

// now is the store's clock: UTC and at microsecond precision, which both databases keep exactly, so
// that a value read back equals the value written.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
