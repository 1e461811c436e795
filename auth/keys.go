package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/uptrace/bun"

	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

// Keys hold what signs new tokens and what verifies presented ones. The algorithm is fixed per
// Keys: a token whose header names another one is refused.
type Keys interface {
	// Method is the one signing algorithm accepted.
	Method() jwt.SigningMethod
	// Signing returns the key for new tokens and its kid ("" when tokens carry none).
	Signing() (kid string, key any)
	// Verifying returns the key for a token with this kid.
	Verifying(kid string) (any, error)
	// JWKS is the JSON Web Key Set of the public verification keys (empty for a shared secret).
	JWKS() []byte
}

// SecretKey is an HS256 shared secret. Tokens carry no kid; any kid header is ignored.
type SecretKey []byte

func (k SecretKey) Method() jwt.SigningMethod     { return jwt.SigningMethodHS256 }
func (k SecretKey) Signing() (string, any)        { return "", []byte(k) }
func (k SecretKey) Verifying(string) (any, error) { return []byte(k), nil }
func (k SecretKey) JWKS() []byte                  { return []byte(`{"keys":[]}`) }

// String keeps the secret out of logs and error messages.
func (k SecretKey) String() string { return "SecretKey(redacted)" }

// ed25519Algorithm names Ed25519 keys in the signing_keys table.
const ed25519Algorithm = "Ed25519"

// Ed25519Keys sign with EdDSA (Ed25519) keys kept in the database, shared by every instance. The
// newest key signs; each token names its key in the kid header, so that other services can verify
// it with GET /.well-known/jwks.json and older keys keep verifying until their tokens have expired.
// A key is replaced after rotateEvery and deleted once every token it can have signed has expired:
// retainFor (the longest token lifetime) after the last moment any instance may still have signed
// with it, which is up to one MaintenanceInterval after its successor was created, since each
// instance picks up new keys only when it next runs Maintain.
type Ed25519Keys struct {
	db          *bun.DB
	rotateEvery time.Duration
	retainFor   time.Duration

	mu         sync.RWMutex
	signKID    string
	signKey    ed25519.PrivateKey
	signFrom   time.Time // when the newest key may sign (keyActivation after it was created)
	prevKID    string    // the key before it, which signs until then ("" when there is none)
	prevKey    ed25519.PrivateKey
	public     map[string]ed25519.PublicKey
	jwks       []byte
	lastReload time.Time
}

// keyActivation is how long a new key is published before it signs. Verifying reloads the keys for
// an unknown kid at most once a second; a token signed with a key at least a second old therefore
// reaches no instance whose last reload was both recent and earlier than the key.
const keyActivation = time.Second

// NewEd25519Keys loads the stored keys, creating or rotating the signing key if it is due.
func NewEd25519Keys(ctx context.Context, db *bun.DB, rotateEvery, retainFor time.Duration) (*Ed25519Keys, error) {
	k := &Ed25519Keys{db: db, rotateEvery: rotateEvery, retainFor: retainFor}
	if err := k.Maintain(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Ed25519Keys) Method() jwt.SigningMethod { return jwt.SigningMethodEdDSA }

func (k *Ed25519Keys) Signing() (string, any) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.prevKID != "" && time.Now().Before(k.signFrom) {
		return k.prevKID, k.prevKey
	}
	return k.signKID, k.signKey
}

// Verifying returns the public key named by kid. An unknown kid may be a key another instance has
// just created, so the keys are reloaded, at most once a second, before giving up.
func (k *Ed25519Keys) Verifying(kid string) (any, error) {
	if pub, ok := k.lookup(kid); ok {
		return pub, nil
	}
	k.mu.RLock()
	recent := time.Since(k.lastReload) < time.Second
	k.mu.RUnlock()
	if !recent {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := k.reload(ctx); err == nil {
			if pub, ok := k.lookup(kid); ok {
				return pub, nil
			}
		}
	}
	return nil, errors.New("unknown key")
}

func (k *Ed25519Keys) lookup(kid string) (ed25519.PublicKey, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	pub, ok := k.public[kid]
	return pub, ok
}

func (k *Ed25519Keys) JWKS() []byte {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.jwks
}

// Maintain creates a signing key if the newest is older than rotateEvery (or there is none),
// deletes keys whose tokens have all expired, and reloads. Instances call it periodically; of
// instances rotating (or starting) at once, one adds the key (store.AddSigningKeyIfDue).
func (k *Ed25519Keys) Maintain(ctx context.Context) error {
	keys, err := store.SigningKeys(ctx, k.db, ed25519Algorithm)
	if err != nil {
		return err
	}
	now := time.Now()
	if len(keys) == 0 || now.Sub(keys[len(keys)-1].CreatedAt) >= k.rotateEvery {
		if err := k.create(ctx, now.Add(-k.rotateEvery)); err != nil {
			return err
		}
		if keys, err = store.SigningKeys(ctx, k.db, ed25519Algorithm); err != nil {
			return err
		}
	}
	var retired []string
	for i := 0; i+1 < len(keys); i++ {
		// keys[i] stopped signing on every instance at most one interval after keys[i+1] was created.
		if now.Sub(keys[i+1].CreatedAt) > k.MaintenanceInterval()+k.retainFor {
			retired = append(retired, keys[i].KID)
		}
	}
	if err := store.DeleteSigningKeys(ctx, k.db, retired); err != nil {
		return err
	}
	return k.reload(ctx)
}

// MaintenanceInterval is how often each instance must call Maintain: a quarter of the rotation
// period, between a second and an hour.
func (k *Ed25519Keys) MaintenanceInterval() time.Duration {
	return min(max(k.rotateEvery/4, time.Second), time.Hour)
}

// create adds a signing key unless another instance has added one since dueBefore.
func (k *Ed25519Keys) create(ctx context.Context, dueBefore time.Time) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	_, err = store.AddSigningKeyIfDue(ctx, k.db, &model.SigningKey{
		KID: randomID(), Algorithm: ed25519Algorithm,
		PrivateKey: base64.RawStdEncoding.EncodeToString(priv.Seed()),
	}, dueBefore)
	return err
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

func (k *Ed25519Keys) reload(ctx context.Context) error {
	keys, err := store.SigningKeys(ctx, k.db, ed25519Algorithm)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return errors.New("no signing key stored")
	}
	public := make(map[string]ed25519.PublicKey, len(keys))
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(keys))}
	var newest, previous ed25519.PrivateKey
	for _, sk := range keys {
		previous = newest
		seed, err := base64.RawStdEncoding.DecodeString(sk.PrivateKey)
		if err != nil || len(seed) != ed25519.SeedSize {
			return fmt.Errorf("signing key %s is malformed", sk.KID)
		}
		newest = ed25519.NewKeyFromSeed(seed)
		pub := newest.Public().(ed25519.PublicKey)
		public[sk.KID] = pub
		set.Keys = append(set.Keys, jwk{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub),
			Kid: sk.KID, Alg: jwt.SigningMethodEdDSA.Alg(), Use: "sig"})
	}
	doc, err := json.Marshal(set)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.signKID, k.signKey = keys[len(keys)-1].KID, newest
	k.signFrom = keys[len(keys)-1].CreatedAt.Add(keyActivation)
	k.prevKID, k.prevKey = "", previous
	if len(keys) > 1 {
		k.prevKID = keys[len(keys)-2].KID
	}
	k.public, k.jwks, k.lastReload = public, doc, time.Now()
	return nil
}
