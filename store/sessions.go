package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/model"
)

// CreateSession stores a new login session.
func CreateSession(ctx context.Context, db bun.IDB, s *model.Session) error {
	_, err := db.NewInsert().Model(s).Exec(ctx)
	return err
}

// SessionByID returns a session, or ErrNotFound.
func SessionByID(ctx context.Context, db bun.IDB, id string) (*model.Session, error) {
	s := new(model.Session)
	err := db.NewSelect().Model(s).Where("id = ?", id).Scan(ctx)
	return s, found(err, "no such session")
}

// RotateRefreshToken moves a live session from refresh token oldJTI to newJTI in one
// compare-and-set, so that of two uses of the same refresh token exactly one succeeds; it reports
// whether it did. The session then lasts until the new refresh token expires (refreshing slides it
// along; the token's own exp, checked before, is what ends it). It keeps the latest expiry of any
// access token the session has issued: an earlier one may outlive the new one (a shorter
// ACCESS_TOKEN_TTL since, or the issuing instance's clock ahead), and that expiry bounds how long a
// revocation of the session must be remembered.
func RotateRefreshToken(ctx context.Context, db bun.IDB, sessionID, oldJTI, newJTI string, refreshExpiresAt, accessExpiresAt time.Time) (bool, error) {
	accessExpiresAt = accessExpiresAt.UTC()
	res, err := db.NewUpdate().Model((*model.Session)(nil)).
		Set("refresh_jti = ?", newJTI).
		Set("expires_at = ?", refreshExpiresAt.UTC()).
		Set("access_expires_at = CASE WHEN access_expires_at < ? THEN ? ELSE access_expires_at END", accessExpiresAt, accessExpiresAt).
		Where("id = ?", sessionID).
		Where("refresh_jti = ?", oldJTI).
		Where("revoked_at IS NULL").
		Exec(ctx)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RevokeSession revokes one session and returns it if this call revoked it (nil if it was already).
func RevokeSession(ctx context.Context, db bun.IDB, id string) ([]model.Session, error) {
	return revoke(ctx, db, "id = ?", id)
}

// RevokeUserSessions revokes every live session of a user and returns them.
func RevokeUserSessions(ctx context.Context, db bun.IDB, userID int64) ([]model.Session, error) {
	return revoke(ctx, db, "user_id = ?", userID)
}

func revoke(ctx context.Context, db bun.IDB, where string, arg any) ([]model.Session, error) {
	var revoked []model.Session
	err := db.NewUpdate().Model(&revoked).
		Set("revoked_at = ?", now()).
		Where(where, arg).
		Where("revoked_at IS NULL").
		Returning("id, access_expires_at").
		Scan(ctx)
	if err != nil && !isNoRows(err) {
		return nil, err
	}
	return revoked, nil
}

// RevokedSessions lists revoked sessions whose last access token expires after horizon: the
// sessions an in-memory revocation list must hold.
func RevokedSessions(ctx context.Context, db bun.IDB, horizon time.Time) ([]model.Session, error) {
	var revoked []model.Session
	err := db.NewSelect().Model(&revoked).Column("id", "access_expires_at").
		Where("access_expires_at > ?", horizon.UTC()).
		Where("revoked_at IS NOT NULL").
		Scan(ctx)
	if err != nil && !isNoRows(err) {
		return nil, err
	}
	return revoked, nil
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
