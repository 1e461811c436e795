package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/model"
)

// CreateSession stores a new login session.
func CreateSession(ctx context.Context, db bun.IDB, s *model.Session) error {
	if s.LastUsedAt.IsZero() {
		s.LastUsedAt = s.CreatedAt
	}
	_, err := db.NewInsert().Model(s).Exec(ctx)
	return err
}

// SessionByID returns a session, or ErrNotFound.
func SessionByID(ctx context.Context, db bun.IDB, id string) (*model.Session, error) {
	s := new(model.Session)
	err := db.NewSelect().Model(s).Where("id = ?", id).Scan(ctx)
	return s, found(err, "no such session")
}

// SessionOf returns a session of the user (of anyone when userID is 0), or ErrNotFound with the same
// message whether it does not exist or is someone else's: the answer reveals nothing of others'.
func SessionOf(ctx context.Context, db bun.IDB, id string, userID int64) (*model.Session, error) {
	s, err := SessionByID(ctx, db, id)
	if err == nil && userID != 0 && s.UserID != userID {
		return nil, notFound("no such session")
	}
	return s, err
}

// LockSession returns a session read inside tx and, on PostgreSQL, holds its row until tx ends, so
// that concurrent refreshes of one session run one after the other and each sees what the one
// before wrote. (SQLite's write transactions run one at a time anyway.)
func LockSession(ctx context.Context, tx bun.Tx, id string) (*model.Session, error) {
	s := new(model.Session)
	q := tx.NewSelect().Model(s).Where("id = ?", id)
	if IsPostgres(tx) {
		q = q.For("UPDATE")
	}
	err := q.Scan(ctx)
	return s, found(err, "no such session")
}

// Rotation is one refresh of a session: the refresh token it consumes and the one it issues.
type Rotation struct {
	SessionID, OldJTI, NewJTI string
	// At is when it happened: the successor's iat, recorded so that it can be re-signed.
	At               time.Time
	RefreshExpiresAt time.Time
	AccessExpiresAt  time.Time
}

// RotateRefreshToken moves a live session from refresh token r.OldJTI to r.NewJTI in one
// compare-and-set, so that of two uses of the same refresh token exactly one rotates; it reports
// whether it did. The consumed token and the time are kept (previous_jti, rotated_at) for the reuse
// grace. The session then lasts until the new refresh token expires (refreshing slides it along;
// the token's own exp, checked before, is what ends it). It keeps the latest expiry of any access
// token the session has issued (see ExtendAccess).
func RotateRefreshToken(ctx context.Context, db bun.IDB, r Rotation) (bool, error) {
	at := r.At.UTC()
	q := db.NewUpdate().Model((*model.Session)(nil)).
		Set("previous_jti = refresh_jti").
		Set("refresh_jti = ?", r.NewJTI).
		Set("rotated_at = ?", at).
		Set("last_used_at = ?", at).
		Set("expires_at = ?", r.RefreshExpiresAt.UTC())
	res, err := extendAccess(q, r.AccessExpiresAt).
		Where("id = ?", r.SessionID).
		Where("refresh_jti = ?", r.OldJTI).
		Where("revoked_at IS NULL").
		Exec(ctx)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ExtendAccess records that the session issued an access token expiring at accessExpiresAt. The
// latest expiry of any of its access tokens is kept: an earlier one may outlive a later one (a
// shorter ACCESS_TOKEN_TTL since, or the issuing instance's clock ahead), and that expiry bounds
// how long the session must be remembered in memory.
func ExtendAccess(ctx context.Context, db bun.IDB, sessionID string, accessExpiresAt time.Time) error {
	_, err := extendAccess(db.NewUpdate().Model((*model.Session)(nil)), accessExpiresAt).
		Where("id = ?", sessionID).
		Exec(ctx)
	return err
}

func extendAccess(q *bun.UpdateQuery, accessExpiresAt time.Time) *bun.UpdateQuery {
	t := accessExpiresAt.UTC()
	return q.Set("access_expires_at = CASE WHEN access_expires_at < ? THEN ? ELSE access_expires_at END", t, t)
}

// RevokeSession revokes one session and returns it if this call revoked it (nil if it was already).
func RevokeSession(ctx context.Context, db bun.IDB, id string) ([]model.Session, error) {
	return revoke(ctx, db, "id = ?", id)
}

// RevokeUserSessions revokes every live session of a user and returns them.
func RevokeUserSessions(ctx context.Context, db bun.IDB, userID int64) ([]model.Session, error) {
	return revoke(ctx, db, "user_id = ?", userID)
}

// RevokeOtherSessions revokes every live session of a user but keepID and returns them.
func RevokeOtherSessions(ctx context.Context, db bun.IDB, userID int64, keepID string) ([]model.Session, error) {
	return revoke(ctx, db, "user_id = ? AND id <> ?", userID, keepID)
}

func revoke(ctx context.Context, db bun.IDB, where string, args ...any) ([]model.Session, error) {
	var revoked []model.Session
	err := db.NewUpdate().Model(&revoked).
		Set("revoked_at = ?", now()).
		Where(where, args...).
		Where("revoked_at IS NULL").
		Returning("id, user_id, access_expires_at").
		Scan(ctx)
	if err != nil && !isNoRows(err) {
		return nil, err
	}
	return revoked, nil
}

// LiveSessions lists a user's sessions that are neither revoked nor expired, newest first.
func LiveSessions(ctx context.Context, db bun.IDB, userID int64) ([]*model.Session, error) {
	sessions := []*model.Session{}
	err := db.NewSelect().Model(&sessions).
		Where("user_id = ?", userID).
		Where("revoked_at IS NULL").
		Where("expires_at > ?", now()).
		Order("created_at DESC", "id").
		Scan(ctx)
	return sessions, err
}

// SessionState is what an instance's in-memory session view holds of a session: whose it is, until
// when its access tokens may be presented, and whether it is live — not revoked, and its account
// exists and is not blocked.
type SessionState struct {
	ID              string    `bun:"id"`
	UserID          int64     `bun:"user_id"`
	AccessExpiresAt time.Time `bun:"access_expires_at"`
	Live            bool      `bun:"live"`
}

// sessionStates selects SessionStates; the account is joined so that a session of a deleted or
// blocked account counts as dead even if its revocation were missing (a database edited by hand).
func sessionStates(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().TableExpr("sessions AS s").
		ColumnExpr("s.id, s.user_id, s.access_expires_at").
		ColumnExpr("CASE WHEN s.revoked_at IS NULL AND u.id IS NOT NULL AND NOT u.blocked THEN 1 ELSE 0 END AS live").
		Join("LEFT JOIN users AS u ON u.id = s.user_id")
}

// SessionStates lists every session, live or dead, with an access token that may still be
// presented after horizon: everything an in-memory session view must hold.
func SessionStates(ctx context.Context, db bun.IDB, horizon time.Time) ([]SessionState, error) {
	var states []SessionState
	err := sessionStates(db).Where("s.access_expires_at > ?", horizon.UTC()).Scan(ctx, &states)
	if err != nil && !isNoRows(err) {
		return nil, err
	}
	return states, nil
}

// SessionStateByID returns the state of one session, or ErrNotFound when this database never
// issued it (or has forgotten it, long after its every token expired).
func SessionStateByID(ctx context.Context, db bun.IDB, id string) (*SessionState, error) {
	st := new(SessionState)
	err := sessionStates(db).Where("s.id = ?", id).Limit(1).Scan(ctx, st)
	return st, found(err, "no such session")
}

// DeleteDeadSessions removes sessions whose refresh and access tokens have all expired more than an
// hour ago (far beyond any clock leeway): nothing can present them any more, so neither their
// state nor their revocation is needed.
func DeleteDeadSessions(ctx context.Context, db bun.IDB) (int64, error) {
	t := now().Add(-time.Hour)
	res, err := db.NewDelete().Model((*model.Session)(nil)).
		Where("expires_at < ?", t).
		Where("access_expires_at < ?", t).
		Exec(ctx)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
