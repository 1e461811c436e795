package auth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RateLimitError refuses a request because a limit was reached; the GraphQL layer reports it as
// TOO_MANY_REQUESTS with extensions.retryAfter.
type RateLimitError struct {
	Message    string
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string { return e.Message }

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, at least 1 (as in HTTP's Retry-After).
func (e *RateLimitError) RetryAfterSeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// Rate is a token bucket: Burst attempts at once, refilled at Burst per Per.
type Rate struct {
	Burst int
	Per   time.Duration
}

// Enabled reports whether the rate limits anything (a zero Rate does not).
func (r Rate) Enabled() bool { return r.Burst > 0 && r.Per > 0 }

func (r Rate) String() string {
	if !r.Enabled() {
		return "0"
	}
	return fmt.Sprintf("%d/%s", r.Burst, r.Per)
}

// ParseRate reads "N/duration" (N attempts at once, refilled at N per duration, e.g. "10/15m"), or
// "0" or "" for no limit.
func ParseRate(s string) (Rate, error) {
	if s == "" || s == "0" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	burst, err1 := strconv.Atoi(n)
	d, err2 := time.ParseDuration(per)
	if !ok || err1 != nil || err2 != nil || burst <= 0 || d <= 0 {
		return Rate{}, fmt.Errorf("not a rate such as 10/15m: %q", s)
	}
	return Rate{Burst: burst, Per: d}, nil
}

// Buckets is a token bucket per key (an account or a client address).
//
// It is written here rather than taken from golang.org/x/time/rate because what it needs beyond a
// bucket is the keyed map, its bound and the refund of an attempt that succeeded, and a bucket is a
// few lines; it avoids a dependency for them.
//
// Memory is bounded: a bucket that has refilled is the same as no bucket, so such entries are
// dropped whenever the map reaches its capacity; if it is still full after that (many keys failing
// at once), random entries go too, which at worst forgets some throttling rather than growing
// without bound or refusing everyone.
type Buckets struct {
	rate     Rate
	capacity int

	mu sync.Mutex
	m  map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewBuckets keeps at most capacity keys; a disabled rate gives a Buckets that allows everything.
func NewBuckets(r Rate, capacity int) *Buckets {
	return &Buckets{rate: r, capacity: max(capacity, 1), m: map[string]*bucket{}}
}

// Take spends a token of key's bucket. When it is empty it returns false and how long until a token
// is back.
func (b *Buckets) Take(key string, now time.Time) (bool, time.Duration) {
	if b == nil || !b.rate.Enabled() {
		return true, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.m[key]
	if e == nil {
		b.makeRoom(now)
		e = &bucket{tokens: float64(b.rate.Burst), last: now}
		b.m[key] = e
	}
	b.refill(e, now)
	if e.tokens < 1 {
		return false, time.Duration((1 - e.tokens) / b.perSecond() * float64(time.Second))
	}
	e.tokens--
	return true, 0
}

// Refund gives back a token spent by Take, for an attempt that turned out not to count (a
// successful login is not what the limit is about).
func (b *Buckets) Refund(key string, now time.Time) {
	if b == nil || !b.rate.Enabled() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.m[key]; e != nil {
		b.refill(e, now)
		e.tokens = min(e.tokens+1, float64(b.rate.Burst))
	}
}

// Len is the number of keys remembered.
func (b *Buckets) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}

func (b *Buckets) perSecond() float64 { return float64(b.rate.Burst) / b.rate.Per.Seconds() }

func (b *Buckets) refill(e *bucket, now time.Time) {
	if elapsed := now.Sub(e.last); elapsed > 0 {
		e.tokens = min(float64(b.rate.Burst), e.tokens+elapsed.Seconds()*b.perSecond())
		e.last = now
	}
}

// makeRoom is called with the lock held before a key is added.
func (b *Buckets) makeRoom(now time.Time) {
	if len(b.m) < b.capacity {
		return
	}
	for k, e := range b.m {
		if b.refill(e, now); e.tokens >= float64(b.rate.Burst) {
			delete(b.m, k)
		}
	}
	// Leave a tenth free so the sweep is not repeated for every new key.
	for k := range b.m {
		if len(b.m) < b.capacity-b.capacity/10 {
			break
		}
		delete(b.m, k)
	}
}

// Limits are the brute-force limits on login and registration.
type Limits struct {
	LoginPerAccount    Rate // failed logins per account (normalised email)
	LoginPerAddress    Rate // failed logins per client address
	LoginPerDevice     Rate // failed logins per trusted device (a valid device token)
	RegisterPerAddress Rate // registrations per client address
	// Capacity bounds the keys each table remembers.
	Capacity int
}

// throttles are the Limits' tables.
type throttles struct {
	loginAccount, loginAddress, loginDevice, registerAddress *Buckets
}

// SetLimits turns on brute-force throttling of Login and Register. Call it before serving.
func (s *Service) SetLimits(l Limits) {
	capacity := l.Capacity
	if capacity <= 0 {
		capacity = 100_000
	}
	s.throttle = &throttles{
		loginAccount:    NewBuckets(l.LoginPerAccount, capacity),
		loginAddress:    NewBuckets(l.LoginPerAddress, capacity),
		loginDevice:     NewBuckets(l.LoginPerDevice, capacity),
		registerAddress: NewBuckets(l.RegisterPerAddress, capacity),
	}
}

// beginLogin spends a login attempt of the account and of the caller's address, or, for a trusted
// device (a valid device token's device, auth/device.go; "" for none), of that device alone: the
// account's and the address's lockouts are what an attacker can cause, and they hold only untrusted
// clients. The returned function is called with the outcome: a success gives the attempts back, so
// that only failures count and an account's owner is never slowed by their own successful logins.
func (t *throttles) beginLogin(ctx context.Context, email, device string) (done func(ok bool), err error) {
	if t == nil {
		return func(bool) {}, nil
	}
	now := time.Now()
	if device != "" {
		if ok, wait := t.loginDevice.Take(device, now); !ok {
			return nil, &RateLimitError{"too many failed logins from this device: try again later", wait}
		}
		return func(ok bool) {
			if ok {
				t.loginDevice.Refund(device, time.Now())
			}
		}, nil
	}
	account, address := accountKey(email), ClientAddress(ctx)
	if ok, wait := t.loginAddress.Take(address, now); !ok {
		return nil, &RateLimitError{"too many failed logins from your address: try again later", wait}
	}
	if ok, wait := t.loginAccount.Take(account, now); !ok {
		t.loginAddress.Refund(address, now)
		return nil, &RateLimitError{"too many failed logins for this account: try again later", wait}
	}
	return func(ok bool) {
		if ok {
			now := time.Now()
			t.loginAccount.Refund(account, now)
			t.loginAddress.Refund(address, now)
		}
	}, nil
}

// accountKey is the throttle key of the account an email names: a fixed-size digest of it, since
// the email is whatever the caller sent (up to MAX_BODY_BYTES) and the table keeps keys for minutes.
func accountKey(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return string(sum[:])
}

// beginRegister spends a registration of the caller's address.
func (t *throttles) beginRegister(ctx context.Context) error {
	if t == nil {
		return nil
	}
	if ok, wait := t.registerAddress.Take(ClientAddress(ctx), time.Now()); !ok {
		return &RateLimitError{"too many registrations from your address: try again later", wait}
	}
	return nil
}

// ClientAddress is the caller's address as the HTTP layer determined it (Client.Address), or ""
// when unknown (all such callers then share one bucket).
func ClientAddress(ctx context.Context) string {
	if c := clientFrom(ctx); c != nil {
		return c.Address
	}
	return ""
}
