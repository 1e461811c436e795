package auth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenType tells access tokens from refresh tokens; each is refused where the other is expected.
type TokenType string

const (
	AccessToken  TokenType = "access"
	RefreshToken TokenType = "refresh"
)

// MaxTokenBytes bounds what the parser looks at; our tokens are a few hundred bytes.
const MaxTokenBytes = 4096

// Claims are the JWT claims of both token types. Subject is the user ID as a decimal string.
type Claims struct {
	jwt.RegisteredClaims
	Type      TokenType `json:"typ"`
	SessionID string    `json:"sid"`
	Fresh     bool      `json:"fresh,omitempty"`
	Admin     bool      `json:"adm,omitempty"`
}

// Validate runs after the library's checks of exp, nbf, iat, iss and aud (jwt.ClaimsValidator): it
// insists on the claims we always set, so that a token minted elsewhere with our key but without
// them is still refused.
func (c *Claims) Validate() error {
	switch {
	case c.ExpiresAt == nil || c.IssuedAt == nil || c.NotBefore == nil:
		return errors.New("exp, iat and nbf are required")
	case c.ID == "" || c.SessionID == "":
		return errors.New("jti and sid are required")
	case c.Type != AccessToken && c.Type != RefreshToken:
		return errors.New("unknown token type")
	}
	if id, err := strconv.ParseInt(c.Subject, 10, 64); err != nil || id <= 0 {
		return errors.New("sub is not a user ID")
	}
	return nil
}

// UserID is the numeric subject (Validate has checked it parses).
func (c *Claims) UserID() int64 {
	id, _ := strconv.ParseInt(c.Subject, 10, 64)
	return id
}

// TokenConfig configures token issuing and verification.
type TokenConfig struct {
	Keys       Keys // SecretKey (HS256) or *Ed25519Keys
	Issuer     string
	Audience   string
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// Leeway tolerates clock differences between instances when checking nbf and iat: a token
	// signed by an instance whose clock is ahead is not refused as "not valid yet". It never
	// extends exp: a token expires exactly when its exp (and accessTokenExpiresAt) says.
	Leeway time.Duration
}

// Tokens issues and verifies JWTs. The algorithm is pinned to the one of its Keys (HS256 or EdDSA):
// a token whose header names any other algorithm, "none" included, is refused before its signature
// is looked at.
type Tokens struct {
	cfg    TokenConfig
	parser *jwt.Parser
}

// NewTokens checks cfg and returns a Tokens.
func NewTokens(cfg TokenConfig) (*Tokens, error) {
	if secret, ok := cfg.Keys.(SecretKey); ok {
		if err := CheckSecret(secret); err != nil {
			return nil, err
		}
	}
	if cfg.Keys == nil {
		return nil, errors.New("no signing keys")
	}
	if cfg.AccessTTL <= 0 || cfg.RefreshTTL <= 0 {
		return nil, errors.New("token lifetimes must be positive")
	}
	return &Tokens{cfg: cfg, parser: jwt.NewParser(
		jwt.WithValidMethods([]string{cfg.Keys.Method().Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithStrictDecoding(),
	)}, nil
}

// Issued is a signed token and the facts its issuer keeps about it.
type Issued struct {
	Token     string
	ID        string // jti
	ExpiresAt time.Time
}

// Issue signs a token of type typ for a user's session.
func (t *Tokens) Issue(typ TokenType, userID int64, sessionID string, fresh, admin bool) (Issued, error) {
	ttl := t.cfg.AccessTTL
	if typ == RefreshToken {
		ttl = t.cfg.RefreshTTL
	}
	now := time.Now()
	return t.sign(typ, userID, sessionID, randomID(), now, now.Add(ttl), fresh, admin)
}

// IssueRefreshAt signs a refresh token with the given jti, issued at iat and expiring at exp. Signing
// is deterministic (HMAC, and Ed25519 per RFC 8032) and the claims are encoded in a fixed order, so
// signing the same facts again with the same key gives the very same token: that is how a refresh
// within the reuse grace hands back the successor the rotation issued without any token being
// stored.
func (t *Tokens) IssueRefreshAt(userID int64, sessionID, jti string, iat, exp time.Time) (Issued, error) {
	return t.sign(RefreshToken, userID, sessionID, jti, iat, exp, false, false)
}

func (t *Tokens) sign(typ TokenType, userID int64, sessionID, jti string, now, exp time.Time, fresh, admin bool) (Issued, error) {
	if typ == RefreshToken {
		fresh, admin = false, false
	}
	claims := &Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.cfg.Issuer,
			Subject:   strconv.FormatInt(userID, 10),
			Audience:  jwt.ClaimStrings{t.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		Type:      typ,
		SessionID: sessionID,
		Fresh:     fresh,
		Admin:     admin,
	}
	token := jwt.NewWithClaims(t.cfg.Keys.Method(), claims)
	kid, key := t.cfg.Keys.Signing()
	if kid != "" {
		token.Header["kid"] = kid
	}
	signed, err := token.SignedString(key)
	if err != nil {
		return Issued{}, err
	}
	return Issued{Token: signed, ID: jti, ExpiresAt: claims.ExpiresAt.Time}, nil
}

// JWKS is the JSON Web Key Set of the keys that verify access tokens, for other services.
func (t *Tokens) JWKS() []byte { return t.cfg.Keys.JWKS() }

// Expired reports whether claims verified earlier have expired: from their exp on, without leeway.
func (t *Tokens) Expired(c *Claims, now time.Time) bool {
	return !now.Before(c.ExpiresAt.Time)
}

// Parse verifies raw and returns its claims if it is a valid token of type want. Failures are
// ErrTokenExpired or a TOKEN_INVALID *Error; nothing about the key leaks into the message.
func (t *Tokens) Parse(raw string, want TokenType) (*Claims, error) {
	if len(raw) > MaxTokenBytes {
		return nil, tokenInvalid("the token is too long")
	}
	claims := new(Claims)
	_, err := t.parser.ParseWithClaims(raw, claims, func(token *jwt.Token) (any, error) {
		// jku, jwk and x5u are ignored on purpose: the key is always one of ours, never one the
		// token brings. kid only chooses among ours (and is ignored for a shared secret).
		kid, _ := token.Header["kid"].(string)
		return t.cfg.Keys.Verifying(kid)
	})
	// The library checks the signature before the claims, so on a claims error (expired, not yet
	// valid) the claims are ours and the type can be told first: an expired token of the wrong type
	// must not invite the client to refresh.
	signed := err == nil || errors.Is(err, jwt.ErrTokenInvalidClaims)
	wrongType := (claims.Type == AccessToken || claims.Type == RefreshToken) && claims.Type != want
	switch {
	case signed && wrongType:
		if want == AccessToken {
			return nil, tokenInvalid("a refresh token cannot be used as an access token")
		}
		return nil, tokenInvalid("an access token cannot be used as a refresh token")
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, ErrTokenExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return nil, tokenInvalid("the token is not valid yet")
	case err != nil:
		return nil, ErrTokenInvalid
	case t.Expired(claims, time.Now()):
		// The parser's leeway (for nbf and iat) also applied to exp; exp is exact.
		return nil, ErrTokenExpired
	}
	return claims, nil
}

// newSessionID returns a session ID: 63 random bits as a decimal string, so that it is also a
// GraphQL ID the schema's ID arguments (int64) accept, as revokeSession needs. The ID is not a secret
// (tokens carry it signed), and with 63 bits a collision among a million sessions has a chance of
// about one in 18 million (and would fail that login's insert, not mix sessions up).
func newSessionID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return strconv.FormatUint(max(binary.BigEndian.Uint64(b[:])>>1, 1), 10)
}

// randomID returns 128 random bits, URL-safe: for session IDs and jti.
func randomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
