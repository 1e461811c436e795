// Package auth is the shop's security: password hashing, token issuing and verification, sessions
// and their revocation, the HTTP middleware that identifies the caller and the schema directives
// @auth, @fresh and @admin. Account changes that end sessions (block, demotion, deletion) live here
// too, so that the rule "these revoke every session of the user" is in one place.
package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/uptrace/bun"

	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

// Service ties tokens, passwords and sessions to the database.
type Service struct {
	db      *bun.DB
	tokens  *Tokens
	hasher  *Hasher
	revoked *RevocationList
	log     *slog.Logger
	// throttle limits login and registration attempts (SetLimits); nil means no limits.
	throttle *throttles

	// verified remembers access tokens whose signature and claims were checked: a client sends
	// the same token with every request until it expires, and an identical string needs no second
	// HMAC and JSON decoding. Expiry and revocation are still checked on every request.
	verified *lru.Cache[string, *Claims]
}

// verifiedTokens bounds the memory of Service.verified (about 1 KiB a token).
const verifiedTokens = 4096

// NewService returns a Service. Call Run to keep its revocation list in step with the database.
func NewService(db *bun.DB, tokens *Tokens, hasher *Hasher, log *slog.Logger) *Service {
	verified, _ := lru.New[string, *Claims](verifiedTokens)
	return &Service{db: db, tokens: tokens, hasher: hasher, revoked: NewRevocationList(), log: log, verified: verified}
}

// Authenticate verifies an access token: signature, claims, and that its session is not revoked.
// It makes no database round trip.
func (s *Service) Authenticate(raw string) (*Principal, error) {
	c, ok := s.verified.Get(raw)
	if !ok || s.tokens.Expired(c, time.Now()) {
		var err error
		if c, err = s.tokens.Parse(raw, AccessToken); err != nil {
			s.verified.Remove(raw)
			return nil, err
		}
		s.verified.Add(raw, c)
	}
	if s.revoked.Revoked(c.SessionID) {
		return nil, ErrTokenRevoked
	}
	return &Principal{UserID: c.UserID(), SessionID: c.SessionID, Admin: c.Admin, Fresh: c.Fresh, ExpiresAt: c.ExpiresAt.Time}, nil
}

// Register creates a non-admin account.
func (s *Service) Register(ctx context.Context, in model.RegisterInput) (*model.User, error) {
	if err := s.throttle.beginRegister(ctx); err != nil {
		return nil, err
	}
	if _, err := store.NormalizeEmail(in.Email); err != nil {
		return nil, err // before paying for a hash
	}
	if err := checkPassword(in.Password); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	u := &model.User{Email: in.Email, Username: in.Username, PasswordHash: hash}
	if err := store.CreateUser(ctx, s.db, u); err != nil {
		return nil, err
	}
	return u, nil
}

// Login checks credentials and starts a session with a fresh access token. Unknown email and wrong
// password fail alike, after the same work; a blocked account is told so only once the password
// has been proven.
func (s *Service) Login(ctx context.Context, email, password string) (_ *model.AuthPayload, err error) {
	done, err := s.throttle.beginLogin(ctx, email)
	if err != nil {
		return nil, err
	}
	defer func() {
		var busy *RateLimitError // the server, not the caller, was out of capacity
		done(err == nil || errors.As(err, &busy))
	}()
	u, err := store.UserByEmail(ctx, s.db, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	var hash string
	if err == nil {
		hash = u.PasswordHash
	}
	ok, err := s.hasher.Verify(ctx, hash, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrInvalidCredentials
	}
	return s.startSession(ctx, u.ID)
}

// startSession creates a session for the account with a fresh access token. The account is read
// again, locked, in the transaction that creates the session: it may have been blocked, demoted or
// deleted while its password was being checked, and a session created after such a change would
// escape the revocation that came with it.
func (s *Service) startSession(ctx context.Context, userID int64) (payload *model.AuthPayload, err error) {
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		u, err := store.LockUser(ctx, tx, userID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrInvalidCredentials
		} else if err != nil {
			return err
		}
		if u.Blocked {
			return ErrUserBlocked
		}
		sess := &model.Session{ID: randomID(), UserID: u.ID, CreatedAt: time.Now().UTC()}
		access, refresh, err := s.issuePair(u, sess.ID, true)
		if err != nil {
			return err
		}
		sess.RefreshJTI, sess.ExpiresAt, sess.AccessExpiresAt = refresh.ID, refresh.ExpiresAt.UTC(), access.ExpiresAt.UTC()
		if err := store.CreateSession(ctx, tx, sess); err != nil {
			return err
		}
		payload = authPayload(u, access, refresh)
		return nil
	})
	return payload, err
}

// Refresh exchanges a refresh token for a non-fresh access token and a new refresh token. The old
// refresh token stops working; presenting it again is taken as theft and revokes the session.
func (s *Service) Refresh(ctx context.Context, raw string) (*model.AuthPayload, error) {
	if raw == "" {
		return nil, ErrTokenMissing
	}
	c, err := s.tokens.Parse(raw, RefreshToken)
	if err != nil {
		return nil, err
	}
	u, err := store.UserByID(ctx, s.db, c.UserID())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrTokenRevoked
	} else if err != nil {
		return nil, err
	}
	access, refresh, err := s.issuePair(u, c.SessionID, false)
	if err != nil {
		return nil, err
	}
	rotated, err := store.RotateRefreshToken(ctx, s.db, c.SessionID, c.ID, refresh.ID, refresh.ExpiresAt, access.ExpiresAt)
	if err != nil {
		return nil, err
	}
	if !rotated {
		// Revoked, or an older refresh token of a live session: reuse. Revoking is a no-op in the
		// first case.
		if err := s.revokeSession(ctx, c.SessionID); err != nil {
			return nil, err
		}
		return nil, ErrTokenRevoked
	}
	if u.Blocked {
		// Blocking revokes sessions in the same transaction, so this only guards against a
		// database edited by hand.
		return nil, ErrTokenRevoked
	}
	return authPayload(u, access, refresh), nil
}

// issuePair signs an access token (fresh or not; with the admin claim the account has now) and a
// refresh token for a session of u.
func (s *Service) issuePair(u *model.User, sessionID string, fresh bool) (access, refresh Issued, err error) {
	if access, err = s.tokens.Issue(AccessToken, u.ID, sessionID, fresh, u.IsAdmin); err != nil {
		return
	}
	refresh, err = s.tokens.Issue(RefreshToken, u.ID, sessionID, false, false)
	return
}

func authPayload(u *model.User, access, refresh Issued) *model.AuthPayload {
	return &model.AuthPayload{AccessToken: access.Token, RefreshToken: refresh.Token, AccessTokenExpiresAt: access.ExpiresAt, User: u}
}

// Logout revokes the caller's session: its access and refresh tokens stop working.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	return s.revokeSession(ctx, p.SessionID)
}

func (s *Service) revokeSession(ctx context.Context, sessionID string) error {
	return s.revoke(ctx, func(ctx context.Context, tx bun.Tx) ([]model.Session, error) {
		return store.RevokeSession(ctx, tx, sessionID)
	})
}

// SetUserBlocked blocks or unblocks an account. Blocking revokes every session of the account.
func (s *Service) SetUserBlocked(ctx context.Context, id int64, blocked bool) (*model.User, error) {
	var u *model.User
	err := s.revoke(ctx, func(ctx context.Context, tx bun.Tx) (revoked []model.Session, err error) {
		if u, err = store.SetUserBlocked(ctx, tx, id, blocked); err != nil || !blocked {
			return nil, err
		}
		return store.RevokeUserSessions(ctx, tx, id)
	})
	return u, err
}

// SetUserAdmin grants or removes the admin role. Removing it revokes every session of the account,
// whose tokens carry the admin claim.
func (s *Service) SetUserAdmin(ctx context.Context, id int64, isAdmin bool) (*model.User, error) {
	var u *model.User
	err := s.revoke(ctx, func(ctx context.Context, tx bun.Tx) (revoked []model.Session, err error) {
		// Locked, so that a promotion committing meanwhile cannot make this demotion think there
		// was no admin claim to revoke.
		before, err := store.LockUserForUpdate(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if u, err = store.SetUserAdmin(ctx, tx, id, isAdmin); err != nil || isAdmin || !before.IsAdmin {
			return nil, err
		}
		return store.RevokeUserSessions(ctx, tx, id)
	})
	return u, err
}

// DeleteUser deletes an account and revokes every session of it.
func (s *Service) DeleteUser(ctx context.Context, id int64) error {
	return s.revoke(ctx, func(ctx context.Context, tx bun.Tx) ([]model.Session, error) {
		if err := store.DeleteUser(ctx, tx, id); err != nil {
			return nil, err
		}
		return store.RevokeUserSessions(ctx, tx, id)
	})
}

// revoke runs change in a transaction that also announces the sessions it revoked to the other
// instances, then adds them to this instance's list before returning, so that revocation is
// immediate here and, through the database, everywhere.
func (s *Service) revoke(ctx context.Context, change func(context.Context, bun.Tx) ([]model.Session, error)) error {
	var revoked []model.Session
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if revoked, err = change(ctx, tx); err != nil {
			return err
		}
		return store.NotifyRevoked(ctx, tx, revoked)
	})
	if err != nil {
		return err
	}
	s.revoked.Add(revoked)
	return nil
}

// EnsureAdmin makes the account with email an administrator, creating it with password if it does
// not exist. An existing account is promoted only if password is its password: whoever registered
// that email first would otherwise become an administrator with a password of their choosing.
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) (*model.User, error) {
	u, err := store.UserByEmail(ctx, s.db, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if u, err = s.Register(ctx, model.RegisterInput{Email: email, Username: "admin", Password: password}); err != nil {
			if errors.Is(err, store.ErrConflict) { // another instance created it just now
				return s.EnsureAdmin(ctx, email, password)
			}
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	if u.IsAdmin {
		return u, nil
	}
	ok, err := s.hasher.Verify(ctx, u.PasswordHash, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("an account with this email already exists and ADMIN_PASSWORD is not its password: " +
			"refusing to make it an administrator (set its password, or choose another ADMIN_EMAIL)")
	}
	return store.SetUserAdmin(ctx, s.db, u.ID, true)
}

// SyncRevocations loads every revoked session that may still have live access tokens into the
// list, and forgets those that cannot.
func (s *Service) SyncRevocations(ctx context.Context) error {
	// A token is accepted up to the leeway past its exp, so a revocation is kept that much longer.
	horizon := time.Now().Add(-s.tokens.cfg.Leeway)
	revoked, err := store.RevokedSessions(ctx, s.db, horizon)
	if err != nil {
		return err
	}
	s.revoked.Add(revoked)
	s.revoked.Prune(horizon)
	return nil
}

// ApplyRevocationNotice records the sessions announced on store.RevocationChannel by another
// instance.
func (s *Service) ApplyRevocationNotice(payload string) {
	s.revoked.Add(store.ParseRevoked(payload))
}

// Run keeps the revocation list in step with the database until ctx ends: a full resync every
// interval, or at once when resync receives (announcements may have been missed); it catches
// changes by other processes sharing a SQLite file too. It also deletes sessions that can no longer
// be used. Call SyncRevocations once before serving, and feed announcements from other instances
// to ApplyRevocationNotice.
func (s *Service) Run(ctx context.Context, interval time.Duration, resync <-chan struct{}) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	cleanup := time.NewTicker(time.Hour)
	defer cleanup.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-resync:
		case <-cleanup.C:
			if n, err := store.DeleteDeadSessions(ctx, s.db); err != nil {
				s.log.Warn("deleting dead sessions failed", "err", err)
			} else if n > 0 {
				s.log.Info("deleted dead sessions", "count", n)
			}
			continue
		}
		if err := s.SyncRevocations(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("revocation resync failed", "err", err)
		}
	}
}

// SigningSecret returns the HS256 key: the configured one, which must be at least MinSecretBytes,
// or else one generated once and kept in the database, so that restarts and other instances sharing
// the database keep verifying the same tokens. generated reports the second case, which deserves a
// warning: whoever can read the database can mint tokens.
func SigningSecret(ctx context.Context, db bun.IDB, configured string) (secret []byte, generated bool, err error) {
	if configured != "" {
		if len(configured) < MinSecretBytes {
			return nil, false, errors.New("JWT_SECRET must be at least 32 bytes")
		}
		return []byte(configured), false, nil
	}
	var b [48]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, false, err
	}
	stored, err := store.SettingOrInit(ctx, db, "jwt_secret", base64.RawStdEncoding.EncodeToString(b[:]))
	if err != nil {
		return nil, false, err
	}
	secret, err = base64.RawStdEncoding.DecodeString(stored)
	if err != nil || len(secret) < MinSecretBytes {
		return nil, false, errors.New("the stored jwt_secret setting is malformed")
	}
	return secret, true, nil
}
