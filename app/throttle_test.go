package app_test

import (
	"encoding/json"
	"math"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
	"github.com/shopql/shopql/auth"
)

// assertThrottled checks a response is TOO_MANY_REQUESTS with a whole, positive retryAfter.
func assertThrottled(t *testing.T, r *apptest.Response) {
	t.Helper()
	if r.Code() != "TOO_MANY_REQUESTS" {
		t.Fatalf("want TOO_MANY_REQUESTS, got %s", r)
	}
	after, ok := r.Errors[0].Extensions["retryAfter"].(float64)
	if !ok || after < 1 || after != math.Trunc(after) {
		t.Fatalf("retryAfter must be a positive integer of seconds: %s", r)
	}
}

func loginAs(c *apptest.Client, email, password string, header http.Header) *apptest.Response {
	body := []byte(`{"query":"mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }","variables":{"e":"` + email + `","p":"` + password + `"}}`)
	return c.Post(body, header)
}

func TestLoginThrottledPerAccount(t *testing.T) {
	s := apptest.New(t, func(c *app.Config) {
		c.LoginLimitPerAccount = auth.Rate{Burst: 3, Per: time.Hour}
		c.LoginLimitPerAddress = auth.Rate{}
	})
	c := s.Client()
	c.Register("ann@example.com", "password-ann")
	c.Register("bob@example.com", "password-bob")

	// Successful logins do not count: the owner is never locked out by using the account.
	for range 5 {
		c.Login("ann@example.com", "password-ann")
	}
	for range 3 {
		if r := loginAs(c, "ann@example.com", "wrong-password", nil); r.Reason() != "INVALID_CREDENTIALS" {
			t.Fatalf("wrong password: %s", r)
		}
	}
	assertThrottled(t, loginAs(c, "ann@example.com", "wrong-password", nil))
	// The right password is refused too while the account is throttled, whatever the case of the
	// address: guessing must not go on through a different spelling.
	assertThrottled(t, loginAs(c, "ann@example.com", "password-ann", nil))
	assertThrottled(t, loginAs(c, "ANN@Example.com", "password-ann", nil))
	// Unknown accounts are throttled alike, so throttling reveals nothing about which exist.
	for range 3 {
		loginAs(c, "nobody@example.com", "wrong-password", nil)
	}
	assertThrottled(t, loginAs(c, "nobody@example.com", "wrong-password", nil))
	// Others are not slowed.
	c.Login("bob@example.com", "password-bob")
}

func TestLoginThrottledPerAddress(t *testing.T) {
	s := apptest.New(t, func(c *app.Config) {
		c.LoginLimitPerAccount = auth.Rate{}
		c.LoginLimitPerAddress = auth.Rate{Burst: 3, Per: time.Hour}
		c.TrustedProxies = parsed(t, app.ParseTrustedProxies, "127.0.0.1/32, ::1")
	})
	c := s.Client()
	c.Register("ann@example.com", "password-ann")
	from := func(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }

	// Credential stuffing: one address, a different account each time.
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		if r := loginAs(c, email, "wrong-password", from("203.0.113.7")); r.Reason() != "INVALID_CREDENTIALS" {
			t.Fatalf("%s: %s", email, r)
		}
	}
	assertThrottled(t, loginAs(c, "d@example.com", "wrong-password", from("203.0.113.7")))
	// The client cannot escape by prepending addresses: the right-most untrusted hop counts.
	assertThrottled(t, loginAs(c, "d@example.com", "wrong-password", from("198.51.100.1, 203.0.113.7")))
	// Another client behind the same proxy is not affected.
	if r := loginAs(c, "ann@example.com", "password-ann", from("198.51.100.1")); len(r.Errors) > 0 {
		t.Fatalf("other address: %s", r)
	}
	// IPv6 clients are counted per /64.
	for i := range 3 {
		loginAs(c, "a@example.com", "wrong-password", from("2001:db8:1:2::"+string(rune('a'+i))))
	}
	assertThrottled(t, loginAs(c, "a@example.com", "wrong-password", from("2001:db8:1:2::ffff")))
}

func TestXForwardedForIgnoredWithoutTrustedProxies(t *testing.T) {
	s := apptest.New(t, func(c *app.Config) {
		c.LoginLimitPerAccount = auth.Rate{}
		c.LoginLimitPerAddress = auth.Rate{Burst: 2, Per: time.Hour}
	})
	c := s.Client()
	for i, addr := range []string{"192.0.2.1", "192.0.2.2"} {
		if r := loginAs(c, "x@example.com", "wrong-password", http.Header{"X-Forwarded-For": {addr}}); r.Reason() != "INVALID_CREDENTIALS" {
			t.Fatalf("attempt %d: %s", i, r)
		}
	}
	// A forged header does not give a fresh bucket: the TCP peer is the client.
	assertThrottled(t, loginAs(c, "x@example.com", "wrong-password", http.Header{"X-Forwarded-For": {"192.0.2.3"}}))
}

func TestRegisterThrottledPerAddress(t *testing.T) {
	s := apptest.New(t, func(c *app.Config) { c.RegisterLimitPerAddress = auth.Rate{Burst: 2, Per: time.Hour} })
	c := s.Client()
	c.Register("a@example.com", "password-a")
	c.Register("b@example.com", "password-b")
	assertThrottled(t, c.Do(`mutation { register(input: {email: "c@example.com", username: "c", password: "password-c"}) { id } }`, nil))
	// Logging in is not affected.
	c.Login("a@example.com", "password-a")
}

// TestThrottleKeysAreBounded: the per-account login throttle remembers a failed login by a digest of
// the email, not the email as sent, which can be as large as a request body.
func TestThrottleKeysAreBounded(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	heap := func() int64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	before := heap()
	const logins, size = 40, 900 << 10 // within the default 50 failed logins per address
	for i := range logins {
		email := strings.Repeat(string(rune('a'+i%26)), size) + strings.Repeat("x", i)
		body, _ := json.Marshal(map[string]any{
			"query":     `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`,
			"variables": map[string]any{"e": email, "p": "wrong-password"},
		})
		if r := c.Post(body, nil); r.Reason() != "INVALID_CREDENTIALS" {
			t.Fatalf("login %d: %s", i, r)
		}
	}
	if grown := heap() - before; grown > 8<<20 {
		t.Fatalf("%d failed logins with %d KiB emails left %d MiB on the heap", logins, size>>10, grown>>20)
	}
}
