package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

const fuzzSecret = "Vb3rYq8Jk1Zx6Tn0Wc5Lp2Hs9Gd4Fm7A" // random: CheckSecret refuses guessable ones

func fuzzTokens(t testing.TB) *Tokens {
	tokens, err := NewTokens(TokenConfig{
		Keys: SecretKey(fuzzSecret), Issuer: "shopql", Audience: "shopql",
		AccessTTL: time.Hour, RefreshTTL: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// FuzzTokensParse feeds arbitrary strings to the token parser: it must never panic, and must
// accept only tokens whose signature is our HMAC of their first two segments, of the type asked.
func FuzzTokensParse(f *testing.F) {
	tokens := fuzzTokens(f)
	access, err := tokens.Issue(AccessToken, 7, "session", true, true)
	if err != nil {
		f.Fatal(err)
	}
	refresh, _ := tokens.Issue(RefreshToken, 7, "session", false, false)
	parts := strings.Split(access.Token, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	for _, seed := range []string{
		access.Token, refresh.Token,
		parts[0] + "." + parts[1] + ".",
		parts[0] + "." + parts[1],
		b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		b64([]byte(`{"alg":"NoNe"}`)) + "." + parts[1] + ".",
		b64([]byte(`{"alg":"HS256","kid":"x","jku":"http://a","jwk":{"kty":"oct","k":"AA"}}`)) + "." + parts[1] + "." + parts[2],
		b64([]byte(`{"alg":"RS256"}`)) + "." + parts[1] + "." + parts[2],
		"", ".", "..", "...", "a.b.c", "\x00.\x00.\x00", "\xff\xfe.\xfd.\xfc", "ünï.cö.dé",
		strings.Repeat("A", MaxTokenBytes+1),
		b64([]byte(`{"alg":"HS256"}`)) + "." + b64([]byte(`{"exp":1e400,"sub":"1'; DROP TABLE users;--"}`)) + ".x",
		b64([]byte(`{"alg":"HS256"}`)) + "." + b64([]byte(`{"exp":-1,"nbf":"NaN","iat":null}`)) + ".x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, want := range []TokenType{AccessToken, RefreshToken} {
			claims, err := tokens.Parse(raw, want)
			if err == nil {
				if claims == nil || claims.Type != want {
					t.Fatalf("accepted %q as %s with claims %+v", raw, want, claims)
				}
				if !signedByUs(raw) {
					t.Fatalf("accepted a token we did not sign: %q", raw)
				}
			} else if _, ok := err.(*Error); !ok {
				t.Fatalf("error of an unexpected type %T: %v", err, err)
			}
		}
	})
}

// signedByUs recomputes the HS256 signature independently of the JWT library.
func signedByUs(raw string) bool {
	i := strings.LastIndexByte(raw, '.')
	if i < 0 {
		return false
	}
	m := hmac.New(sha256.New, []byte(fuzzSecret))
	m.Write([]byte(raw[:i]))
	sig, err := base64.RawURLEncoding.DecodeString(raw[i+1:])
	return err == nil && hmac.Equal(sig, m.Sum(nil))
}
