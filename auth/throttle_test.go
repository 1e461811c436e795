package auth

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want Rate
		ok   bool
	}{
		{"10/15m", Rate{10, 15 * time.Minute}, true},
		{"1/1s", Rate{1, time.Second}, true},
		{"0", Rate{}, true},
		{"", Rate{}, true},
		{"10", Rate{}, false},
		{"-1/1m", Rate{}, false},
		{"10/0s", Rate{}, false},
		{"x/1m", Rate{}, false},
		{"10/forever", Rate{}, false},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestBucketsRefillAndRefund(t *testing.T) {
	b := NewBuckets(Rate{Burst: 2, Per: 2 * time.Minute}, 10) // one token a minute
	t0 := time.Unix(1_000_000, 0)
	for i := range 2 {
		if ok, _ := b.Take("k", t0); !ok {
			t.Fatalf("take %d refused", i)
		}
	}
	ok, wait := b.Take("k", t0)
	if ok || wait != time.Minute {
		t.Fatalf("third take: ok=%v wait=%v, want refused for 1m", ok, wait)
	}
	if ok, wait := b.Take("k", t0.Add(30*time.Second)); ok || wait != 30*time.Second {
		t.Fatalf("half refilled: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := b.Take("k", t0.Add(time.Minute)); !ok {
		t.Fatal("refilled token refused")
	}
	b.Refund("k", t0.Add(time.Minute))
	if ok, _ := b.Take("k", t0.Add(time.Minute)); !ok {
		t.Fatal("refunded token refused")
	}
	// Other keys are independent.
	if ok, _ := b.Take("other", t0); !ok {
		t.Fatal("other key refused")
	}
	// Refunds never exceed the burst.
	for range 5 {
		b.Refund("other", t0)
	}
	for i := range 3 {
		if ok, _ := b.Take("other", t0); ok != (i < 2) {
			t.Fatalf("take %d after refunds: %v", i, ok)
		}
	}
}

func TestBucketsBounded(t *testing.T) {
	b := NewBuckets(Rate{Burst: 1, Per: time.Hour}, 100)
	t0 := time.Unix(1_000_000, 0)
	for i := range 1000 {
		b.Take(strconv.Itoa(i), t0) // every bucket left empty: nothing is idle
	}
	if n := b.Len(); n > 100 {
		t.Fatalf("%d keys remembered, capacity 100", n)
	}
	// Once buckets have refilled they are what is dropped: new keys keep their state.
	later := t0.Add(2 * time.Hour)
	b.Take("fresh", later)
	for i := range 99 {
		b.Take("new"+strconv.Itoa(i), later)
	}
	if n := b.Len(); n > 100 {
		t.Fatalf("%d keys remembered, capacity 100", n)
	}
	if ok, _ := b.Take("fresh", later); ok {
		t.Fatal("a live bucket was dropped while idle ones were kept")
	}
}

func TestDisabledBucketsAllowEverything(t *testing.T) {
	b := NewBuckets(Rate{}, 1)
	for range 100 {
		if ok, _ := b.Take("k", time.Now()); !ok {
			t.Fatal("disabled rate refused")
		}
	}
	var nilBuckets *Buckets
	if ok, _ := nilBuckets.Take("k", time.Now()); !ok {
		t.Fatal("nil Buckets refused")
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1500 * time.Millisecond: 2, time.Minute: 60} {
		if got := (&RateLimitError{RetryAfter: d}).RetryAfterSeconds(); got != want {
			t.Errorf("RetryAfter %v: %d seconds, want %d", d, got, want)
		}
	}
}

// TestHasherQueueBounded fills the hashing slot and the queue, then checks the next caller is
// refused at once instead of waiting.
func TestHasherQueueBounded(t *testing.T) {
	h := NewHasher(Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}, 1)
	h.SetMaxWaiting(1)
	ctx := context.Background()
	hash, err := h.Hash(ctx, "password-1")
	if err != nil {
		t.Fatal(err)
	}

	h.slots <- struct{}{} // every slot busy
	waiter := make(chan error, 1)
	go func() {
		_, err := h.Verify(ctx, hash, "password-1")
		waiter <- err
	}()
	for h.waiting.Load() != 1 { // the waiter has queued
		time.Sleep(time.Millisecond)
	}
	if _, err := h.Verify(ctx, hash, "password-1"); !errors.Is(err, ErrHasherBusy) {
		t.Fatalf("queue full: got %v, want ErrHasherBusy", err)
	}
	// Unknown-account logins hash a dummy: refused alike, no recursion on a missing dummy.
	if _, err := h.Verify(ctx, "", "password-1"); !errors.Is(err, ErrHasherBusy) {
		t.Fatalf("dummy verify with queue full: %v", err)
	}
	<-h.slots // free the slot: the waiter proceeds
	if err := <-waiter; err != nil {
		t.Fatalf("queued verify: %v", err)
	}
	if ok, err := h.Verify(ctx, hash, "password-1"); !ok || err != nil {
		t.Fatalf("after the flood: %v %v", ok, err)
	}
}

// TestHasherWaitEndsWithContext: a queued caller gives up when its request does.
func TestHasherWaitEndsWithContext(t *testing.T) {
	h := NewHasher(Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}, 1)
	h.slots <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "password-1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if n := h.waiting.Load(); n != 0 {
		t.Fatalf("%d still counted as waiting", n)
	}
}
