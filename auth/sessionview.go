package auth

import (
	"sync"
	"time"

	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

// SessionView is an instance's in-memory view of the sessions whose access tokens may still be
// presented: session ID → its user, the expiry of its latest access token, and live or dead. Every
// request is checked against it, so that a token is accepted only for a live session that this
// database issued to the token's subject, without a database round trip.
//
// It is fed like this: sessions this instance creates, refreshes or revokes are recorded at once;
// PostgreSQL announces those of other instances from inside their transactions (store.NotifyLive,
// store.NotifyRevoked); a periodic resync (store.SessionStates) catches whatever announcements were
// missed and the changes of processes sharing a SQLite file; and a session the view does not know
// yet — a login on another instance whose announcement is still on its way — is looked up once in
// the database (Service.lookupSession), bounded so that invented session IDs cannot make every
// request a query.
//
// Death is final: a dead entry is never made live again, so an announcement or a resync that read
// the database before a revocation cannot undo it. An entry is forgotten once its latest access
// token has expired (Prune): a request with such a token fails on its exp before it asks the view,
// and a refresh is checked against the database anyway. The view therefore holds the sessions used
// within one ACCESS_TOKEN_TTL, and at most maxLiveSessions live ones.
type SessionView struct {
	mu       sync.RWMutex
	sessions map[string]*viewEntry
	live     int    // entries not dead
	seq      uint64 // bumped by every record, see Mark
	watchers map[string]map[*watcher]struct{}
}

type viewEntry struct {
	userID int64
	exp    time.Time // latest access token expiry
	dead   bool
	seq    uint64 // Mark value when last recorded
}

// maxLiveSessions bounds the live entries (about 150 bytes each). Beyond it new sessions are not
// cached: their requests fall back to the bounded database lookup.
const maxLiveSessions = 500_000

// NewSessionView returns an empty view.
func NewSessionView() *SessionView {
	return &SessionView{sessions: make(map[string]*viewEntry), watchers: make(map[string]map[*watcher]struct{})}
}

// Check tells whether a token of userID for the session may be used: known reports whether the
// view holds the session at all; if it does, err is nil for a live session of that user,
// ErrTokenRevoked for a dead one and TOKEN_INVALID for a live session of another user (a forged
// token).
func (v *SessionView) Check(sessionID string, userID int64) (known bool, err error) {
	// Entries change in place under the write lock, so their fields are read under the read lock.
	v.mu.RLock()
	defer v.mu.RUnlock()
	e := v.sessions[sessionID]
	switch {
	case e == nil:
		return false, nil
	case e.dead:
		return true, ErrTokenRevoked
	case e.userID != userID:
		return true, errForeignSession
	}
	return true, nil
}

// errForeignSession: a well-signed token whose session this database never issued, or issued to
// another user. Either way the token is not one of ours: TOKEN_INVALID, not TOKEN_REVOKED (there is
// nothing a login would not also get; no session of the caller was ended).
var errForeignSession = tokenInvalid("the token's session was not issued by this server")

// Live records live sessions (ID, UserID, AccessExpiresAt). A session already dead stays dead.
func (v *SessionView) Live(sessions ...model.Session) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seq++
	for _, s := range sessions {
		v.recordLocked(s.ID, s.UserID, s.AccessExpiresAt, false)
	}
}

// Dead records ended sessions and releases their watchers.
func (v *SessionView) Dead(sessions ...model.Session) {
	if len(sessions) == 0 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seq++
	for _, s := range sessions {
		v.recordLocked(s.ID, s.UserID, s.AccessExpiresAt, true)
	}
}

func (v *SessionView) recordLocked(id string, userID int64, exp time.Time, dead bool) {
	e := v.sessions[id]
	if e == nil {
		if !dead && v.live >= maxLiveSessions {
			return
		}
		e = &viewEntry{userID: userID, exp: exp}
		v.sessions[id] = e
		v.live++ // until the death below, if dead
	}
	if exp.After(e.exp) {
		e.exp = exp
	}
	if userID != 0 && !e.dead {
		e.userID = userID
	}
	e.seq = v.seq
	if dead && !e.dead {
		e.dead = true
		v.live--
		v.fireLocked(id)
	}
}

// Mark returns a position for Load: entries recorded after it are newer than a database read
// begun after it.
func (v *SessionView) Mark() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seq++
	return v.seq
}

// Load applies a full read of the database (store.SessionStates after horizon) begun after mark:
// each session takes the state read, unless dead already; and a live session recorded before mark
// that the read did not find, though its tokens are still good after horizon, has been deleted, so
// it is dead.
func (v *SessionView) Load(states []store.SessionState, mark uint64, horizon time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seq++
	read := make(map[string]struct{}, len(states))
	for _, st := range states {
		read[st.ID] = struct{}{}
		v.recordLocked(st.ID, st.UserID, st.AccessExpiresAt, !st.Live)
	}
	for id, e := range v.sessions {
		if _, ok := read[id]; !ok && !e.dead && e.seq < mark && e.exp.After(horizon) {
			e.dead = true
			v.live--
			v.fireLocked(id)
		}
	}
}

// Prune forgets sessions whose access tokens have all expired by horizon.
func (v *SessionView) Prune(horizon time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for id, e := range v.sessions {
		if e.exp.Before(horizon) {
			delete(v.sessions, id)
			if !e.dead {
				v.live--
			}
		}
	}
}

// Len is the number of sessions held, live and dead.
func (v *SessionView) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.sessions)
}
