package auth

import (
	"context"
	"errors"
	"sync"
	"time"
)

type watcher struct {
	ended chan struct{}
	once  sync.Once
}

func (w *watcher) fire() { w.once.Do(func() { close(w.ended) }) }

// fireLocked releases the watchers of a session that has just died. v.mu is held.
func (v *SessionView) fireLocked(id string) {
	for w := range v.watchers[id] {
		w.fire()
	}
	delete(v.watchers, id)
}

// watch registers a watcher of a session. known reports whether the view holds the session; a
// dead one's watcher is released at once.
func (v *SessionView) watch(id string) (w *watcher, known bool) {
	w = &watcher{ended: make(chan struct{})}
	v.mu.Lock()
	defer v.mu.Unlock()
	e := v.sessions[id]
	if e != nil && e.dead {
		w.fire()
		return w, true
	}
	if v.watchers[id] == nil {
		v.watchers[id] = make(map[*watcher]struct{})
	}
	v.watchers[id][w] = struct{}{}
	return w, e != nil
}

func (v *SessionView) unwatch(id string, w *watcher) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if ws := v.watchers[id]; ws != nil {
		delete(ws, w)
		if len(ws) == 0 {
			delete(v.watchers, id)
		}
	}
}

// WatchSession returns a channel that is closed as soon as this instance learns that the session is no
// longer live (logout of any scope, revokeSession, revokeUserSessions, block, demotion, deletion, password
// change, refresh-token reuse detection) — from this instance or any other sharing the database — and a
// stop func that releases the watch. Safe for concurrent use; a watch of an already-dead session fires at once.
//
// It rides on the session view, so it learns what the view learns, as fast: at once for changes
// made here, within milliseconds for announcements from other instances on PostgreSQL, and at the
// next resync otherwise. A session the view does not hold yet is looked up in the database, and
// the watch fires if it is dead or was never issued here.
func (s *Service) WatchSession(sessionID string) (ended <-chan struct{}, stop func()) {
	w, known := s.view.watch(sessionID)
	ctx, cancel := context.WithCancel(context.Background())
	if !known {
		go s.settleWatch(ctx, sessionID, w)
	}
	return w.ended, sync.OnceFunc(func() {
		cancel()
		s.view.unwatch(sessionID, w)
	})
}

// settleWatch looks up a session the view did not hold when it was watched, retrying while the
// lookups are rate-limited or the database fails, until it knows or the watch is stopped.
func (s *Service) settleWatch(ctx context.Context, sessionID string, w *watcher) {
	delay := 100 * time.Millisecond
	for ctx.Err() == nil {
		_, err := s.lookupSession(ctx, sessionID)
		switch {
		case err == nil:
			return // live and now in the view, which fires the watch when it dies
		case errors.Is(err, ErrTokenRevoked), errors.Is(err, ErrTokenInvalid):
			w.fire() // dead, or never issued here
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}
