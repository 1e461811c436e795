package auth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	mrand "math/rand/v2"
	"strings"
	"testing"
)

// TestGuessableSecretsRefused: what jwt_tool's wordlist, documentation and habit produce is
// refused, however long.
func TestGuessableSecretsRefused(t *testing.T) {
	for _, s := range []string{
		"12345678901234567890123456789012", // jwt_tool's wordlist: cracked from one login token
		strings.Repeat("a", 32),
		strings.Repeat("a", 300), // longer than the analysed prefix
		"secretsecretsecretsecretsecretse",
		"SecretSecretSecretSecretSecret!!",
		"abcdefghijklmnopqrstuvwxyz012345",
		"zyxwvutsrqponmlkjihgfedcba987654",
		"qwertyuiopasdfghjklzxcvbnm123456",
		"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,",
		"0123456789abcdef0123456789abcdef",
		"0123456789abcdef0123456789abcdef-attack-tests", // this repository's old test secret
		"fuzz-secret-fuzz-secret-fuzz-secret!",
		"your-256-bit-secret-your-256-bit", // jwt.io's example
		"my-super-secret-jwt-signing-key-here",
		"changeme-changeme-changeme-changeme",
		"P@ssw0rdP@ssw0rdP@ssw0rdP@ssw0rd",
		"Password1234567890Password123456",
		"thisismysecretkeyforjwtsigning!!",
		"abababababababababababababababab",
		"aabbaabbabbaabababbbaabbaababbba", // two characters in any order
		"11111111111111111111111111111111",
		"shopql-production-secret-2026-12",
		"ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
	} {
		bits := SecretStrength([]byte(s))
		if err := CheckSecret([]byte(s)); err == nil {
			t.Errorf("%q (%.0f bits) was accepted", s, bits)
		} else if !strings.Contains(err.Error(), "openssl rand") {
			t.Errorf("%q: the error does not say how to make a secret: %v", s, err)
		}
	}
	if err := CheckSecret([]byte("x7#Kq2!v")); err == nil || !strings.Contains(err.Error(), "at least 32 bytes") {
		t.Errorf("a short secret: %v", err)
	}
}

// TestRandomSecretsAccepted: random secrets of at least 128 bits pass, in every usual spelling.
// The samples come from a fixed seed, so that the test cannot fail by chance; random hex of 32
// digits is exactly 128 bits, and about 7 in 100,000 of those do look patterned (a run "654321"
// or a keyboard walk "123edc" in them) and are refused.
func TestRandomSecretsAccepted(t *testing.T) {
	r := mrand.New(mrand.NewPCG(7, 9))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
	for range 2000 {
		for _, s := range []string{
			hex.EncodeToString(random(16)), // openssl rand -hex 16: 128 bits
			strings.ToUpper(hex.EncodeToString(random(16))),
			hex.EncodeToString(random(32)),                   // openssl rand -hex 32
			base64.StdEncoding.EncodeToString(random(24)),    // 32 characters, 192 bits
			base64.StdEncoding.EncodeToString(random(48)),    // openssl rand -base64 48
			base64.RawURLEncoding.EncodeToString(random(32)), // 43 characters
			string(random(32)),                               // raw bytes (the generated secret)
			base64.StdEncoding.EncodeToString(random(200)),   // longer than the analysed prefix
		} {
			if err := CheckSecret([]byte(s)); err != nil {
				t.Fatalf("%q: %v", s, err)
			}
		}
	}
	// And from the system's generator, as an operator would make one.
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	if err := CheckSecret([]byte(base64.StdEncoding.EncodeToString(b))); err != nil {
		t.Fatal(err)
	}
}

// TestSecretStrengthOfRandomText: the estimate of random text is its length times log2 of its
// alphabet.
func TestSecretStrengthOfRandomText(t *testing.T) {
	for _, c := range []struct {
		s    string
		bits float64
	}{
		{"8f14e45fceea167a5a36dedd4bea2543", 128},                     // hex: 4 bits a digit
		{"Xq0vA9bTz3LmR7wYc2NpK8dFh5JsG1eU", 192},                     // base64 alphabet: 6
		{"95271846035819024736918027465301", 32 * 3.3219280948873626}, // digits
	} {
		if got := SecretStrength([]byte(c.s)); got < c.bits-0.01 || got > c.bits+0.01 {
			t.Errorf("%q: %.2f bits, want %.2f", c.s, got, c.bits)
		}
	}
}
