package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
	"github.com/shopql/shopql/auth"
	"github.com/shopql/shopql/store"
)

// loginFrom logs in from a client address (the server trusts the test's proxy), presenting
// deviceToken unless it is empty.
func loginFrom(c *apptest.Client, addr, email, password, deviceToken string) *apptest.Response {
	vars := map[string]any{"e": email, "p": password}
	if deviceToken != "" {
		vars["d"] = deviceToken
	}
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($e: String!, $p: String!, $d: String) { login(email: $e, password: $p, deviceToken: $d) { accessToken deviceToken } }`,
		"variables": vars,
	})
	return c.Post(body, http.Header{"X-Forwarded-For": {addr}})
}

// deviceTokenOf is the deviceToken of a successful login response.
func deviceTokenOf(t *testing.T, r *apptest.Response) string {
	t.Helper()
	var out struct{ Login struct{ DeviceToken string } }
	if len(r.Errors) > 0 || r.Decode(&out) != nil || out.Login.DeviceToken == "" {
		t.Fatalf("want a successful login with a device token, got %s", r)
	}
	return out.Login.DeviceToken
}

const (
	owner    = "203.0.113.10"
	attacker = "198.51.100.66"
)

func deviceServer(t *testing.T, adjust func(*app.Config)) (*apptest.Server, *apptest.Client) {
	s := apptest.New(t, func(c *app.Config) {
		c.LoginLimitPerAccount = auth.Rate{Burst: 3, Per: time.Hour}
		c.LoginLimitPerAddress = auth.Rate{}
		c.LoginLimitPerDevice = auth.Rate{Burst: 3, Per: time.Hour}
		c.TrustedProxies = parsed(t, app.ParseTrustedProxies, "127.0.0.1/32, ::1")
		if adjust != nil {
			adjust(c)
		}
	})
	c := s.Client()
	c.Register("ann@example.com", "password-ann")
	return s, c
}

// lockOut makes ann's account refuse untrusted clients, as an attacker who does not know the
// password can.
func lockOut(t *testing.T, c *apptest.Client) {
	t.Helper()
	for range 3 {
		if r := loginFrom(c, attacker, "ann@example.com", "guess", ""); r.Reason() != "INVALID_CREDENTIALS" {
			t.Fatalf("guess: %s", r)
		}
	}
	assertThrottled(t, loginFrom(c, attacker, "ann@example.com", "guess", ""))
	assertThrottled(t, loginFrom(c, owner, "ann@example.com", "password-ann", "")) // as before: untrusted
}

// TestDeviceTokenPassesLockout: an attacker's failed guesses lock the account out for unknown
// clients, but not for the owner's device, while anything that is not a valid device token of this
// account is held as before.
func TestDeviceTokenPassesLockout(t *testing.T) {
	s, c := deviceServer(t, nil)
	device := deviceTokenOf(t, loginFrom(c, owner, "ann@example.com", "password-ann", ""))
	c.Register("eve@example.com", "password-eve")
	// Eve's account gets ann's very password hash, so that only the account binding tells their
	// device tokens apart.
	ctx := context.Background()
	ann, err := store.UserByEmail(ctx, s.App.DB, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	eve, err := store.UserByEmail(ctx, s.App.DB, "eve@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetUserPassword(ctx, s.App.DB, eve.ID, ann.PasswordHash); err != nil {
		t.Fatal(err)
	}
	evesDevice := deviceTokenOf(t, loginFrom(c, attacker, "eve@example.com", "password-ann", ""))
	annAccess := c.Login("ann@example.com", "password-ann").AccessToken
	lockOut(t, c)

	// The owner's device gets in, every time, and is handed a new device token that works too.
	next := deviceTokenOf(t, loginFrom(c, owner, "ann@example.com", "password-ann", device))
	if next == device {
		t.Fatal("a login must issue a new device token")
	}
	for range 4 {
		deviceTokenOf(t, loginFrom(c, owner, "ann@example.com", "password-ann", next))
	}
	// Whoever presents it counts as the device (a stolen token is limited by the device limit).
	deviceTokenOf(t, loginFrom(c, attacker, "ANN@example.com", "password-ann", device))

	tampered := []byte(device)
	tampered[len(tampered)/2] ^= 1
	forged := map[string]string{
		"tampered":          string(tampered),
		"another account's": evesDevice,
		"an access token":   annAccess,
		"garbage":           "dt1.AAAA",
		"overlong":          device + "x",
	}
	for name, token := range forged {
		// With the right password even: the lockout holds it, as any unknown client.
		if r := loginFrom(c, attacker, "ann@example.com", "password-ann", token); r.Code() != "TOO_MANY_REQUESTS" {
			t.Fatalf("%s device token: %s", name, r)
		}
	}
	// A device token of another account does not unlock this one, but is still eve's own.
	deviceTokenOf(t, loginFrom(c, attacker, "eve@example.com", "password-ann", evesDevice))

	// A device token is no access or refresh token.
	if r := c.WithToken(device).Do(`{ me { id } }`, nil); r.Reason() != "TOKEN_INVALID" {
		t.Fatalf("device token as access token: %s", r)
	}
	if r := c.Do(refreshMutation, map[string]any{"t": device}); r.Reason() != "TOKEN_INVALID" {
		t.Fatalf("device token as refresh token: %s", r)
	}
}

// TestDeviceTokenLockedOutByItsOwnFailures: a device token that keeps failing is held itself,
// without holding the owner's other devices, and its failures do not count against the account.
func TestDeviceTokenLockedOutByItsOwnFailures(t *testing.T) {
	_, c := deviceServer(t, nil)
	stolen := deviceTokenOf(t, loginFrom(c, owner, "ann@example.com", "password-ann", ""))
	phone := deviceTokenOf(t, loginFrom(c, owner, "ann@example.com", "password-ann", ""))
	for i := range 3 {
		if r := loginFrom(c, attacker, "ann@example.com", "guess-"+strconv.Itoa(i), stolen); r.Reason() != "INVALID_CREDENTIALS" {
			t.Fatalf("guess %d with the stolen device token: %s", i, r)
		}
	}
	assertThrottled(t, loginFrom(c, attacker, "ann@example.com", "guess", stolen))
	// Held even with the right password, and not let through as an unknown client instead.
	r := loginFrom(c, owner, "ann@example.com", "password-ann", stolen)
	assertThrottled(t, r)
	if msg := r.Errors[0].Message; msg != "too many failed logins from this device: try again later" {
		t.Fatalf("message: %q", msg)
	}
	deviceTokenOf(t, loginFrom(c, owner, "ann@example.com", "password-ann", phone))
	// The account's own limit is untouched: unknown clients still get their three tries.
	deviceTokenOf(t, loginFrom(c, owner, "ann@example.com", "password-ann", ""))
	lockOut(t, c)
}

// TestRefreshRenewsTheSameDevice: refreshToken returns a device token of the session's device, so a
// client may keep whatever it got last; and a refresh token cannot mint fresh devices to escape the
// per-device limit.
func TestRefreshRenewsTheSameDevice(t *testing.T) {
	_, c := deviceServer(t, nil)
	tok := c.Login("ann@example.com", "password-ann")
	var out struct{ RefreshToken struct{ DeviceToken string } }
	c.MustDo(`mutation($t: String) { refreshToken(token: $t) { deviceToken } }`, map[string]any{"t": tok.RefreshToken}, &out)
	renewed := out.RefreshToken.DeviceToken
	if renewed == "" {
		t.Fatal("refreshToken returned no device token")
	}
	lockOut(t, c)
	deviceTokenOf(t, loginFrom(c, owner, "ann@example.com", "password-ann", renewed))

	// Failures with the login's token and with the refreshed one fill one device's bucket.
	for _, token := range []string{tok.DeviceToken, renewed, tok.DeviceToken} {
		if r := loginFrom(c, attacker, "ann@example.com", "guess", token); r.Reason() != "INVALID_CREDENTIALS" {
			t.Fatalf("guess: %s", r)
		}
	}
	assertThrottled(t, loginFrom(c, owner, "ann@example.com", "password-ann", renewed))
}

// TestDeviceTokenPassesAddressLockout: failing over several accounts from one address locks that
// address out (credential stuffing), but not an owner's device behind the same address.
func TestDeviceTokenPassesAddressLockout(t *testing.T) {
	_, c := deviceServer(t, func(c *app.Config) {
		c.LoginLimitPerAccount = auth.Rate{}
		c.LoginLimitPerAddress = auth.Rate{Burst: 3, Per: time.Hour}
	})
	const shared = "192.0.2.1" // one NAT for the owner and the attacker
	device := deviceTokenOf(t, loginFrom(c, shared, "ann@example.com", "password-ann", ""))
	for _, email := range []string{"a@example.com", "b@example.com", "ann@example.com"} {
		if r := loginFrom(c, shared, email, "guess", ""); r.Reason() != "INVALID_CREDENTIALS" {
			t.Fatalf("%s: %s", email, r)
		}
	}
	assertThrottled(t, loginFrom(c, shared, "c@example.com", "guess", ""))
	assertThrottled(t, loginFrom(c, shared, "ann@example.com", "password-ann", ""))
	deviceTokenOf(t, loginFrom(c, shared, "ann@example.com", "password-ann", device))
}

// TestDeviceTokenEndsWithPasswordChange: once the password hash changes, device tokens issued
// before are no longer honoured; a login with the new password issues one that is.
func TestDeviceTokenEndsWithPasswordChange(t *testing.T) {
	s, c := deviceServer(t, nil)
	device := deviceTokenOf(t, loginFrom(c, owner, "ann@example.com", "password-ann", ""))
	ctx := context.Background()
	u, err := store.UserByEmail(ctx, s.App.DB, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	hasher := auth.NewHasher(auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}, 1)
	defer hasher.Close()
	// The same password, hashed again: a new salt, as every password change gives.
	hash, err := hasher.Hash(ctx, "password-ann")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetUserPassword(ctx, s.App.DB, u.ID, hash); err != nil {
		t.Fatal(err)
	}
	current := deviceTokenOf(t, loginFrom(c, owner, "ann@example.com", "password-ann", ""))
	lockOut(t, c)
	assertThrottled(t, loginFrom(c, owner, "ann@example.com", "password-ann", device))
	deviceTokenOf(t, loginFrom(c, owner, "ann@example.com", "password-ann", current))
}
