package auth

import (
	"testing"
	"time"

	"github.com/shopql/shopql/model"
)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestWatchSessionFiresOnRevocationOfItsSessionOnly(t *testing.T) {
	s := &Service{revoked: NewRevocationList()}
	exp := time.Now().Add(time.Hour)
	a, stopA := s.WatchSession("a")
	a2, stopA2 := s.WatchSession("a")
	b, stopB := s.WatchSession("b")
	defer stopB()
	if closed(a) || closed(a2) || closed(b) {
		t.Fatal("a watch fired before any revocation")
	}
	s.revoked.Add([]model.Session{{ID: "a", AccessExpiresAt: exp}})
	if !closed(a) || !closed(a2) {
		t.Error("revoking session a did not fire its watches")
	}
	if closed(b) {
		t.Error("revoking session a fired the watch of session b")
	}
	stopA()
	stopA2() // after firing: harmless
	if n := s.revoked.watching.len(); n != 1 {
		t.Errorf("%d watches held, want 1 (b's)", n)
	}
}

func TestWatchSessionOfDeadSessionFiresAtOnce(t *testing.T) {
	s := &Service{revoked: NewRevocationList()}
	s.revoked.Add([]model.Session{{ID: "a", AccessExpiresAt: time.Now().Add(time.Hour)}})
	ended, stop := s.WatchSession("a")
	defer stop()
	if !closed(ended) {
		t.Error("a watch of a revoked session did not fire at once")
	}
}

func TestWatchSessionStopReleasesTheWatch(t *testing.T) {
	s := &Service{revoked: NewRevocationList()}
	ended, stop := s.WatchSession("a")
	stop()
	stop()
	if n := s.revoked.watching.len(); n != 0 {
		t.Errorf("%d watches held after stop, want 0", n)
	}
	s.revoked.Add([]model.Session{{ID: "a", AccessExpiresAt: time.Now().Add(time.Hour)}})
	if closed(ended) {
		t.Error("a stopped watch fired")
	}
}
