package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
)

const meQuery = `{ me { id email isAdmin } }`

// assertAuthError checks a response failed with the given extensions.code and reason.
func assertAuthError(t *testing.T, r *apptest.Response, code, reason string) {
	t.Helper()
	if r.Code() != code || r.Reason() != reason {
		t.Fatalf("want %s/%s, got %s", code, reason, r)
	}
}

func TestTokenRequiredReasons(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	user, tok := c.User("ann@example.com")

	tests := []struct {
		name   string
		client *apptest.Client
		code   string
		reason string
	}{
		{"no token", c, "UNAUTHENTICATED", "TOKEN_MISSING"},
		{"garbage token", c.WithToken("not-a-jwt"), "UNAUTHENTICATED", "TOKEN_INVALID"},
		{"tampered signature", c.WithToken(tok.AccessToken[:len(tok.AccessToken)-2] + "xx"), "UNAUTHENTICATED", "TOKEN_INVALID"},
		{"refresh token as access token", c.WithToken(tok.RefreshToken), "UNAUTHENTICATED", "TOKEN_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertAuthError(t, tt.client.Do(meQuery, nil), tt.code, tt.reason)
		})
	}
	user.MustDo(meQuery, nil, nil)
}

func TestAccessTokenExpires(t *testing.T) {
	s := apptest.New(t, func(c *app.Config) { c.AccessTokenTTL = time.Second })
	user, tok := s.Client().User("ann@example.com")
	user.MustDo(meQuery, nil, nil)
	time.Sleep(2100 * time.Millisecond)
	assertAuthError(t, user.Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_EXPIRED")
	// A present but expired token is an error on the public listing too, so clients know to refresh.
	assertAuthError(t, user.Do(`{ products { detailed } }`, nil), "UNAUTHENTICATED", "TOKEN_EXPIRED")

	// The refresh token still works and yields a working (non-fresh) access token.
	fresh := refresh(t, s.Client(), tok.RefreshToken)
	s.Client().WithToken(fresh.AccessToken).MustDo(meQuery, nil, nil)
}

func TestRefreshTokenExpires(t *testing.T) {
	s := apptest.New(t, func(c *app.Config) { c.RefreshTokenTTL = time.Second })
	_, tok := s.Client().User("ann@example.com")
	time.Sleep(2100 * time.Millisecond)
	assertAuthError(t, refreshResponse(s.Client(), tok.RefreshToken), "UNAUTHENTICATED", "TOKEN_EXPIRED")
}

const refreshMutation = `mutation($t: String) { refreshToken(token: $t) { accessToken refreshToken user { id isAdmin } } }`

func refreshResponse(c *apptest.Client, token string) *apptest.Response {
	return c.Do(refreshMutation, map[string]any{"t": token})
}

func refresh(t *testing.T, c *apptest.Client, token string) apptest.Tokens {
	t.Helper()
	var out struct{ RefreshToken apptest.Tokens }
	c.MustDo(refreshMutation, map[string]any{"t": token}, &out)
	return out.RefreshToken
}

func TestRefreshRotatesAndDetectsReuse(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	_, first := c.User("ann@example.com")

	second := refresh(t, c, first.RefreshToken)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh must issue new tokens")
	}
	c.WithToken(second.AccessToken).MustDo(meQuery, nil, nil)

	// Refreshed access tokens are not fresh.
	assertAuthError(t, c.WithToken(second.AccessToken).Do(`mutation { createCategory(name: "Tools") { id } }`, nil),
		"UNAUTHENTICATED", "FRESH_TOKEN_REQUIRED")

	// The refresh token from the header works like the argument.
	var out struct{ RefreshToken apptest.Tokens }
	r := c.WithToken(second.RefreshToken).Do(`mutation { refreshToken { accessToken refreshToken } }`, nil)
	if err := r.Decode(&out); err != nil || len(r.Errors) > 0 {
		t.Fatalf("refresh from header: %s", r)
	}
	latest := out.RefreshToken

	// Reusing an already-rotated refresh token is theft: it fails and revokes the whole session.
	assertAuthError(t, refreshResponse(c, first.RefreshToken), "UNAUTHENTICATED", "TOKEN_REVOKED")
	assertAuthError(t, refreshResponse(c, latest.RefreshToken), "UNAUTHENTICATED", "TOKEN_REVOKED")
	assertAuthError(t, c.WithToken(latest.AccessToken).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
	assertAuthError(t, c.WithToken(first.AccessToken).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")

	// Another session of the same user is unaffected.
	other := c.Login("ann@example.com", "password-ann@example.com")
	c.WithToken(other.AccessToken).MustDo(meQuery, nil, nil)
}

func TestRefreshRejectsWrongTokens(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	_, tok := c.User("ann@example.com")
	assertAuthError(t, refreshResponse(c, tok.AccessToken), "UNAUTHENTICATED", "TOKEN_INVALID")
	assertAuthError(t, refreshResponse(c, "garbage"), "UNAUTHENTICATED", "TOKEN_INVALID")
	assertAuthError(t, c.Do(`mutation { refreshToken { accessToken } }`, nil), "UNAUTHENTICATED", "TOKEN_MISSING")
}

// TestConcurrentRefreshWithoutGraceSucceedsAtMostOnce: with REFRESH_REUSE_INTERVAL=0 a refresh
// token works exactly once, however many requests race with it.
func TestConcurrentRefreshWithoutGraceSucceedsAtMostOnce(t *testing.T) {
	s := apptest.New(t, func(c *app.Config) { c.RefreshReuseInterval = 0 })
	c := s.Client()
	_, tok := c.User("ann@example.com")
	const n = 8
	results := make(chan *apptest.Response, n)
	for range n {
		go func() { results <- refreshResponse(c, tok.RefreshToken) }()
	}
	ok := 0
	for range n {
		r := <-results
		switch {
		case len(r.Errors) == 0:
			ok++
		case r.Reason() != "TOKEN_REVOKED":
			t.Errorf("unexpected failure: %s", r)
		}
	}
	if ok > 1 {
		t.Fatalf("%d refreshes succeeded with one refresh token; at most one may", ok)
	}
}

func TestLogoutRevokesAccessAndRefreshTokens(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	user, tok := c.User("ann@example.com")
	var out struct{ Logout bool }
	user.MustDo(`mutation { logout }`, nil, &out)
	if !out.Logout {
		t.Fatal("logout returned false")
	}
	assertAuthError(t, user.Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
	assertAuthError(t, refreshResponse(c, tok.RefreshToken), "UNAUTHENTICATED", "TOKEN_REVOKED")
	assertAuthError(t, user.Do(`mutation { logout }`, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
	assertAuthError(t, user.Do(`{ products { detailed } }`, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
}

func TestRevocationAndSecretSurviveRestart(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	loggedOut, _ := c.User("ann@example.com")
	loggedOut.MustDo(`mutation { logout }`, nil, nil)
	kept, keptTok := c.User("bob@example.com")
	kept.MustDo(meQuery, nil, nil)

	s = s.Restart()
	c = s.Client()
	// The generated signing secret is kept in the database, so live tokens keep working...
	c.WithToken(keptTok.AccessToken).MustDo(meQuery, nil, nil)
	refresh(t, c, keptTok.RefreshToken)
	// ...and revocations are persisted, so revoked ones stay revoked.
	assertAuthError(t, c.WithToken(loggedOut.Token).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
}

func TestFreshTokenRequired(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	user, tok := c.User("ann@example.com")
	user.MustDo(`mutation { createCategory(name: "Tools") { id } }`, nil, nil)
	stale := c.WithToken(refresh(t, c, tok.RefreshToken).AccessToken)
	assertAuthError(t, stale.Do(`mutation { createCategory(name: "Garden") { id } }`, nil), "UNAUTHENTICATED", "FRESH_TOKEN_REQUIRED")
	// @auth fields accept the non-fresh token.
	stale.MustDo(`mutation { renameCategory(name: "Tools", newName: "Hand tools") { name } }`, nil, nil)
}

// TestRevocationOutlivesEveryAccessToken: a session's revocation is remembered until the last of its
// access tokens expires, even when a refresh issued one that expires sooner than an earlier one
// (here ACCESS_TOKEN_TTL is lowered across a restart; clock skew between instances does the same).
func TestRevocationOutlivesEveryAccessToken(t *testing.T) {
	t.Parallel()
	s := apptest.New(t, func(c *app.Config) {
		c.AccessTokenTTL = time.Hour
		c.RevocationSyncInterval = 200 * time.Millisecond
	})
	_, login := s.Client().User("ann@example.com") // an access token good for an hour
	s.Config.AccessTokenTTL = 2 * time.Second
	s = s.Restart()
	c := s.Client()

	refreshed := refresh(t, c, login.RefreshToken) // good for 2 s
	c.WithToken(refreshed.AccessToken).MustDo(`mutation { logout }`, nil, nil)
	assertAuthError(t, c.WithToken(login.AccessToken).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
	time.Sleep(3500 * time.Millisecond) // the refreshed token has expired and resyncs have pruned
	assertAuthError(t, c.WithToken(login.AccessToken).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
}

// TestRefreshTokenHeaderReasons: refreshToken without an argument reads the Authorization header,
// and a malformed one is TOKEN_INVALID there as everywhere, not TOKEN_MISSING.
func TestRefreshTokenHeaderReasons(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	_, tok := c.User("ann@example.com")
	body := []byte(`{"query":"mutation { refreshToken { accessToken } }"}`)
	tests := []struct {
		name   string
		header http.Header
		reason string
	}{
		{"none", nil, "TOKEN_MISSING"},
		{"basic scheme", http.Header{"Authorization": {"Basic " + tok.RefreshToken}}, "TOKEN_INVALID"},
		{"doubled bearer", http.Header{"Authorization": {"Bearer Bearer " + tok.RefreshToken}}, "TOKEN_INVALID"},
		{"two headers", http.Header{"Authorization": {"Bearer " + tok.RefreshToken, "Bearer " + tok.RefreshToken}}, "TOKEN_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertAuthError(t, c.Post(body, tt.header), "UNAUTHENTICATED", tt.reason)
		})
	}
}

// TestRefreshSlidesTheSession: a refresh token works until its own exp, which a refresh sets a full
// REFRESH_TOKEN_TTL ahead: the session lasts as long as it keeps being refreshed in time.
func TestRefreshSlidesTheSession(t *testing.T) {
	t.Parallel()
	// Token times are whole seconds: the margins below are a second either way.
	s := apptest.New(t, func(c *app.Config) { c.RefreshTokenTTL = 6 * time.Second })
	c := s.Client()
	_, tok := c.User("ann@example.com") // refresh token good until login + 6 s
	time.Sleep(3 * time.Second)
	second := refresh(t, c, tok.RefreshToken) // good until login + 8 s at least
	time.Sleep(4 * time.Second)               // login + 7 s: past the first, within the second
	third := refresh(t, c, second.RefreshToken)
	c.WithToken(third.AccessToken).MustDo(meQuery, nil, nil)
}

// TestExpiredTokenOfTheWrongType: a token of the wrong type is TOKEN_INVALID even once expired;
// TOKEN_EXPIRED would invite the client to refresh with it.
func TestExpiredTokenOfTheWrongType(t *testing.T) {
	t.Parallel()
	s := apptest.New(t, func(c *app.Config) { c.AccessTokenTTL = time.Second; c.RefreshTokenTTL = time.Second })
	c := s.Client()
	_, tok := c.User("ann@example.com")
	time.Sleep(2100 * time.Millisecond)
	assertAuthError(t, refreshResponse(c, tok.AccessToken), "UNAUTHENTICATED", "TOKEN_INVALID")
	assertAuthError(t, c.WithToken(tok.RefreshToken).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_INVALID")
	assertAuthError(t, refreshResponse(c, tok.RefreshToken), "UNAUTHENTICATED", "TOKEN_EXPIRED")
}

// TestCreatingNeedsAFreshToken: whatever mutation creates a product or category needs a fresh
// token, upsertProduct included when the name is new; replacing an existing product needs only
// @auth. The table must name every mutation that can create (create…, upsert…), so that a new one
// cannot slip past the rule unnoticed.
func TestCreatingNeedsAFreshToken(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	fresh, tok := c.User("ann@example.com")
	stale := c.WithToken(refresh(t, c, tok.RefreshToken).AccessToken)
	var cat struct{ CreateCategory struct{ ID string } }
	fresh.MustDo(`mutation { createCategory(name: "Tools") { id } }`, nil, &cat)
	in := map[string]any{"description": "d", "price": 1.0, "quantity": 1.0, "categoryId": cat.CreateCategory.ID}
	vars := map[string]any{"in": in}

	type creator struct{ doc, lookup string }
	creators := map[string]creator{
		"createCategory": {`mutation { createCategory(name: "Garden") { id } }`, `{ x: category(name: "Garden") { id } }`},
		"createProduct":  {`mutation($in: ProductInput!) { createProduct(name: "Saw", input: $in) { id } }`, `{ x: product(name: "Saw") { id } }`},
		"upsertProduct":  {`mutation($in: ProductInput!) { upsertProduct(name: "Hammer", input: $in) { id } }`, `{ x: product(name: "Hammer") { id } }`},
	}
	var schema struct {
		Schema struct {
			MutationType struct{ Fields []struct{ Name string } }
		} `json:"__schema"`
	}
	c.MustDo(`{ __schema { mutationType { fields { name } } } }`, nil, &schema)
	for _, f := range schema.Schema.MutationType.Fields {
		if _, ok := creators[f.Name]; !ok && (strings.HasPrefix(f.Name, "create") || strings.HasPrefix(f.Name, "upsert")) {
			t.Errorf("mutation %s can create: add it to this test (and make it need a fresh token)", f.Name)
		}
	}

	for name, m := range creators {
		exists := func() bool {
			var out struct{ X *struct{ ID string } }
			fresh.MustDo(m.lookup, nil, &out)
			return out.X != nil
		}
		assertAuthError(t, stale.Do(m.doc, vars), "UNAUTHENTICATED", "FRESH_TOKEN_REQUIRED")
		if exists() {
			t.Errorf("%s with a refreshed token was refused but created it all the same", name)
		}
		if r := fresh.Do(m.doc, vars); len(r.Errors) > 0 {
			t.Errorf("%s with a fresh token: %s", name, r)
		}
		if !exists() {
			t.Errorf("%s with a fresh token created nothing", name)
		}
	}

	// Replacing an existing product is an update: @auth is enough.
	in["description"] = "replaced by a refreshed token"
	stale.MustDo(`mutation($in: ProductInput!) { upsertProduct(name: "Hammer", input: $in) { id } }`, vars, nil)
	var got struct{ Hammer struct{ Description string } }
	fresh.MustDo(`{ Hammer: product(name: "Hammer") { description } }`, nil, &got)
	if got.Hammer.Description != "replaced by a refreshed token" {
		t.Errorf("update via upsert with a refreshed token: description %q", got.Hammer.Description)
	}
}
