package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
)

// attackSecret is the server's JWT_SECRET in these tests, so that they can mint tokens the server
// should accept and vary one thing at a time.
const attackSecret = "tR4mX9qLw2Zc7Vb0Kp5Hn8Jd3Gf6Sy1Ea-attack-tests" // random: CheckSecret refuses guessable ones

func withAttackSecret(c *app.Config) { c.JWTSecret = attackSecret }

// segment is the base64url (unpadded) JSON of v, as a JWT header or payload.
func segment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hs256 signs header.payload with key as HMAC-SHA256, whatever alg the header claims.
func hs256(signingInput string, key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signingInput))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// mint builds a token from a header and claims, HMAC-signed with key (nil: no signature at all).
func mint(t *testing.T, header, claims map[string]any, key []byte) string {
	t.Helper()
	in := segment(t, header) + "." + segment(t, claims)
	if key == nil {
		return in + "."
	}
	return in + "." + hs256(in, key)
}

// validClaims are the claims of an access token the server would issue to userID right now.
func validClaims(userID string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": "shopql", "aud": []string{"shopql"}, "sub": userID,
		"exp": now.Add(10 * time.Minute).Unix(), "nbf": now.Add(-time.Second).Unix(), "iat": now.Add(-time.Second).Unix(),
		"jti": "attack-jti", "sid": "attack-session", "typ": "access", "fresh": true,
	}
}

// with returns a copy of m with the given changes; a nil value deletes the key.
func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// claimsOf decodes a token's payload without checking it.
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// resign replaces a token's payload by f(payload) and keeps its original signature.
func resign(t *testing.T, token string, f func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	claims := claimsOf(t, token)
	f(claims)
	return parts[0] + "." + segment(t, claims) + "." + parts[2]
}

func rsaSigned(t *testing.T, claims map[string]any, header map[string]any) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	for k, v := range header {
		tok.Header[k] = v
	}
	if header["jwk"] == true { // embed the attacker's own public key, as in CVE-2018-0114
		tok.Header["jwk"] = map[string]any{
			"kty": "RSA", "n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func esSigned(t *testing.T, claims map[string]any) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims(claims)).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTokenAttacks sends forged and altered tokens in the Authorization header of a real request and
// checks each gets exactly the expected outcome. The server's secret is known to the test, so the
// forgeries differ from a valid token in one respect only.
func TestTokenAttacks(t *testing.T) {
	s := apptest.New(t, withAttackSecret, apptest.WithAdmin)
	c := s.Client()
	_, tok := c.User("victim@example.com")
	uid := tok.User.ID
	// A token is accepted only for a live session of this database issued to its subject: the
	// minted tokens name the victim's real session.
	good := with(validClaims(uid), "sid", claimsOf(t, tok.AccessToken)["sid"])
	hs := map[string]any{"alg": "HS256", "typ": "JWT"}
	key := []byte(attackSecret)

	// Sanity: a token minted with our key and valid claims is accepted, so every rejection below
	// is due to the one thing changed.
	c.WithToken(mint(t, hs, good, key)).MustDo(meQuery, nil, nil)

	tests := []struct {
		name   string
		token  string
		reason string // "" means accepted
	}{
		{"alg none", mint(t, map[string]any{"alg": "none", "typ": "JWT"}, good, nil), "TOKEN_INVALID"},
		{"alg None", mint(t, map[string]any{"alg": "None"}, good, nil), "TOKEN_INVALID"},
		{"alg NONE", mint(t, map[string]any{"alg": "NONE"}, good, nil), "TOKEN_INVALID"},
		{"alg nOnE", mint(t, map[string]any{"alg": "nOnE"}, good, nil), "TOKEN_INVALID"},
		{"alg none with our signature", mint(t, map[string]any{"alg": "none"}, good, key), "TOKEN_INVALID"},
		{"no alg", mint(t, map[string]any{"typ": "JWT"}, good, key), "TOKEN_INVALID"},
		{"stripped signature", strings.TrimSuffix(mint(t, hs, good, nil), "."), "TOKEN_INVALID"},
		{"empty signature", mint(t, hs, good, nil), "TOKEN_INVALID"},
		{"signature of another token", mint(t, hs, good, nil) + strings.Split(tok.AccessToken, ".")[2], "TOKEN_INVALID"},
		{"HS256 wrong key", mint(t, hs, good, []byte("an-attacker-guess-of-32-bytes-long!!")), "TOKEN_INVALID"},
		{"HS256 empty key", mint(t, hs, good, []byte{}), "TOKEN_INVALID"},
		{"HS384 with our key", mint(t, map[string]any{"alg": "HS384"}, good, key), "TOKEN_INVALID"},
		{"HS512 with our key", mint(t, map[string]any{"alg": "HS512"}, good, key), "TOKEN_INVALID"},
		{"RS256 (key confusion)", rsaSigned(t, good, nil), "TOKEN_INVALID"},
		{"RS256 header, HMAC with our key", mint(t, map[string]any{"alg": "RS256"}, good, key), "TOKEN_INVALID"},
		{"ES256 (key confusion)", esSigned(t, good), "TOKEN_INVALID"},
		{"EdDSA header, HMAC with our key", mint(t, map[string]any{"alg": "EdDSA"}, good, key), "TOKEN_INVALID"},
		{"kid header ignored", mint(t, with(hs, "kid", "../../../../dev/null"), good, key), ""},
		{"kid SQL injection ignored", mint(t, with(hs, "kid", "x' UNION SELECT 'attack"), good, key), ""},
		{"jku header ignored", mint(t, with(hs, "jku", "https://attacker.example/jwks.json"), good, key), ""},
		{"x5u header ignored", mint(t, with(hs, "x5u", "https://attacker.example/cert.pem"), good, key), ""},
		{"jwk header ignored", mint(t, with(hs, "jwk", map[string]any{"kty": "oct", "k": "YXR0YWNrZXI"}), good, key), ""},
		{"attacker key in jwk header", rsaSigned(t, good, map[string]any{"jwk": true}), "TOKEN_INVALID"},
		{"attacker HMAC key in jwk header", mint(t, with(hs, "jwk", map[string]any{"kty": "oct", "k": base64.RawURLEncoding.EncodeToString([]byte("attacker-key-attacker-key-attack"))}), good, []byte("attacker-key-attacker-key-attack")), "TOKEN_INVALID"},
		{"attacker key at jku", mint(t, with(hs, "jku", "https://attacker.example/jwks.json"), good, []byte("attacker-key-attacker-key-attack")), "TOKEN_INVALID"},
		{"expired", mint(t, hs, with(good, "exp", time.Now().Add(-time.Minute).Unix()), key), "TOKEN_EXPIRED"},
		{"nbf in the future", mint(t, hs, with(good, "nbf", time.Now().Add(time.Hour).Unix()), key), "TOKEN_INVALID"},
		{"iat in the future", mint(t, hs, with(good, "iat", time.Now().Add(time.Hour).Unix()), key), "TOKEN_INVALID"},
		{"missing exp", mint(t, hs, with(good, "exp", nil), key), "TOKEN_INVALID"},
		{"missing nbf", mint(t, hs, with(good, "nbf", nil), key), "TOKEN_INVALID"},
		{"missing iat", mint(t, hs, with(good, "iat", nil), key), "TOKEN_INVALID"},
		{"missing jti", mint(t, hs, with(good, "jti", nil), key), "TOKEN_INVALID"},
		{"missing sid", mint(t, hs, with(good, "sid", nil), key), "TOKEN_INVALID"},
		{"missing typ", mint(t, hs, with(good, "typ", nil), key), "TOKEN_INVALID"},
		{"unknown typ", mint(t, hs, with(good, "typ", "id"), key), "TOKEN_INVALID"},
		{"wrong iss", mint(t, hs, with(good, "iss", "someone-else"), key), "TOKEN_INVALID"},
		{"missing iss", mint(t, hs, with(good, "iss", nil), key), "TOKEN_INVALID"},
		{"wrong aud", mint(t, hs, with(good, "aud", []string{"another-api"}), key), "TOKEN_INVALID"},
		{"missing aud", mint(t, hs, with(good, "aud", nil), key), "TOKEN_INVALID"},
		{"sub not a string", mint(t, hs, with(good, "sub", 1), key), "TOKEN_INVALID"},
		{"sub not a user ID", mint(t, hs, with(good, "sub", "admin"), key), "TOKEN_INVALID"},
		{"sub negative", mint(t, hs, with(good, "sub", "-1"), key), "TOKEN_INVALID"},
		// With the key (leaked or guessed): a session this database never issued, or one of
		// another user, is refused.
		{"invented sid", mint(t, hs, with(good, "sid", "attack-session"), key), "TOKEN_INVALID"},
		{"invented numeric sid", mint(t, hs, with(good, "sid", "4242424242"), key), "TOKEN_INVALID"},
		{"real sid, another sub", mint(t, hs, with(good, "sub", "1"), key), "TOKEN_INVALID"},
		{"real sid, admin claim, another sub", mint(t, hs, with(good, "sub", "1", "adm", true), key), "TOKEN_INVALID"},
		{"refresh token as access token", tok.RefreshToken, "TOKEN_INVALID"},
		{"minted refresh token as access token", mint(t, hs, with(good, "typ", "refresh"), key), "TOKEN_INVALID"},
		{"tampered sub", resign(t, tok.AccessToken, func(c map[string]any) { c["sub"] = "1" }), "TOKEN_INVALID"},
		{"tampered adm", resign(t, tok.AccessToken, func(c map[string]any) { c["adm"] = true }), "TOKEN_INVALID"},
		{"tampered exp", resign(t, tok.AccessToken, func(c map[string]any) { c["exp"] = time.Now().Add(24 * time.Hour).Unix() }), "TOKEN_INVALID"},
		{"header alg swapped, payload kept", segment(t, map[string]any{"alg": "none"}) + "." + strings.SplitN(tok.AccessToken, ".", 2)[1], "TOKEN_INVALID"},
		{"four segments", tok.AccessToken + ".x", "TOKEN_INVALID"},
		{"padded base64", strings.Replace(tok.AccessToken, ".", "=.", 1), "TOKEN_INVALID"},
		{"not JSON", base64.RawURLEncoding.EncodeToString([]byte("{")) + ".e30." + hs256(base64.RawURLEncoding.EncodeToString([]byte("{"))+".e30", key), "TOKEN_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.WithToken(tt.token).Do(meQuery, nil)
			if tt.reason == "" {
				if len(r.Errors) > 0 {
					t.Fatalf("want accepted, got %s", r)
				}
				return
			}
			assertAuthError(t, r, "UNAUTHENTICATED", tt.reason)
		})
	}

	// The admin claim is only honoured in a token we signed: a user's own token with adm flipped
	// fails as above, and a real user token cannot reach @admin fields.
	assertAuthError(t, c.WithToken(tok.AccessToken).Do(`{ users { id } }`, nil), "FORBIDDEN", "ADMIN_REQUIRED")
}

// TestTokenAsWrongType checks an access token is refused where a refresh token is expected, in
// both places refreshToken reads one.
func TestTokenAsWrongType(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	_, tok := c.User("ann@example.com")
	assertAuthError(t, refreshResponse(c, tok.AccessToken), "UNAUTHENTICATED", "TOKEN_INVALID")
	assertAuthError(t, c.WithToken(tok.AccessToken).Do(`mutation { refreshToken { accessToken } }`, nil), "UNAUTHENTICATED", "TOKEN_INVALID")
	// The refresh token still works afterwards: a wrong-type attempt is not reuse.
	refresh(t, c, tok.RefreshToken)
}

// TestTokensOfEndedSessions checks tokens stop working when their session or account ends.
func TestTokensOfEndedSessions(t *testing.T) {
	s := apptest.New(t, apptest.WithAdmin)
	c := s.Client()
	admin, _ := c.Admin()

	tests := []struct {
		name string
		end  func(t *testing.T, user *apptest.Client, id string)
	}{
		{"logout", func(t *testing.T, user *apptest.Client, _ string) { user.MustDo(`mutation { logout }`, nil, nil) }},
		{"blocked", func(t *testing.T, _ *apptest.Client, id string) {
			admin.MustDo(`mutation($id: ID!) { setUserBlocked(id: $id, blocked: true) { id } }`, map[string]any{"id": id}, nil)
		}},
		{"deleted", func(t *testing.T, _ *apptest.Client, id string) {
			admin.MustDo(`mutation($id: ID!) { deleteUser(id: $id) }`, map[string]any{"id": id}, nil)
		}},
		{"demoted", func(t *testing.T, _ *apptest.Client, id string) {
			admin.MustDo(`mutation($id: ID!) { setUserAdmin(id: $id, isAdmin: false) { id } }`, map[string]any{"id": id}, nil)
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			email := "user" + strconv.Itoa(i) + "@example.com"
			id := c.Register(email, "password-"+email)
			if tt.name == "demoted" {
				admin.MustDo(`mutation($id: ID!) { setUserAdmin(id: $id, isAdmin: true) { id } }`, map[string]any{"id": id}, nil)
			}
			tok := c.Login(email, "password-"+email)
			user := c.WithToken(tok.AccessToken)
			user.MustDo(meQuery, nil, nil)
			tt.end(t, user, id)
			assertAuthError(t, user.Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
			assertAuthError(t, refreshResponse(c, tok.RefreshToken), "UNAUTHENTICATED", "TOKEN_REVOKED")
		})
	}
}

// TestAuthorizationHeaderAbuse sends malformed Authorization headers.
func TestAuthorizationHeaderAbuse(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	_, tok := c.User("ann@example.com")

	tests := []struct {
		name    string
		headers []string // Authorization values, each its own header line
		reason  string   // "" means accepted
	}{
		{"no header", nil, "TOKEN_MISSING"},
		{"empty header", []string{""}, "TOKEN_MISSING"},
		{"blank header", []string{"   "}, "TOKEN_MISSING"},
		{"bearer lower case", []string{"bearer " + tok.AccessToken}, ""},
		{"token without scheme", []string{tok.AccessToken}, "TOKEN_INVALID"},
		{"Bearer alone", []string{"Bearer"}, "TOKEN_INVALID"},
		{"Bearer and space", []string{"Bearer "}, "TOKEN_INVALID"},
		{"Bearer doubled", []string{"Bearer Bearer " + tok.AccessToken}, "TOKEN_INVALID"},
		{"BearerBearer", []string{"BearerBearer " + tok.AccessToken}, "TOKEN_INVALID"},
		{"Basic scheme", []string{"Basic dXNlcjpwYXNzd29yZA=="}, "TOKEN_INVALID"},
		{"two tokens", []string{"Bearer " + tok.AccessToken + " " + tok.AccessToken}, "TOKEN_INVALID"},
		{"token, comma, token", []string{"Bearer " + tok.AccessToken + ", Bearer " + tok.AccessToken}, "TOKEN_INVALID"},
		{"two Authorization headers", []string{"Bearer " + tok.AccessToken, "Bearer " + tok.AccessToken}, "TOKEN_INVALID"},
		{"garbage", []string{"Bearer !!!###$$$"}, "TOKEN_INVALID"},
		{"non-ASCII", []string{"Bearer Ünïcödé☃.токен.签名"}, "TOKEN_INVALID"},
		{"invalid UTF-8", []string{"Bearer \xff\xfe\xfd.\xc3\x28.\xa0\xa1"}, "TOKEN_INVALID"},
		{"oversized", []string{"Bearer " + strings.Repeat("A", 64<<10)}, "TOKEN_INVALID"},
		{"oversized valid-looking", []string{"Bearer " + tok.AccessToken + strings.Repeat("A", 8<<10)}, "TOKEN_INVALID"},
		{"only dots", []string{"Bearer .."}, "TOKEN_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, c.URL, strings.NewReader(`{"query":"{ me { id } }"}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			for _, v := range tt.headers {
				req.Header.Add("Authorization", v)
			}
			r := c.Send(req)
			if r.Status >= 500 {
				t.Fatalf("server error: %s", r)
			}
			if tt.reason == "" {
				if len(r.Errors) > 0 {
					t.Fatalf("want accepted, got %s", r)
				}
				return
			}
			assertAuthError(t, r, "UNAUTHENTICATED", tt.reason)
		})
	}
}
