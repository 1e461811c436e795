package auth

// Device tokens, after OWASP's "Slow down online guessing attacks with device cookies".
//
// A successful login hands the client a device token: proof that this client has logged in to
// this account before. A login that presents a valid device token of the account it names is a
// trusted client: it is held only by the failed logins of that one device token (LoginPerDevice),
// never by the account's or the client address's lockout, which anybody can cause by failing on
// purpose. Every other login (no token, a token of another account, a forged, expired or outdated
// one) is an untrusted client and is held as before. So an attacker who exhausts an account's
// limit locks out every untrusted client of it but not its owner's devices, and an attacker
// holding a stolen device token gets that token's own limit, after which it is refused too.
//
// A device token is not a JWT and is never accepted where an access or refresh token is, nor the
// reverse: "dt1." and the base64url encoding of
//
//	version (1) | user ID (8) | expiry, Unix seconds (8) | device (16) | credential (16) | HMAC-SHA256 of the rest (32)
//
// signed with a key of its own (DeviceKey), never one that signs JWTs. device identifies the
// client: it is derived from the session the login started, so refreshing that session renews
// the same device rather than making a new one (a stolen refresh token cannot mint fresh devices to
// escape the per-device limit). credential is a keyed digest of the account's stored password hash,
// which carries a fresh salt whenever the password is set: a token issued before a password change
// no longer matches, with no column to maintain and whatever path changed the hash.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

const (
	deviceTokenPrefix  = "dt1."
	deviceTokenVersion = 1
	deviceIDBytes      = 16
	devicePayloadBytes = 1 + 8 + 8 + deviceIDBytes + deviceIDBytes
)

var deviceTokenLen = len(deviceTokenPrefix) + base64.RawURLEncoding.EncodedLen(devicePayloadBytes+sha256.Size)

// Why a device token is not honoured; a login only tells trusted from untrusted, tests tell these apart.
var (
	errDeviceMalformed  = errors.New("not a device token")
	errDeviceSignature  = errors.New("the device token's signature does not match")
	errDeviceExpired    = errors.New("the device token has expired")
	errDeviceAccount    = errors.New("the device token belongs to another account")
	errDeviceCredential = errors.New("the device token was issued before the password changed")
)

// DeviceTokens issues and verifies device tokens.
type DeviceTokens struct {
	key []byte
	ttl time.Duration
}

// NewDeviceTokens returns DeviceTokens signing with key (at least MinSecretBytes) whose tokens are
// good for ttl from their issue.
func NewDeviceTokens(key []byte, ttl time.Duration) (*DeviceTokens, error) {
	if len(key) < MinSecretBytes {
		return nil, fmt.Errorf("device token key must be at least %d bytes", MinSecretBytes)
	}
	if ttl <= 0 {
		return nil, errors.New("device token lifetime must be positive")
	}
	return &DeviceTokens{key: key, ttl: ttl}, nil
}

// DeviceKey returns the key device tokens are signed with: generated once and kept in the database
// (setting device_token_key), so that every instance and restart shares it. It is not derived from
// JWT keys: it exists under both JWT_SIGNING modes, and a device token never verifies as a JWT.
func DeviceKey(ctx context.Context, db bun.IDB) ([]byte, error) {
	return storedSecret(ctx, db, "device_token_key")
}

// mac is HMAC-SHA256 under the key of label and parts; each label is a purpose of its own.
func (d *DeviceTokens) mac(label string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte(label))
	m.Write([]byte{0})
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func (d *DeviceTokens) credential(passwordHash string) []byte {
	return d.mac("credential", []byte(passwordHash))[:deviceIDBytes]
}

// Issue returns the device token of the client holding session sessionID of u, good for the
// lifetime from now and bound to u's current password hash.
func (d *DeviceTokens) Issue(u *model.User, sessionID string, now time.Time) string {
	b := make([]byte, 0, devicePayloadBytes+sha256.Size)
	b = append(b, deviceTokenVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(u.ID))
	b = binary.BigEndian.AppendUint64(b, uint64(now.Add(d.ttl).Unix()))
	b = append(b, d.mac("device", []byte(sessionID))[:deviceIDBytes]...)
	b = append(b, d.credential(u.PasswordHash)...)
	b = append(b, d.mac("token", b)...)
	return deviceTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// device is what a device token with a valid signature says.
type device struct {
	userID     int64
	id         string // the device: its key in the per-device throttle
	credential []byte
}

// parse checks raw's form, signature and expiry; it needs no database.
func (d *DeviceTokens) parse(raw string, now time.Time) (device, error) {
	if len(raw) != deviceTokenLen || !strings.HasPrefix(raw, deviceTokenPrefix) {
		return device{}, errDeviceMalformed
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(raw[len(deviceTokenPrefix):])
	if err != nil || len(b) != devicePayloadBytes+sha256.Size || b[0] != deviceTokenVersion {
		return device{}, errDeviceMalformed
	}
	payload := b[:devicePayloadBytes]
	if !hmac.Equal(b[devicePayloadBytes:], d.mac("token", payload)) {
		return device{}, errDeviceSignature
	}
	if exp := int64(binary.BigEndian.Uint64(payload[9:17])); now.Unix() >= exp {
		return device{}, errDeviceExpired
	}
	return device{
		userID:     int64(binary.BigEndian.Uint64(payload[1:9])),
		id:         string(payload[17 : 17+deviceIDBytes]),
		credential: payload[17+deviceIDBytes:],
	}, nil
}

// of checks that the device token was issued to u since its password was last set.
func (d *DeviceTokens) of(dev device, u *model.User) error {
	if dev.userID != u.ID {
		return errDeviceAccount
	}
	if !hmac.Equal(dev.credential, d.credential(u.PasswordHash)) {
		return errDeviceCredential
	}
	return nil
}

// SetDeviceTokens makes logins and refreshes hand out device tokens and logins honour them. Call it
// before serving; without it, AuthPayload.deviceToken is empty and every client is untrusted.
func (s *Service) SetDeviceTokens(d *DeviceTokens) { s.devices = d }

// trustedDevice returns the device a login's device token identifies if it is a valid device token
// of the account email names, or "" for an untrusted client. A token that fails its signature or
// has expired costs no database query.
func (s *Service) trustedDevice(ctx context.Context, email, raw string) string {
	if raw == "" || s.devices == nil {
		return ""
	}
	now := time.Now()
	dev, err := s.devices.parse(raw, now)
	if err != nil {
		return ""
	}
	u, err := store.UserByEmail(ctx, s.db, email)
	if err != nil || s.devices.of(dev, u) != nil {
		return "" // a database failure makes the client untrusted: held as before, never let through
	}
	return dev.id
}

// deviceToken is the device token for a payload of session sessionID of u ("" without SetDeviceTokens).
func (s *Service) deviceToken(u *model.User, sessionID string) string {
	if s.devices == nil {
		return ""
	}
	return s.devices.Issue(u, sessionID, time.Now())
}
