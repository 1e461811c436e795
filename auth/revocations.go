package auth

import (
	"sync"
	"time"

	"github.com/shopql/shopql/model"
)

// RevocationList is the in-memory view of revoked sessions that authenticating a request consults, so
// that the hot path makes no database round trip. It only needs a session until the last access
// token issued for it has expired: after that nothing it issued can be presented (a refresh is
// checked against the database anyway).
//
// Revocation never reverses, so the list only grows between prunes; the database stays the source
// of truth and the list is fed from it (see Service.Run).
type RevocationList struct {
	mu      sync.RWMutex
	revoked map[string]time.Time // session ID → expiry of its last access token

	watching watchers // open connections to close when their session is revoked (watch.go)
}

// NewRevocationList returns an empty list.
func NewRevocationList() *RevocationList {
	return &RevocationList{revoked: make(map[string]time.Time)}
}

// Revoked reports whether the session is revoked.
func (l *RevocationList) Revoked(sessionID string) bool {
	l.mu.RLock()
	_, ok := l.revoked[sessionID]
	l.mu.RUnlock()
	return ok
}

// Add records revoked sessions.
func (l *RevocationList) Add(sessions []model.Session) {
	if len(sessions) == 0 {
		return
	}
	l.mu.Lock()
	for _, s := range sessions {
		if s.AccessExpiresAt.After(l.revoked[s.ID]) {
			l.revoked[s.ID] = s.AccessExpiresAt
		}
	}
	l.mu.Unlock()
	ids := make([]string, len(sessions))
	for i, s := range sessions {
		ids[i] = s.ID
	}
	l.watching.signal(ids)
}

// watch waits for the revocation of a session (Service.WatchSession).
func (l *RevocationList) watch(sessionID string) (<-chan struct{}, func()) {
	ch, stop := l.watching.add(sessionID, l.Revoked)
	return ch, stop
}

// Prune forgets sessions whose access tokens have all expired by now.
func (l *RevocationList) Prune(now time.Time) {
	l.mu.Lock()
	for id, exp := range l.revoked {
		if now.After(exp) {
			delete(l.revoked, id)
		}
	}
	l.mu.Unlock()
}

// Len is the number of sessions held.
func (l *RevocationList) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.revoked)
}
