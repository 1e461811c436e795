package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/shopql/shopql/model"
)

// Argon2Params are argon2id's cost parameters. The defaults are OWASP's recommended minimum
// (19 MiB, 2 passes, 1 lane): about 20-40 ms of one core per hash on current hardware.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2Params follow the OWASP Password Storage Cheat Sheet.
var DefaultArgon2Params = Argon2Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen          = 16
	keyLen           = 32
	minPasswordRunes = 8
	maxPasswordBytes = 1024
	// maxLanes bounds the threads a stored hash may ask for (see MaxMemoryKiB).
	maxLanes = 16
)

// Bounds of argon2id parameters. The maxima hold for the configured parameters and for what a
// stored hash may ask for, so that neither a setting nor a tampered row can make a login allocate
// gigabytes or run for minutes; MinMemoryKiB is argon2's own floor for one lane.
const (
	MinMemoryKiB = 8
	MaxMemoryKiB = 256 * 1024
	MaxPasses    = 16
)

// Hasher hashes and verifies passwords with argon2id. At most `concurrency` hashes run at once, so a
// flood of logins costs at most concurrency × memory (19 MiB each with the OWASP parameters). At
// most maxWaiting more wait for a turn (SetMaxWaiting); the rest are refused at once with a
// RateLimitError, so a flood cannot pile up goroutines either.
//
// The hashes run on `concurrency` worker goroutines, each locked to an OS thread of the lowest
// scheduling priority (on Linux): when requests and hashes compete for the CPUs, the kernel serves
// the requests first, so that a login flood slows logins, not the rest of the API. (The server gives
// the Go runtime one more P per worker, see server.go, so that a hash never holds a P that other
// goroutines are queued on.)
type Hasher struct {
	params     Argon2Params
	slots      chan struct{}
	jobs       chan hashJob
	waiting    atomic.Int64
	maxWaiting int64 // negative: no bound

	dummyOnce sync.Once
	dummy     string
}

type hashJob struct {
	password string
	salt     []byte
	params   Argon2Params
	key      chan<- []byte
}

// NewHasher returns a Hasher running at most concurrency hashes at a time (at least 1). Close stops
// its workers.
func NewHasher(params Argon2Params, concurrency int) *Hasher {
	concurrency = max(concurrency, 1)
	h := &Hasher{params: params, slots: make(chan struct{}, concurrency), jobs: make(chan hashJob), maxWaiting: -1}
	for range concurrency {
		go h.work()
	}
	return h
}

// Close stops the workers; hashing afterwards panics.
func (h *Hasher) Close() { close(h.jobs) }

// work runs hash jobs on a thread of its own. The goroutine never unlocks the thread, so when it
// returns the runtime discards the thread, lowered priority and all.
func (h *Hasher) work() {
	runtime.LockOSThread()
	lowerThreadPriority()
	for job := range h.jobs {
		p := job.params
		job.key <- argon2.IDKey([]byte(job.password), job.salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
		if len(h.slots) <= 1 && h.waiting.Load() == 0 { // only this job's own slot is taken
			// No login is waiting: collect the hash's memory (19 MiB) now, rather than let it hold
			// up the heap, and inflate the next GC goal, until garbage collection gets round to it
			// (about a millisecond with this small heap). Under a flood of logins this is skipped.
			// (debug.FreeOSMemory would also hand it back to the system at once, but the next
			// login would then pay ~60 ms of page faults to get it again.)
			runtime.GC()
		}
	}
}

// SetMaxWaiting bounds the hashes waiting for a turn; n < 0 removes the bound. Call it before use.
func (h *Hasher) SetMaxWaiting(n int) { h.maxWaiting = int64(n) }

// ErrHasherBusy is returned when every hashing slot is taken and the queue is full.
var ErrHasherBusy = &RateLimitError{Message: "the server is busy checking passwords: try again shortly", RetryAfter: time.Second}

// Hash returns the PHC-formatted argon2id hash of password with a random salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := h.derive(ctx, password, salt, h.params)
	if err != nil {
		return "", err
	}
	return h.encode(salt, key), nil
}

// encode formats a derived key in the PHC string format.
func (h *Hasher) encode(salt, key []byte) string {
	p := h.params
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether password matches encoded. Verifying against an empty encoded hash runs a
// full hash anyway and reports false, so that a login for an unknown account takes as long as one
// with a wrong password.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	if encoded == "" {
		h.dummyOnce.Do(func() {
			// Computed once outside the slots: Hash could be refused when busy, and an empty
			// dummy would make this call recurse forever.
			salt := make([]byte, saltLen)
			h.dummy = h.encode(salt, argon2.IDKey([]byte("dummy password"), salt, h.params.Time, h.params.MemoryKiB, h.params.Threads, keyLen))
		})
		_, err := h.Verify(ctx, h.dummy, password)
		return false, err
	}
	params, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got, err := h.derive(ctx, password, salt, params)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func (h *Hasher) derive(ctx context.Context, password string, salt []byte, p Argon2Params) ([]byte, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer func() { <-h.slots }()
	key := make(chan []byte, 1)
	h.jobs <- hashJob{password: password, salt: salt, params: p, key: key} // a slot holder always finds a free worker
	return <-key, nil
}

// acquire takes a hashing slot: at once if one is free, else after waiting in a bounded queue.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	if n := h.waiting.Add(1); h.maxWaiting >= 0 && n > h.maxWaiting {
		h.waiting.Add(-1)
		return ErrHasherBusy
	}
	defer h.waiting.Add(-1)
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var errBadHash = errors.New("stored password hash is malformed")

func decodeHash(encoded string) (p Argon2Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil ||
		p.MemoryKiB == 0 || p.MemoryKiB > MaxMemoryKiB || p.Time == 0 || p.Time > MaxPasses || p.Threads == 0 || p.Threads > maxLanes {
		return p, nil, nil, errBadHash
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return p, nil, nil, errBadHash
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(key) == 0 {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// checkPassword enforces the password rule for new passwords.
func checkPassword(pw string) error {
	if !utf8.ValidString(pw) || strings.IndexByte(pw, 0) >= 0 {
		return &model.InputError{Field: "password", Message: "password must be valid UTF-8 without NUL characters"}
	}
	if utf8.RuneCountInString(pw) < minPasswordRunes {
		return &model.InputError{Field: "password", Message: fmt.Sprintf("password must have at least %d characters", minPasswordRunes)}
	}
	if len(pw) > maxPasswordBytes {
		return &model.InputError{Field: "password", Message: fmt.Sprintf("password must be at most %d bytes", maxPasswordBytes)}
	}
	return nil
}

// Weaker reports whether the Hasher's parameters are stronger than those encoded was made with — at
// least as much memory and as many passes, and more of one — so that a login should replace it. A
// hash that is stronger in one respect is kept; a malformed one never verifies anyway.
func (h *Hasher) Weaker(encoded string) bool {
	p, _, _, err := decodeHash(encoded)
	want := h.params
	return err == nil && want.MemoryKiB >= p.MemoryKiB && want.Time >= p.Time &&
		(want.MemoryKiB > p.MemoryKiB || want.Time > p.Time)
}
