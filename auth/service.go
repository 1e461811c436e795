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
	"fmt"
	"log/slog"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/uptrace/bun"
	"golang.org/x/sync/singleflight"

	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

// Service ties tokens, passwords and sessions to the database.
type Service struct {
	db     *bun.DB
	tokens *Tokens
	hasher *Hasher
	view   *SessionView
	log    *slog.Logger
	// throttle limits login and registration attempts (SetLimits); nil means no limits.
	throttle *throttles
	// devices issues and verifies device tokens (SetDeviceTokens, auth/device.go).
	devices *DeviceTokens
	// reuseInterval is the refresh reuse grace (SetRefreshReuseInterval); 0: none.
	reuseInterval time.Duration

	// verified remembers access tokens whose signature and claims were checked: a client sends
	// the same token with every request until it expires, and an identical string needs no second
	// HMAC and JSON decoding. Expiry and the session are still checked on every request.
	verified *lru.Cache[string, *Claims]

	// lookups bounds the database lookups of sessions missing from the view, flight merges
	// concurrent lookups of one session, and unknown remembers sessions found never issued here.
	lookups *Buckets
	flight  singleflight.Group
	unknown *lru.Cache[string, struct{}]
}

// verifiedTokens bounds the memory of Service.verified (about 1 KiB a token).
const verifiedTokens = 4096

// sessionLookups bounds the database lookups of sessions the view does not know, per instance. A
// legitimate miss is a login on another instance whose announcement has not arrived yet (on SQLite,
// until the next resync), so few are needed; beyond it such a request gets TOO_MANY_REQUESTS (to
// retry), and a flood of tokens with invented session IDs — which takes the signing key — costs the
// database at most this.
var sessionLookups = Rate{Burst: 100, Per: time.Second}

// unknownSessions bounds the memory of session IDs found never issued here.
const unknownSessions = 4096

// NewService returns a Service. Call SyncSessions, then Run, to keep its session view in step with
// the database.
func NewService(db *bun.DB, tokens *Tokens, hasher *Hasher, log *slog.Logger) *Service {
	verified, _ := lru.New[string, *Claims](verifiedTokens)
	unknown, _ := lru.New[string, struct{}](unknownSessions)
	return &Service{
		db: db, tokens: tokens, hasher: hasher, view: NewSessionView(), log: log, verified: verified,
		lookups: NewBuckets(sessionLookups, 1), unknown: unknown,
	}
}

// SetRefreshReuseInterval sets the refresh reuse grace (REFRESH_REUSE_INTERVAL): for that long
// after a rotation, the refresh token it consumed may be presented again and gets the same
// successor. 0 turns it off. Call it before serving.
func (s *Service) SetRefreshReuseInterval(d time.Duration) { s.reuseInterval = d }

// Authenticate is AuthenticateContext without a request context.
func (s *Service) Authenticate(raw string) (*Principal, error) {
	return s.AuthenticateContext(context.Background(), raw)
}

// AuthenticateContext verifies an access token: signature, claims, and that it belongs to a live
// session this database issued to the token's subject, whose account is neither blocked nor
// deleted. It asks the session view, without a database round trip, unless the view does not know
// the session yet (see lookupSession).
func (s *Service) AuthenticateContext(ctx context.Context, raw string) (*Principal, error) {
	p := &Principal{}
	if err := s.authenticate(ctx, raw, p); err != nil {
		return nil, err
	}
	return p, nil
}

// authenticate is AuthenticateContext writing the principal into p, which the caller allocates
// (WithIdentity: inside the identity).
func (s *Service) authenticate(ctx context.Context, raw string, p *Principal) error {
	c, ok := s.verified.Get(raw)
	if !ok || s.tokens.Expired(c, time.Now()) {
		var err error
		if c, err = s.tokens.Parse(raw, AccessToken); err != nil {
			s.verified.Remove(raw)
			return err
		}
		s.verified.Add(raw, c)
	}
	if err := s.checkSession(ctx, c.SessionID, c.UserID()); err != nil {
		return err
	}
	*p = Principal{UserID: c.UserID(), SessionID: c.SessionID, Admin: c.Admin, Fresh: c.Fresh, ExpiresAt: c.ExpiresAt.Time}
	return nil
}

// checkSession reports whether userID's token of the session may be used (see SessionView.Check).
func (s *Service) checkSession(ctx context.Context, sessionID string, userID int64) error {
	if known, err := s.view.Check(sessionID, userID); known {
		return err
	}
	st, err := s.lookupSession(ctx, sessionID)
	if err != nil {
		return err
	}
	if known, err := s.view.Check(sessionID, userID); known { // as recorded, or dead since
		return err
	}
	if st.UserID != userID { // live, but the view is full
		return errForeignSession
	}
	return nil
}

// lookupSession reads a session the view does not hold from the database and records it there. A
// session found missing is remembered as never issued here (session IDs are random and never
// reused, and a token is handed out only once its session is committed, so the answer is final).
// Lookups are merged per session and bounded per instance (sessionLookups). It returns the state
// read and an error: errForeignSession when absent, ErrTokenRevoked when dead.
func (s *Service) lookupSession(ctx context.Context, sessionID string) (*store.SessionState, error) {
	if _, ok := s.unknown.Get(sessionID); ok {
		return nil, errForeignSession
	}
	v, err, _ := s.flight.Do(sessionID, func() (any, error) {
		if ok, wait := s.lookups.Take("", time.Now()); !ok {
			return nil, &RateLimitError{"the server is busy checking sessions: try again shortly", wait}
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		st, err := store.SessionStateByID(ctx, s.db, sessionID)
		if errors.Is(err, store.ErrNotFound) {
			s.unknown.Add(sessionID, struct{}{})
			return nil, errForeignSession
		} else if err != nil {
			return nil, err
		}
		sess := model.Session{ID: st.ID, UserID: st.UserID, AccessExpiresAt: st.AccessExpiresAt}
		if st.Live {
			s.view.Live(sess)
		} else {
			s.view.Dead(sess)
		}
		return st, nil
	})
	if err != nil {
		return nil, err
	}
	st := v.(*store.SessionState)
	if !st.Live {
		return st, ErrTokenRevoked
	}
	return st, nil
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
// has been proven. A stored hash weaker than the configured parameters is replaced. A valid device token of the account (auth/device.go) puts the login under its
// device's limit instead of the account's and the address's.
func (s *Service) Login(ctx context.Context, email, password, deviceToken string) (_ *model.AuthPayload, err error) {
	end, err := s.loginAttempt(ctx, email, s.trustedDevice(ctx, email, deviceToken))
	if err != nil {
		return nil, err
	}
	defer end(&err)
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
	s.rehash(ctx, u, password)
	return s.startSession(ctx, u.ID)
}

// loginAttempt spends a login attempt of the account email names, for a password check about to
// be made (throttles.beginLogin; device is a trusted device's, or ""). Deferred with the address of
// the caller's named error, end gives the attempt back when the call succeeded, or failed because
// the server, not the caller, was out of capacity (a RateLimitError from the hasher): only failures
// of the caller's count.
func (s *Service) loginAttempt(ctx context.Context, email, device string) (end func(err *error), err error) {
	done, err := s.throttle.beginLogin(ctx, email, device)
	if err != nil {
		return nil, err
	}
	return func(err *error) {
		var busy *RateLimitError
		done(*err == nil || errors.As(*err, &busy))
	}, nil
}

// rehash replaces u's password hash, just proven with password, when the configured argon2id
// parameters are stronger than the ones it was made with. A failure only costs the upgrade.
func (s *Service) rehash(ctx context.Context, u *model.User, password string) {
	if !s.hasher.Weaker(u.PasswordHash) {
		return
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err == nil {
		_, err = store.ReplacePasswordHash(ctx, s.db, u.ID, u.PasswordHash, hash)
	}
	if err != nil {
		s.log.WarnContext(ctx, "upgrading a password hash failed", "user", u.ID, "err", err)
	}
}

// startSession creates a session for the account with a fresh access token. The account is read
// again, locked, in the transaction that creates the session: it may have been blocked, demoted or
// deleted while its password was being checked, and a session created after such a change would
// escape the revocation that came with it. The session is announced to the other instances in the
// same transaction, and recorded in this instance's view before the tokens are handed out.
func (s *Service) startSession(ctx context.Context, userID int64) (payload *model.AuthPayload, err error) {
	var sess *model.Session
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
		ip, agent := clientDetails(ctx)
		sess = &model.Session{ID: newSessionID(), UserID: u.ID, CreatedAt: time.Now().UTC(), IPAddress: ip, UserAgent: agent}
		access, refresh, err := s.issuePair(u, sess.ID, true)
		if err != nil {
			return err
		}
		sess.RefreshJTI, sess.ExpiresAt, sess.AccessExpiresAt = refresh.ID, refresh.ExpiresAt.UTC(), access.ExpiresAt.UTC()
		if err := store.CreateSession(ctx, tx, sess); err != nil {
			return err
		}
		if err := store.NotifyLive(ctx, tx, *sess); err != nil {
			return err
		}
		payload = s.authPayload(u, sess.ID, access, refresh)
		return nil
	})
	if err == nil {
		s.view.Live(*sess)
	}
	return payload, err
}

// Refresh exchanges a refresh token for a non-fresh access token and a new refresh token (a
// rotation). The session's row is locked while it decides, so that refreshes of one session, on
// any instance, run one after the other:
//   - the session's current refresh token rotates: it is consumed, a successor issued;
//   - the token the latest rotation consumed, presented again within the reuse grace (two tabs
//     refreshing at once, a retry after a lost response), gets the same successor again, re-signed
//     from what the rotation recorded, and a new access token;
//   - any other refresh token of the session, or that one after the grace, is reuse — taken as
//     theft: the whole session is revoked, TOKEN_REVOKED.
//
// A token of a session this database never issued, or issued to another user, is TOKEN_INVALID.
func (s *Service) Refresh(ctx context.Context, raw string) (*model.AuthPayload, error) {
	if raw == "" {
		return nil, ErrTokenMissing
	}
	c, err := s.tokens.Parse(raw, RefreshToken)
	if err != nil {
		return nil, err
	}
	var (
		payload *model.AuthPayload
		live    model.Session
		ended   []model.Session
	)
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		sess, err := store.LockSession(ctx, tx, c.SessionID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return errForeignSession
		case err != nil:
			return err
		case sess.UserID != c.UserID():
			return errForeignSession
		case sess.RevokedAt != nil:
			return ErrTokenRevoked
		}
		u, err := store.UserByID(ctx, tx, sess.UserID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.Blocked) {
			// Deleting and blocking revoke sessions in the same transaction, so this only guards
			// against a database edited by hand.
			return ErrTokenRevoked
		} else if err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		var refresh Issued
		switch {
		case sess.RefreshJTI == c.ID:
			if refresh, err = s.tokens.IssueRefreshAt(u.ID, sess.ID, randomID(), now, now.Add(s.tokens.cfg.RefreshTTL)); err != nil {
				return err
			}
		case s.withinGrace(sess, c.ID, now):
			if refresh, err = s.tokens.IssueRefreshAt(u.ID, sess.ID, sess.RefreshJTI, *sess.RotatedAt, sess.ExpiresAt); err != nil {
				return err
			}
		default:
			if ended, err = store.RevokeSession(ctx, tx, sess.ID); err != nil {
				return err
			}
			return store.NotifyRevoked(ctx, tx, ended)
		}
		access, err := s.tokens.Issue(AccessToken, u.ID, sess.ID, false, u.IsAdmin)
		if err != nil {
			return err
		}
		if refresh.ID != sess.RefreshJTI { // a rotation
			err = rotated(store.RotateRefreshToken(ctx, tx, store.Rotation{
				SessionID: sess.ID, OldJTI: c.ID, NewJTI: refresh.ID, At: now,
				RefreshExpiresAt: refresh.ExpiresAt, AccessExpiresAt: access.ExpiresAt,
			}))
		} else {
			err = store.ExtendAccess(ctx, tx, sess.ID, access.ExpiresAt)
		}
		if err != nil {
			return err
		}
		live = model.Session{ID: sess.ID, UserID: u.ID, AccessExpiresAt: access.ExpiresAt}
		payload = s.authPayload(u, sess.ID, access, refresh)
		return store.NotifyLive(ctx, tx, live)
	})
	switch {
	case err != nil:
		return nil, err
	case payload == nil: // reuse
		s.view.Dead(ended...)
		return nil, ErrTokenRevoked
	}
	s.view.Live(live)
	return payload, nil
}

// withinGrace reports whether jti is the refresh token the session's latest rotation consumed,
// presented again within the reuse interval.
func (s *Service) withinGrace(sess *model.Session, jti string, now time.Time) bool {
	return s.reuseInterval > 0 && sess.PreviousJTI != nil && *sess.PreviousJTI == jti &&
		sess.RotatedAt != nil && now.Sub(*sess.RotatedAt) < s.reuseInterval
}

// rotated turns a compare-and-set that found nothing to change into TOKEN_REVOKED. The session's
// row is locked, so this does not happen; it keeps two refreshes from both rotating if it did.
func rotated(ok bool, err error) error {
	if err == nil && !ok {
		return ErrTokenRevoked
	}
	return err
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

// authPayload is what login and refreshToken return for a session of u. Both give the session's
// device token, renewed: the same device, bound to the password hash u has now.
func (s *Service) authPayload(u *model.User, sessionID string, access, refresh Issued) *model.AuthPayload {
	return &model.AuthPayload{AccessToken: access.Token, RefreshToken: refresh.Token, AccessTokenExpiresAt: access.ExpiresAt,
		DeviceToken: s.deviceToken(u, sessionID), User: u}
}

// Logout ends sessions of the caller: its own (CURRENT), every other one of its account (OTHERS),
// or all of them (ALL). Their access and refresh tokens stop working.
func (s *Service) Logout(ctx context.Context, p *Principal, scope model.LogoutScope) error {
	_, err := s.revokeOf(ctx, func(ctx context.Context, tx bun.Tx) ([]model.Session, error) {
		switch scope {
		case model.LogoutScopeOthers:
			return store.RevokeOtherSessions(ctx, tx, p.UserID, p.SessionID)
		case model.LogoutScopeAll:
			return store.RevokeUserSessions(ctx, tx, p.UserID)
		default:
			return store.RevokeSession(ctx, tx, p.SessionID)
		}
	})
	return err
}

// RevokeSession ends one session: one of the caller's own, or any for an administrator. Anyone
// else's session is NOT_FOUND, exactly like one that does not exist.
func (s *Service) RevokeSession(ctx context.Context, p *Principal, id string) error {
	_, err := s.revokeOf(ctx, func(ctx context.Context, tx bun.Tx) ([]model.Session, error) {
		owner := p.UserID
		if p.Admin {
			owner = 0
		}
		if _, err := store.SessionOf(ctx, tx, id, owner); err != nil {
			return nil, err
		}
		return store.RevokeSession(ctx, tx, id)
	})
	return err
}

// RevokeUserSessions ends every live session of an account and says how many there were.
func (s *Service) RevokeUserSessions(ctx context.Context, userID int64) (int, error) {
	return s.revokeOf(ctx, func(ctx context.Context, tx bun.Tx) ([]model.Session, error) {
		if _, err := store.UserByID(ctx, tx, userID); err != nil {
			return nil, err
		}
		return store.RevokeUserSessions(ctx, tx, userID)
	})
}

// ChangePassword replaces the caller's password after checking the current one as login does (the
// same hash and throttle, INVALID_CREDENTIALS), applies the password rules to the new one, and
// ends every other session of the account; the caller's own goes on.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, current, next string) (err error) {
	if err := checkPassword(next); err != nil {
		return err // before the hash and the throttle: a bad new password proves nothing
	}
	u, err := store.UserByID(ctx, s.db, p.UserID)
	if err != nil {
		return err
	}
	end, err := s.loginAttempt(ctx, u.Email, "")
	if err != nil {
		return err
	}
	defer end(&err)
	ok, err := s.hasher.Verify(ctx, u.PasswordHash, current)
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalidCredentials
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	_, err = s.revokeOf(ctx, func(ctx context.Context, tx bun.Tx) ([]model.Session, error) {
		if _, err := store.SetUserPassword(ctx, tx, u.ID, hash); err != nil {
			return nil, err
		}
		return store.RevokeOtherSessions(ctx, tx, u.ID, p.SessionID)
	})
	return err
}

// MySessions lists the caller's live sessions, newest first, marking the caller's own.
func (s *Service) MySessions(ctx context.Context, p *Principal) ([]*model.Session, error) {
	return s.sessionsOf(ctx, p, p.UserID)
}

// UserSessions lists the live sessions of an account (NOT_FOUND if there is none), for an
// administrator.
func (s *Service) UserSessions(ctx context.Context, p *Principal, userID int64) ([]*model.Session, error) {
	if _, err := store.UserByID(ctx, s.db, userID); err != nil {
		return nil, err
	}
	return s.sessionsOf(ctx, p, userID)
}

func (s *Service) sessionsOf(ctx context.Context, p *Principal, userID int64) ([]*model.Session, error) {
	sessions, err := store.LiveSessions(ctx, s.db, userID)
	for _, sess := range sessions {
		sess.Current = sess.ID == p.SessionID
	}
	return sessions, err
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

// revoke runs change in a transaction that also persists and announces the sessions it revoked to
// the other instances, then records them dead in this instance's view before returning, so that
// revocation is immediate here and, through the database, everywhere.
func (s *Service) revoke(ctx context.Context, change func(context.Context, bun.Tx) ([]model.Session, error)) error {
	_, err := s.revokeOf(ctx, change)
	return err
}

// revokeOf is revoke that says how many sessions it ended.
func (s *Service) revokeOf(ctx context.Context, change func(context.Context, bun.Tx) ([]model.Session, error)) (int, error) {
	var revoked []model.Session
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if revoked, err = change(ctx, tx); err != nil {
			return err
		}
		return store.NotifyRevoked(ctx, tx, revoked)
	})
	if err != nil {
		return 0, err
	}
	s.view.Dead(revoked...)
	return len(revoked), nil
}

// EnsureAdmin makes the account with email an administrator, creating it with password if it does
// not exist. An existing account is promoted only if password is its password: whoever registered
// that email first would otherwise become an administrator with a password of their choosing.
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) (*model.User, error) {
	u, err := store.UserByEmail(ctx, s.db, email)
	created := false
	switch {
	case errors.Is(err, store.ErrNotFound):
		if u, err = s.Register(ctx, model.RegisterInput{Email: email, Username: "admin", Password: password}); err != nil {
			if errors.Is(err, store.ErrConflict) { // another instance created it just now
				return s.EnsureAdmin(ctx, email, password)
			}
			return nil, err
		}
		created = true
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
	if u, err = store.SetUserAdmin(ctx, s.db, u.ID, true); err != nil {
		return nil, err
	}
	if created {
		s.log.Info("created the admin account (ADMIN_EMAIL)", "email", u.Email)
	} else {
		s.log.Info("made the existing account an admin (ADMIN_EMAIL)", "email", u.Email)
	}
	return u, nil
}

// SyncSessions reads every session whose access tokens may still be presented into the view, live
// or dead, and forgets those whose tokens have all expired. Call it once before serving; Run calls
// it periodically.
func (s *Service) SyncSessions(ctx context.Context) error {
	// Kept a leeway past their exp: harmless, and robust to a clock stepping back.
	horizon := time.Now().Add(-s.tokens.cfg.Leeway)
	mark := s.view.Mark()
	states, err := store.SessionStates(ctx, s.db, horizon)
	if err != nil {
		return err
	}
	s.view.Load(states, mark, horizon)
	s.view.Prune(horizon)
	return nil
}

// ApplyRevocationNotice records the sessions announced on store.RevocationChannel by another
// instance as dead.
func (s *Service) ApplyRevocationNotice(payload string) {
	s.view.Dead(store.ParseSessions(payload)...)
}

// ApplySessionNotice records the sessions announced on store.SessionChannel by another instance
// (created, or refreshed) as live.
func (s *Service) ApplySessionNotice(payload string) {
	var live []model.Session
	for _, sess := range store.ParseSessions(payload) {
		if sess.UserID > 0 {
			live = append(live, sess)
		}
	}
	s.view.Live(live...)
}

// Sessions is the number of sessions the view holds, live and dead.
func (s *Service) Sessions() int { return s.view.Len() }

// Run keeps the session view in step with the database until ctx ends: a full resync every
// interval, or at once when resync receives (announcements may have been missed); it catches
// changes by other processes sharing a SQLite file too. It also deletes sessions that can no longer
// be used. Call SyncSessions once before serving, and feed announcements from other instances to
// ApplyRevocationNotice and ApplySessionNotice.
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
		if err := s.SyncSessions(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("session resync failed", "err", err)
		}
	}
}

// SigningSecret returns the HS256 key: the configured one, which must pass CheckSecret,
// or else one generated once and kept in the database, so that restarts and other instances sharing
// the database keep verifying the same tokens. generated reports the second case, which deserves a
// warning: whoever can read the database can mint tokens.
func SigningSecret(ctx context.Context, db bun.IDB, configured string) (secret []byte, generated bool, err error) {
	if configured != "" {
		if err := CheckSecret([]byte(configured)); err != nil {
			return nil, false, err
		}
		return []byte(configured), false, nil
	}
	if secret, err = storedSecret(ctx, db, "jwt_secret"); err != nil {
		return nil, false, err
	}
	return secret, true, nil
}

// storedSecret returns the key kept in the setting name, generating it (48 random bytes) if it is
// absent; every instance sharing the database gets the same one.
func storedSecret(ctx context.Context, db bun.IDB, name string) ([]byte, error) {
	var b [48]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	stored, err := store.SettingOrInit(ctx, db, name, base64.RawStdEncoding.EncodeToString(b[:]))
	if err != nil {
		return nil, err
	}
	secret, err := base64.RawStdEncoding.DecodeString(stored)
	if err != nil || len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("the stored %s setting is malformed", name)
	}
	return secret, nil
}
