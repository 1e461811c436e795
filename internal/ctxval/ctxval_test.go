package ctxval

import (
	"context"
	"errors"
	"testing"
	"time"
)

type (
	keyA   struct{}
	keyB   struct{}
	keyInt int
)

func TestValue(t *testing.T) {
	parent := context.WithValue(context.Background(), keyB{}, "from the parent")
	c := &Context[keyA, string]{Context: parent, Val: "mine"}
	for _, tt := range []struct {
		name string
		key  any
		want any
	}{
		{"own key", keyA{}, "mine"},
		{"the parent's key", keyB{}, "from the parent"},
		{"an unknown key", keyInt(1), nil},
		{"another type, same shape", struct{}{}, nil},
	} {
		got := c.Value(tt.key)
		if p, ok := got.(*string); ok {
			got = *p
		}
		if got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if c.Value(keyA{}) != c.Value(keyA{}) || c.Value(keyA{}).(*string) != &c.Val {
		t.Error("the value is not the context's own")
	}
	// A child context still finds it, as it would a context.WithValue's.
	child, cancel := context.WithCancel(context.WithValue(c, keyB{}, "shadowed"))
	defer cancel()
	if v, _ := child.Value(keyA{}).(*string); v == nil || *v != "mine" {
		t.Errorf("through a child: %v", child.Value(keyA{}))
	}
}

func TestCancellationIsTheParents(t *testing.T) {
	parent, cancel := context.WithCancelCause(context.Background())
	deadline, stop := context.WithDeadline(parent, time.Now().Add(time.Hour))
	defer stop()
	c := &Context[keyA, int]{Context: deadline}
	child, cancelChild := context.WithCancel(c)
	defer cancelChild()
	if d, ok := c.Deadline(); !ok || d.IsZero() {
		t.Error("no deadline")
	}
	if c.Err() != nil || child.Err() != nil {
		t.Fatal("done before its parent")
	}
	why := errors.New("client gone")
	cancel(why)
	select {
	case <-child.Done():
	case <-time.After(time.Second):
		t.Fatal("a child of it was not cancelled with its parent")
	}
	if !errors.Is(c.Err(), context.Canceled) || !errors.Is(context.Cause(child), why) {
		t.Errorf("err %v, cause %v", c.Err(), context.Cause(child))
	}
}
