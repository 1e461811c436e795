package auth

import "sync"

// watchers is the set of open connections (WebSocket subscriptions) waiting to learn that their
// session has ended, by session ID. RevocationList.Add signals them.
type watchers struct {
	mu       sync.Mutex
	sessions map[string]map[chan struct{}]struct{}
}

// add registers a watch of sessionID unless revoked reports it dead already, in which case the
// returned channel is closed at once. revoked runs under the same lock that signal takes, so that a
// revocation recorded meanwhile cannot be missed.
func (w *watchers) add(sessionID string, revoked func(string) bool) (chan struct{}, func()) {
	ch := make(chan struct{})
	w.mu.Lock()
	defer w.mu.Unlock()
	if revoked(sessionID) {
		close(ch)
		return ch, func() {}
	}
	if w.sessions == nil {
		w.sessions = make(map[string]map[chan struct{}]struct{})
	}
	set := w.sessions[sessionID]
	if set == nil {
		set = make(map[chan struct{}]struct{})
		w.sessions[sessionID] = set
	}
	set[ch] = struct{}{}
	stop := sync.OnceFunc(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if set, ok := w.sessions[sessionID]; ok {
			if _, ok := set[ch]; ok {
				delete(set, ch)
				if len(set) == 0 {
					delete(w.sessions, sessionID)
				}
			}
		}
	})
	return ch, stop
}

// signal closes the watches of the sessions with the given IDs and forgets them.
func (w *watchers) signal(sessionIDs []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range sessionIDs {
		for ch := range w.sessions[id] {
			close(ch)
		}
		delete(w.sessions, id)
	}
}

// len is the number of watches held.
func (w *watchers) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, set := range w.sessions {
		n += len(set)
	}
	return n
}

// WatchSession returns a channel that is closed as soon as this instance learns that the session is no
// longer live (logout of any scope, revokeSession, block, demotion, deletion, password change, reuse
// detection) — from this instance or any other sharing the database — and a stop func that releases the
// watch. Safe for concurrent use; a watch of an already-dead session fires at once.
func (s *Service) WatchSession(sessionID string) (ended <-chan struct{}, stop func()) {
	return s.revoked.watch(sessionID)
}
