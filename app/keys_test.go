package app_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
)

type jwkSet struct {
	Keys []struct {
		Kty, Crv, X, Kid, Alg, Use string
	}
}

func fetchJWKS(t *testing.T, s *apptest.Server) jwkSet {
	t.Helper()
	res, err := http.Get(s.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("JWKS: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var set jwkSet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return set
}

// verifyWithJWKS checks a token as another service would: with the published key named by its kid.
func verifyWithJWKS(set jwkSet, token string) (kid string, err error) {
	_, err = jwt.Parse(token, func(tok *jwt.Token) (any, error) {
		kid, _ = tok.Header["kid"].(string)
		for _, k := range set.Keys {
			if k.Kid == kid && k.Kty == "OKP" && k.Crv == "Ed25519" {
				x, err := base64.RawURLEncoding.DecodeString(k.X)
				return ed25519.PublicKey(x), err
			}
		}
		return nil, fmt.Errorf("kid %q not published", kid)
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithAudience("shopql"), jwt.WithIssuer("shopql"))
	return kid, err
}

func withEd25519(c *app.Config) { c.JWTSigning = "ed25519" }

func TestEd25519TokensVerifyWithPublishedKeys(t *testing.T) {
	s := apptest.New(t, withEd25519)
	c := s.Client()
	user, tok := c.User("ann@example.com")
	user.MustDo(meQuery, nil, nil)
	set := fetchJWKS(t, s)
	if len(set.Keys) != 1 || set.Keys[0].Alg != "EdDSA" || set.Keys[0].Use != "sig" {
		t.Fatalf("JWKS: %+v", set)
	}
	for _, token := range []string{tok.AccessToken, tok.RefreshToken} {
		if kid, err := verifyWithJWKS(set, token); err != nil || kid != set.Keys[0].Kid {
			t.Fatalf("token does not verify with the JWKS (kid %q): %v", kid, err)
		}
	}

	// The algorithm is pinned: an HS256 token, even one keyed with the public key, is refused.
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": tok.User.ID, "typ": "access", "sid": "x", "jti": "y", "iss": "shopql", "aud": "shopql",
		"iat": time.Now().Unix(), "nbf": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(),
	})
	hs.Header["kid"] = set.Keys[0].Kid
	x, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].X)
	forged, _ := hs.SignedString(x)
	assertAuthError(t, c.WithToken(forged).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_INVALID")

	// Keys live in the database: tokens survive a restart.
	s = s.Restart()
	s.Client().WithToken(tok.AccessToken).MustDo(meQuery, nil, nil)
}

func TestEd25519KeyRotation(t *testing.T) {
	s := apptest.New(t, withEd25519, func(c *app.Config) { c.JWTKeyRotation = time.Second })
	c := s.Client()
	c.Register("ann@example.com", "password-ann")
	old := c.Login("ann@example.com", "password-ann")
	oldKid, err := verifyWithJWKS(fetchJWKS(t, s), old.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a new signing key", func() error {
		if n := len(fetchJWKS(t, s).Keys); n < 2 {
			return fmt.Errorf("%d keys", n)
		}
		return nil
	})
	// The new key is published a second before it signs (so that every instance can find it).
	var set jwkSet
	eventually(t, 5*time.Second, "tokens signed with the new key", func() error {
		fresh := c.Login("ann@example.com", "password-ann")
		set = fetchJWKS(t, s)
		newKid, err := verifyWithJWKS(set, fresh.AccessToken)
		if err != nil || newKid == oldKid {
			return fmt.Errorf("new token kid %q (old %q): %v", newKid, oldKid, err)
		}
		return nil
	})
	// Tokens signed by the previous key keep working until they expire.
	if _, err := verifyWithJWKS(set, old.AccessToken); err != nil {
		t.Fatalf("old token no longer verifies with the JWKS: %v", err)
	}
	c.WithToken(old.AccessToken).MustDo(meQuery, nil, nil)
	refresh(t, c, old.RefreshToken)
}

func TestEd25519KeysAreSharedByInstances(t *testing.T) {
	cfg := apptest.Config(t)
	withEd25519(&cfg)
	nodes := startInstances(t, cfg, 2)
	_, tok := nodes[0].Client().User("ann@example.com")
	nodes[1].Client().WithToken(tok.AccessToken).MustDo(meQuery, nil, nil)
}

func TestJWKSIsEmptyForSharedSecret(t *testing.T) {
	if set := fetchJWKS(t, apptest.New(t)); len(set.Keys) != 0 {
		t.Fatalf("a shared secret must never be published: %+v", set)
	}
}
