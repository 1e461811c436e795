package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

func TestSessionView(t *testing.T) {
	now := time.Now()
	later := now.Add(time.Hour)
	sess := func(id string, user int64) model.Session {
		return model.Session{ID: id, UserID: user, AccessExpiresAt: later}
	}
	check := func(v *SessionView, id string, user int64) (bool, error) { return v.Check(id, user) }

	t.Run("live, foreign user, unknown", func(t *testing.T) {
		v := NewSessionView()
		v.Live(sess("a", 1))
		if known, err := check(v, "a", 1); !known || err != nil {
			t.Fatalf("live: %v %v", known, err)
		}
		if known, err := check(v, "a", 2); !known || !errors.Is(err, ErrTokenInvalid) {
			t.Fatalf("another user's session: %v %v", known, err)
		}
		if known, _ := check(v, "b", 1); known {
			t.Fatal("unknown session reported known")
		}
	})
	t.Run("death is final", func(t *testing.T) {
		v := NewSessionView()
		mark := v.Mark()
		v.Dead(sess("a", 1))
		v.Live(sess("a", 1))                                                                              // a late announcement
		v.Load([]store.SessionState{{ID: "a", UserID: 1, AccessExpiresAt: later, Live: true}}, mark, now) // a stale read
		if _, err := check(v, "a", 1); !errors.Is(err, ErrTokenRevoked) {
			t.Fatalf("revived: %v", err)
		}
	})
	t.Run("load", func(t *testing.T) {
		v := NewSessionView()
		v.Live(sess("gone", 1), sess("kept", 1))
		mark := v.Mark()
		v.Live(sess("new", 1)) // recorded after the read began: the read may not have seen it
		v.Load([]store.SessionState{
			{ID: "kept", UserID: 1, AccessExpiresAt: later, Live: true},
			{ID: "blocked", UserID: 3, AccessExpiresAt: later, Live: false},
			{ID: "other", UserID: 4, AccessExpiresAt: later, Live: true},
		}, mark, now)
		for id, want := range map[string]error{"gone": ErrTokenRevoked, "kept": nil, "new": nil, "blocked": ErrTokenRevoked} {
			user := int64(1)
			if id == "blocked" {
				user = 3
			}
			if known, err := check(v, id, user); !known || !errors.Is(err, want) && err != want {
				t.Errorf("%s: %v %v, want %v", id, known, err, want)
			}
		}
		if known, err := check(v, "other", 4); !known || err != nil {
			t.Errorf("loaded session: %v %v", known, err)
		}
	})
	t.Run("prune", func(t *testing.T) {
		v := NewSessionView()
		v.Live(model.Session{ID: "old", UserID: 1, AccessExpiresAt: now.Add(-time.Minute)}, sess("young", 1))
		v.Dead(model.Session{ID: "oldDead", UserID: 1, AccessExpiresAt: now.Add(-time.Minute)}, sess("youngDead", 1))
		v.Prune(now)
		if v.Len() != 2 || v.live != 1 {
			t.Fatalf("after prune: %d entries, %d live", v.Len(), v.live)
		}
	})
	t.Run("watchers", func(t *testing.T) {
		v := NewSessionView()
		v.Live(sess("a", 1), sess("b", 1))
		wa, _ := v.watch("a")
		wb, _ := v.watch("b")
		wb2, _ := v.watch("b")
		v.unwatch("b", wb2)
		v.Dead(sess("a", 1))
		select {
		case <-wa.ended:
		default:
			t.Fatal("watcher of a dead session not released")
		}
		mark := v.Mark()
		v.Load(nil, mark, now) // b vanished from the database
		select {
		case <-wb.ended:
		default:
			t.Fatal("watcher of a vanished session not released")
		}
		select {
		case <-wb2.ended:
			t.Fatal("a stopped watcher fired")
		default:
		}
		if w, known := v.watch("a"); !known {
			t.Fatal("dead session unknown")
		} else {
			select {
			case <-w.ended:
			default:
				t.Fatal("watch of a dead session must fire at once")
			}
		}
		if len(v.watchers) != 0 {
			t.Fatalf("watchers left: %v", v.watchers)
		}
	})
}
