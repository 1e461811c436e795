package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopql/shopql/model"
)

// verifyDevice is what a login does with a device token: check it, then match it to the account.
func verifyDevice(d *DeviceTokens, raw string, u *model.User, now time.Time) (string, error) {
	dev, err := d.parse(raw, now)
	if err == nil {
		err = d.of(dev, u)
	}
	if err != nil {
		return "", err
	}
	return dev.id, nil
}

// flip changes one character of the encoded part of a device token at i.
func flip(raw string, i int) string {
	b := []byte(raw)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestDeviceTokens(t *testing.T) {
	key := []byte("f3Qz8LwN1vXk6RbT0mYc5HpJ2dGs9AeU7nKq4VxZ1oWi3BtL") // random: CheckSecret refuses guessable keys
	devices, err := NewDeviceTokens(key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// JWTs signed with the very same key material: even then the two kinds never pass for each other.
	tokens, err := NewTokens(TokenConfig{Keys: SecretKey(key), Issuer: "shopql", Audience: "shopql", AccessTTL: time.Minute, RefreshTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	otherDeployment, _ := NewDeviceTokens([]byte(strings.Repeat("o", 48)), time.Hour)

	t0 := time.Now()
	ann := &model.User{ID: 7, PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA"}
	bob := &model.User{ID: 8, PasswordHash: ann.PasswordHash}
	annNewPassword := &model.User{ID: 7, PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$bmV3c2FsdA$aGFzaA"}
	valid := devices.Issue(ann, "session-1", t0)
	access, err := tokens.Issue(AccessToken, ann.ID, "session-1", true, false)
	if err != nil {
		t.Fatal(err)
	}
	refresh, _ := tokens.Issue(RefreshToken, ann.ID, "session-1", false, false)
	encoded := len(deviceTokenPrefix)

	tests := []struct {
		name string
		raw  string
		user *model.User
		at   time.Time
		want error
	}{
		{"valid", valid, ann, t0, nil},
		{"valid until just before expiry", valid, ann, t0.Add(time.Hour - time.Second), nil},
		{"expired", valid, ann, t0.Add(time.Hour + time.Second), errDeviceExpired},
		{"wrong account", valid, bob, t0, errDeviceAccount},
		{"after a password change", valid, annNewPassword, t0, errDeviceCredential},
		{"tampered user ID", flip(valid, encoded+3), ann, t0, errDeviceSignature},
		{"tampered device", flip(valid, encoded+30), ann, t0, errDeviceSignature},
		{"tampered signature", flip(valid, len(valid)-3), ann, t0, errDeviceSignature},
		{"another deployment's key", otherDeployment.Issue(ann, "session-1", t0), ann, t0, errDeviceSignature},
		{"truncated", valid[:len(valid)-1], ann, t0, errDeviceMalformed},
		{"extended", valid + "A", ann, t0, errDeviceMalformed},
		{"no prefix", strings.Replace(valid, deviceTokenPrefix, "dt2.", 1), ann, t0, errDeviceMalformed},
		{"not base64", valid[:encoded] + "!" + valid[encoded+1:], ann, t0, errDeviceMalformed},
		{"empty", "", ann, t0, errDeviceMalformed},
		{"an access token", access.Token, ann, t0, errDeviceMalformed},
		{"a refresh token", refresh.Token, ann, t0, errDeviceMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev, err := verifyDevice(devices, tt.raw, tt.user, tt.at)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if (err == nil) != (dev != "") {
				t.Fatalf("device %q with error %v", dev, err)
			}
		})
	}

	// Another version byte, correctly signed, is not ours to read.
	b, _ := base64.RawURLEncoding.DecodeString(valid[encoded:])
	b[0] = 2
	b = append(b[:devicePayloadBytes], devices.mac("token", b[:devicePayloadBytes])...)
	if _, err := verifyDevice(devices, deviceTokenPrefix+base64.RawURLEncoding.EncodeToString(b), ann, t0); !errors.Is(err, errDeviceMalformed) {
		t.Fatalf("version 2: %v", err)
	}

	// A device token is never an access or refresh token.
	for _, typ := range []TokenType{AccessToken, RefreshToken} {
		if _, err := tokens.Parse(valid, typ); !errors.Is(err, ErrTokenInvalid) {
			t.Fatalf("device token as %s token: %v", typ, err)
		}
	}

	// The device is the session's: renewing (refreshToken) keeps it, another login makes another.
	first, _ := verifyDevice(devices, valid, ann, t0)
	renewed, err := verifyDevice(devices, devices.Issue(ann, "session-1", t0.Add(30*time.Minute)), ann, t0.Add(80*time.Minute))
	if err != nil || renewed != first {
		t.Fatalf("renewed device token: %q, %v; want device %q", renewed, err, first)
	}
	if other, _ := verifyDevice(devices, devices.Issue(ann, "session-2", t0), ann, t0); other == first || other == "" {
		t.Fatalf("another session's device %q, first %q", other, first)
	}
}

func TestNewDeviceTokensRefusesWeakSettings(t *testing.T) {
	if _, err := NewDeviceTokens(make([]byte, MinSecretBytes-1), time.Hour); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := NewDeviceTokens(make([]byte, MinSecretBytes), 0); err == nil {
		t.Fatal("zero lifetime accepted")
	}
}

// TestTrustedDeviceThrottle: a trusted device is held by its own failures only, not by the
// account's or the address's, and not for other devices.
func TestTrustedDeviceThrottle(t *testing.T) {
	s := &Service{}
	s.SetLimits(Limits{
		LoginPerAccount: Rate{Burst: 2, Per: time.Hour},
		LoginPerAddress: Rate{Burst: 3, Per: time.Hour},
		LoginPerDevice:  Rate{Burst: 2, Per: time.Hour},
	})
	ctx := WithClient(context.Background(), Client{Address: "203.0.113.7"})
	attempt := func(device string, ok bool) error {
		done, err := s.throttle.beginLogin(ctx, "ann@example.com", device)
		if err == nil {
			done(ok)
		}
		return err
	}
	var limited *RateLimitError
	for range 2 {
		if err := attempt("", false); err != nil {
			t.Fatal(err)
		}
	}
	if err := attempt("", true); !errors.As(err, &limited) {
		t.Fatalf("untrusted client after the account's limit: %v", err)
	}
	// The account is locked out for untrusted clients; its devices still get in, as often as they
	// succeed, and from the very address that caused the lockout.
	for range 5 {
		if err := attempt("device-1", true); err != nil {
			t.Fatalf("trusted device during the lockout: %v", err)
		}
	}
	for range 2 {
		if err := attempt("device-1", false); err != nil {
			t.Fatal(err)
		}
	}
	if err := attempt("device-1", true); !errors.As(err, &limited) || !strings.Contains(limited.Message, "device") {
		t.Fatalf("device after its own limit: %v", err)
	}
	if err := attempt("device-2", true); err != nil {
		t.Fatalf("another device: %v", err)
	}
	// The address bucket (3) saw only the untrusted client's two failures and one refused attempt.
	if err := attempt("", true); !errors.As(err, &limited) {
		t.Fatalf("untrusted again: %v", err)
	}
}

// FuzzDeviceTokenParse: no input panics the parser, and none but a token it issued passes it (a
// signature cannot be guessed), whatever its form.
func FuzzDeviceTokenParse(f *testing.F) {
	devices, err := NewDeviceTokens([]byte(strings.Repeat("k", 48)), time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0) // fixed, so that the token is the same in every run's corpus
	issued := devices.Issue(&model.User{ID: 7, PasswordHash: "hash"}, "session", now)
	for _, seed := range []string{
		issued, issued[:len(issued)-1], issued + "=", flip(issued, 10), "", "dt1.", "dt1.====",
		deviceTokenPrefix + strings.Repeat("\xff", deviceTokenLen-len(deviceTokenPrefix)),
		deviceTokenPrefix + strings.Repeat("A", deviceTokenLen-len(deviceTokenPrefix)),
		"eyJhbGciOiJIUzI1NiJ9.e30.x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if _, err := devices.parse(raw, now); err == nil && raw != issued {
			t.Fatalf("parse accepted %q, which it never issued", raw)
		}
	})
}

// BenchmarkDeviceToken: what issuing and checking a device token adds to a login (beside argon2id's
// tens of milliseconds).
func BenchmarkDeviceToken(b *testing.B) {
	devices, _ := NewDeviceTokens([]byte(strings.Repeat("k", 48)), time.Hour)
	u := &model.User{ID: 7, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"}
	now := time.Now()
	raw := devices.Issue(u, "session", now)
	b.Run("issue", func(b *testing.B) {
		for b.Loop() {
			devices.Issue(u, "session", now)
		}
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if _, err := verifyDevice(devices, raw, u, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
