package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
	"github.com/shopql/shopql/auth"
)

// refreshAll sends one refresh with token through each client at the same moment and returns the
// responses.
func refreshAll(clients []*apptest.Client, token string) []*apptest.Response {
	out := make([]*apptest.Response, len(clients))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			<-start
			out[i] = refreshResponse(c, token)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// assertOneSuccessor checks that every response succeeded with the same new refresh token and an
// access token that works, and that the session goes on: the successor refreshes again.
func assertOneSuccessor(t *testing.T, responses []*apptest.Response, used string, check *apptest.Client) {
	t.Helper()
	var successor string
	for i, r := range responses {
		var out struct{ RefreshToken apptest.Tokens }
		if err := r.Decode(&out); err != nil || len(r.Errors) > 0 {
			t.Fatalf("refresh %d of %d failed: %s", i+1, len(responses), r)
		}
		if successor == "" {
			successor = out.RefreshToken.RefreshToken
		}
		if out.RefreshToken.RefreshToken != successor {
			t.Fatalf("refresh %d got another successor:\n%s\n%s", i+1, out.RefreshToken.RefreshToken, successor)
		}
		check.WithToken(out.RefreshToken.AccessToken).MustDo(meQuery, nil, nil)
	}
	if successor == used {
		t.Fatal("the successor is the token consumed")
	}
	next := refresh(t, check, successor)
	check.WithToken(next.AccessToken).MustDo(meQuery, nil, nil)
}

// TestConcurrentRefreshesShareOneSuccessor: two tabs (here eight) refresh with one refresh token at
// once: all succeed with the same new refresh token and the session lives on.
func TestConcurrentRefreshesShareOneSuccessor(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	_, tok := c.User("ann@example.com")
	clients := make([]*apptest.Client, 8)
	for i := range clients {
		clients[i] = s.Client()
	}
	assertOneSuccessor(t, refreshAll(clients, tok.RefreshToken), tok.RefreshToken, c)
}

// TestConcurrentRefreshesAcrossInstances: the same through two instances sharing the database.
func TestConcurrentRefreshesAcrossInstances(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.RevocationSyncInterval = time.Hour
	nodes := startInstances(t, cfg, 2)
	_, tok := nodes[0].Client().User("ann@example.com")
	var clients []*apptest.Client
	for i := range 8 {
		clients = append(clients, nodes[i%2].Client())
	}
	assertOneSuccessor(t, refreshAll(clients, tok.RefreshToken), tok.RefreshToken, nodes[1].Client())
}

// TestRefreshRetriedAfterLostResponse: a client whose refresh response was lost retries with the same
// token and gets the tokens it missed; it goes on with them, and the first token stays consumed.
func TestRefreshRetriedAfterLostResponse(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	_, first := c.User("ann@example.com")
	lost := refresh(t, c, first.RefreshToken) // the response that never arrived
	retried := refresh(t, c, first.RefreshToken)
	if retried.RefreshToken != lost.RefreshToken {
		t.Fatal("the retry got another refresh token than the lost response carried")
	}
	if retried.AccessToken == lost.AccessToken {
		t.Fatal("the retry must get an access token of its own")
	}
	c.WithToken(retried.AccessToken).MustDo(meQuery, nil, nil)
	third := refresh(t, c, retried.RefreshToken)
	c.WithToken(third.AccessToken).MustDo(meQuery, nil, nil)
	// Two rotations on, the first token is older than the one the latest rotation consumed: reuse.
	assertAuthError(t, refreshResponse(c, first.RefreshToken), "UNAUTHENTICATED", "TOKEN_REVOKED")
	assertAuthError(t, c.WithToken(third.AccessToken).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
}

// TestRefreshReuseAfterInterval: past REFRESH_REUSE_INTERVAL the consumed token is reuse and ends
// the session, successor and all.
func TestRefreshReuseAfterInterval(t *testing.T) {
	t.Parallel()
	s := apptest.New(t, func(c *app.Config) { c.RefreshReuseInterval = time.Second })
	c := s.Client()
	_, first := c.User("ann@example.com")
	second := refresh(t, c, first.RefreshToken)
	time.Sleep(1500 * time.Millisecond) // past the interval
	assertAuthError(t, refreshResponse(c, first.RefreshToken), "UNAUTHENTICATED", "TOKEN_REVOKED")
	assertAuthError(t, refreshResponse(c, second.RefreshToken), "UNAUTHENTICATED", "TOKEN_REVOKED")
	assertAuthError(t, c.WithToken(second.AccessToken).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
}

// TestAccessTokenExpiresExactly: JWT_LEEWAY tolerates clock skew for nbf and iat, never past exp.
func TestAccessTokenExpiresExactly(t *testing.T) {
	s := apptest.New(t, withAttackSecret, func(c *app.Config) { c.JWTLeeway = 5 * time.Second })
	c := s.Client()
	_, tok := c.User("ann@example.com")
	good := with(validClaims(tok.User.ID), "sid", claimsOf(t, tok.AccessToken)["sid"])
	hs := map[string]any{"alg": "HS256", "typ": "JWT"}
	key := []byte(attackSecret)
	now := time.Now()
	past := with(good, "exp", now.Add(-time.Second).Unix(), "iat", now.Add(-time.Minute).Unix(), "nbf", now.Add(-time.Minute).Unix())
	assertAuthError(t, c.WithToken(mint(t, hs, past, key)).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_EXPIRED")
	// The leeway still covers an issuer whose clock is ahead.
	ahead := with(good, "iat", now.Add(3*time.Second).Unix(), "nbf", now.Add(3*time.Second).Unix())
	c.WithToken(mint(t, hs, ahead, key)).MustDo(meQuery, nil, nil)
}

// TestVerifiedTokenExpiresExactly: a token verified (and remembered) before its exp is refused from
// its exp on, whatever the leeway.
func TestVerifiedTokenExpiresExactly(t *testing.T) {
	t.Parallel()
	s := apptest.New(t, func(c *app.Config) { c.AccessTokenTTL = time.Second; c.JWTLeeway = 5 * time.Second })
	c := s.Client()
	var out struct {
		Login struct {
			AccessToken          string
			AccessTokenExpiresAt time.Time
		}
	}
	c.Register("ann@example.com", "password-ann")
	c.MustDo(`mutation { login(email: "ann@example.com", password: "password-ann") { accessToken accessTokenExpiresAt } }`, nil, &out)
	user := c.WithToken(out.Login.AccessToken)
	user.MustDo(meQuery, nil, nil)
	time.Sleep(time.Until(out.Login.AccessTokenExpiresAt) + 100*time.Millisecond)
	assertAuthError(t, user.Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_EXPIRED")
}

const sessionFields = `id createdAt lastUsedAt expiresAt userAgent ipAddress current`

type session struct {
	ID         string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
	UserAgent  *string
	IPAddress  *string
	Current    bool
}

func mySessions(t *testing.T, c *apptest.Client) []session {
	t.Helper()
	var out struct{ MySessions []session }
	c.MustDo(`{ mySessions { `+sessionFields+` } }`, nil, &out)
	return out.MySessions
}

// loginWith logs in sending extra headers.
func loginWith(t *testing.T, c *apptest.Client, email, password string, h http.Header) apptest.Tokens {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken user { id } } }`,
		"variables": map[string]any{"e": email, "p": password}})
	r := c.Post(body, h)
	var out struct{ Login apptest.Tokens }
	if err := r.Decode(&out); err != nil || len(r.Errors) > 0 {
		t.Fatalf("login: %s", r)
	}
	return out.Login
}

// TestMySessions: the caller's live sessions, newest first, with what their logins sent.
func TestMySessions(t *testing.T) {
	s := apptest.New(t, func(c *app.Config) { c.TrustedProxies = parsed(t, app.ParseTrustedProxies, "127.0.0.1/32,::1/128") })
	c := s.Client()
	c.Register("ann@example.com", "password-ann")
	long := strings.Repeat("é", 300)
	phone := loginWith(t, c, "ann@example.com", "password-ann", http.Header{"User-Agent": {"Phone/1.0"}, "X-Forwarded-For": {"198.51.100.7"}})
	laptop := loginWith(t, c, "ann@example.com", "password-ann", http.Header{"User-Agent": {long}, "X-Forwarded-For": {"203.0.113.9, 2001:db8::1"}})
	ended := loginWith(t, c, "ann@example.com", "password-ann", nil)
	c.WithToken(ended.AccessToken).MustDo(`mutation { logout }`, nil, nil)

	got := mySessions(t, c.WithToken(laptop.AccessToken))
	if len(got) != 2 {
		t.Fatalf("want the 2 live sessions, got %+v", got)
	}
	newest, oldest := got[0], got[1]
	if !newest.Current || oldest.Current {
		t.Fatalf("current should mark the laptop's session only: %+v", got)
	}
	if newest.UserAgent == nil || *newest.UserAgent != strings.Repeat("é", 256) {
		t.Fatalf("user agent should be cut to 256 characters, got %v", newest.UserAgent)
	}
	if newest.IPAddress == nil || *newest.IPAddress != "2001:db8::1" || oldest.IPAddress == nil || *oldest.IPAddress != "198.51.100.7" {
		t.Fatalf("addresses: %v %v", newest.IPAddress, oldest.IPAddress)
	}
	if *oldest.UserAgent != "Phone/1.0" || newest.CreatedAt.Before(oldest.CreatedAt) || !oldest.ExpiresAt.After(oldest.CreatedAt) {
		t.Fatalf("sessions: %+v", got)
	}
	if claimsOf(t, phone.AccessToken)["sid"] != oldest.ID {
		t.Fatal("Session.id should be the tokens' sid")
	}

	// A refresh moves lastUsedAt (timestamps: a refresh a second later is visibly later).
	time.Sleep(1100 * time.Millisecond)
	refresh(t, c, phone.RefreshToken)
	after := mySessions(t, c.WithToken(laptop.AccessToken))
	if !after[1].LastUsedAt.After(oldest.LastUsedAt) || !after[1].ExpiresAt.After(oldest.ExpiresAt) {
		t.Fatalf("refresh should move lastUsedAt and expiresAt: before %+v after %+v", oldest, after[1])
	}

	// Without trusted proxies, X-Forwarded-For is not believed.
	s2 := apptest.New(t)
	c2 := s2.Client()
	c2.Register("bob@example.com", "password-bob")
	bob := loginWith(t, c2, "bob@example.com", "password-bob", http.Header{"X-Forwarded-For": {"198.51.100.7"}})
	if got := mySessions(t, c2.WithToken(bob.AccessToken)); *got[0].IPAddress != "127.0.0.1" {
		t.Fatalf("forwarded address believed from an untrusted peer: %v", *got[0].IPAddress)
	}
}

// TestLogoutScopes: CURRENT (the default), OTHERS and ALL.
func TestLogoutScopes(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	c.Register("ann@example.com", "password-ann")
	login := func() apptest.Tokens { return c.Login("ann@example.com", "password-ann") }
	works := func(tok apptest.Tokens) { t.Helper(); c.WithToken(tok.AccessToken).MustDo(meQuery, nil, nil) }
	revoked := func(tok apptest.Tokens) {
		t.Helper()
		assertAuthError(t, c.WithToken(tok.AccessToken).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
		assertAuthError(t, refreshResponse(c, tok.RefreshToken), "UNAUTHENTICATED", "TOKEN_REVOKED")
	}
	bob, _ := c.User("bob@example.com")

	a, b, d := login(), login(), login()
	c.WithToken(a.AccessToken).MustDo(`mutation { logout(scope: OTHERS) }`, nil, nil)
	works(a)
	revoked(b)
	revoked(d)

	e := login()
	c.WithToken(a.AccessToken).MustDo(`mutation { logout(scope: CURRENT) }`, nil, nil)
	revoked(a)
	works(e)
	f := login()
	c.WithToken(e.AccessToken).MustDo(`mutation { logout }`, nil, nil)
	revoked(e)
	works(f)

	g := login()
	c.WithToken(f.AccessToken).MustDo(`mutation { logout(scope: ALL) }`, nil, nil)
	revoked(f)
	revoked(g)
	bob.MustDo(meQuery, nil, nil) // another account is untouched

	// Every revocation is persisted.
	s = s.Restart()
	c = s.Client()
	revoked(b)
	revoked(g)
}

// TestRevokeSession: one's own session, any for an admin; anyone else's is NOT_FOUND exactly like
// one that does not exist.
func TestRevokeSession(t *testing.T) {
	s := apptest.New(t, apptest.WithAdmin)
	c := s.Client()
	admin, _ := c.Admin()
	ann, annTok := c.User("ann@example.com")
	bob, bobTok := c.User("bob@example.com")
	annOther := c.Login("ann@example.com", "password-ann@example.com")
	sid := func(tok apptest.Tokens) string { return claimsOf(t, tok.AccessToken)["sid"].(string) }
	revoke := `mutation($id: ID!) { revokeSession(id: $id) }`

	theirs := bob.Do(revoke, map[string]any{"id": sid(annOther)})
	absent := bob.Do(revoke, map[string]any{"id": "12345"})
	if theirs.Code() != "NOT_FOUND" || absent.Code() != "NOT_FOUND" || theirs.Errors[0].Message != absent.Errors[0].Message {
		t.Fatalf("another's session must look absent: %s vs %s", theirs, absent)
	}
	c.WithToken(annOther.AccessToken).MustDo(meQuery, nil, nil)

	ann.MustDo(revoke, map[string]any{"id": sid(annOther)}, nil)
	assertAuthError(t, c.WithToken(annOther.AccessToken).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
	ann.MustDo(meQuery, nil, nil)
	if got := mySessions(t, ann); len(got) != 1 || got[0].ID != sid(annTok) {
		t.Fatalf("sessions after revoking one: %+v", got)
	}

	admin.MustDo(revoke, map[string]any{"id": sid(bobTok)}, nil)
	assertAuthError(t, bob.Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")

	s = s.Restart()
	assertAuthError(t, s.Client().WithToken(annOther.AccessToken).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
}

// TestUserSessionsAndRevokeUserSessions: admin-only listing and ending of an account's sessions.
func TestUserSessionsAndRevokeUserSessions(t *testing.T) {
	s := apptest.New(t, apptest.WithAdmin)
	c := s.Client()
	admin, _ := c.Admin()
	ann, tok := c.User("ann@example.com")
	c.Login("ann@example.com", "password-ann@example.com")

	list := `query($id: ID!) { userSessions(userId: $id) { ` + sessionFields + ` } }`
	assertAuthError(t, ann.Do(list, map[string]any{"id": tok.User.ID}), "FORBIDDEN", "ADMIN_REQUIRED")
	assertAuthError(t, ann.Do(`mutation($id: ID!) { revokeUserSessions(userId: $id) }`, map[string]any{"id": tok.User.ID}), "FORBIDDEN", "ADMIN_REQUIRED")
	var out struct{ UserSessions []session }
	admin.MustDo(list, map[string]any{"id": tok.User.ID}, &out)
	if len(out.UserSessions) != 2 || out.UserSessions[0].Current || out.UserSessions[1].Current {
		t.Fatalf("userSessions: %+v", out.UserSessions)
	}
	if r := admin.Do(list, map[string]any{"id": "999"}); r.Code() != "NOT_FOUND" {
		t.Fatalf("unknown account: %s", r)
	}

	var n struct{ RevokeUserSessions int }
	admin.MustDo(`mutation($id: ID!) { revokeUserSessions(userId: $id) }`, map[string]any{"id": tok.User.ID}, &n)
	if n.RevokeUserSessions != 2 {
		t.Fatalf("revoked %d sessions, want 2", n.RevokeUserSessions)
	}
	assertAuthError(t, ann.Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
	admin.MustDo(`mutation($id: ID!) { revokeUserSessions(userId: $id) }`, map[string]any{"id": tok.User.ID}, &n)
	if n.RevokeUserSessions != 0 {
		t.Fatalf("revoked %d sessions again", n.RevokeUserSessions)
	}
	admin.MustDo(meQuery, nil, nil)
}

const changePassword = `mutation($cur: String!, $new: String!) { changePassword(currentPassword: $cur, newPassword: $new) }`

// TestChangePassword: @fresh, the current password checked like login, the rules applied, every
// other session ended and this one kept.
func TestChangePassword(t *testing.T) {
	s := apptest.New(t, func(c *app.Config) { c.LoginLimitPerAccount = auth.Rate{Burst: 3, Per: time.Hour} })
	c := s.Client()
	user, tok := c.User("ann@example.com")
	other := c.Login("ann@example.com", "password-ann@example.com")
	vars := func(cur, next string) map[string]any { return map[string]any{"cur": cur, "new": next} }

	stale := c.WithToken(refresh(t, c, other.RefreshToken).AccessToken)
	assertAuthError(t, stale.Do(changePassword, vars("password-ann@example.com", "a new password")), "UNAUTHENTICATED", "FRESH_TOKEN_REQUIRED")
	assertAuthError(t, user.Do(changePassword, vars("wrong password", "a new password")), "UNAUTHENTICATED", "INVALID_CREDENTIALS")
	if r := user.Do(changePassword, vars("password-ann@example.com", "short")); r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("short new password: %s", r)
	}
	stale.MustDo(meQuery, nil, nil) // nothing changed yet

	user.MustDo(changePassword, vars("password-ann@example.com", "a new password"), nil)
	user.MustDo(meQuery, nil, nil)
	refresh(t, c, tok.RefreshToken)
	assertAuthError(t, stale.Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
	if r := c.Do(`mutation { login(email: "ann@example.com", password: "password-ann@example.com") { accessToken } }`, nil); r.Reason() != "INVALID_CREDENTIALS" {
		t.Fatalf("old password: %s", r)
	}
	c.Login("ann@example.com", "a new password")

	// Wrong current passwords spend the account's login budget (3 here; one spent above, one by
	// the failed login): the next is throttled like a login.
	assertAuthError(t, user.Do(changePassword, vars("wrong again", "another password")), "UNAUTHENTICATED", "INVALID_CREDENTIALS")
	if r := user.Do(changePassword, vars("wrong again", "another password")); r.Code() != "TOO_MANY_REQUESTS" {
		t.Fatalf("want throttled, got %s", r)
	}
}

// TestLoginRehashesWeakerHash: once the configured argon2id cost is raised, a login replaces a
// hash made with less; the password keeps working.
func TestLoginRehashesWeakerHash(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	c.Register("ann@example.com", "password-ann")
	hash := func() string {
		var h string
		if err := s.App.DB.NewRaw(`SELECT password_hash FROM users WHERE email = 'ann@example.com'`).Scan(context.Background(), &h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	if !strings.Contains(hash(), "m=64,t=1,") {
		t.Fatalf("unexpected hash %s", hash())
	}
	s.Config.PasswordHashMemoryKiB = 128
	s = s.Restart()
	c = s.Client()
	c.Login("ann@example.com", "password-ann")
	if got := hash(); !strings.Contains(got, "m=128,t=1,") {
		t.Fatalf("hash not upgraded: %s", got)
	}
	c.Login("ann@example.com", "password-ann")

	// A hash stronger in one respect is kept (no downgrade of its memory).
	s.Config.PasswordHashMemoryKiB, s.Config.PasswordHashIterations = 64, 2
	s = s.Restart()
	s.Client().Login("ann@example.com", "password-ann")
	if got := hash(); !strings.Contains(got, "m=128,t=1,") {
		t.Fatalf("hash changed to %s", got)
	}
}

// TestDeploymentsSharingSecretRefuseEachOthersTokens: two deployments (two databases) with one
// JWT_SECRET: a user of one is not signed in to the other as whoever has that ID there.
func TestDeploymentsSharingSecretRefuseEachOthersTokens(t *testing.T) {
	staging := apptest.New(t, withAttackSecret)
	production := apptest.New(t, withAttackSecret)
	_, stagingTok := staging.Client().User("ann@example.com")
	prod, prodTok := production.Client().User("bob@example.com") // user 1 there too
	if stagingTok.User.ID != prodTok.User.ID {
		t.Fatalf("the test wants the same user ID in both: %s %s", stagingTok.User.ID, prodTok.User.ID)
	}
	p := production.Client()
	assertAuthError(t, p.WithToken(stagingTok.AccessToken).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_INVALID")
	assertAuthError(t, refreshResponse(p, stagingTok.RefreshToken), "UNAUTHENTICATED", "TOKEN_INVALID")
	assertAuthError(t, staging.Client().WithToken(prodTok.AccessToken).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_INVALID")
	prod.MustDo(meQuery, nil, nil) // and the refused tokens harmed nothing
	refresh(t, p, prodTok.RefreshToken)
	refresh(t, staging.Client(), stagingTok.RefreshToken)
}

// TestForgedRefreshTokens: with the key, a refresh token of an invented session or of another user's
// session is TOKEN_INVALID and ends nothing.
func TestForgedRefreshTokens(t *testing.T) {
	s := apptest.New(t, withAttackSecret)
	c := s.Client()
	_, ann := c.User("ann@example.com")
	bob, _ := c.User("bob@example.com")
	hs := map[string]any{"alg": "HS256", "typ": "JWT"}
	claims := with(claimsOf(t, ann.RefreshToken), "sub", "2")
	assertAuthError(t, refreshResponse(c, mint(t, hs, claims, []byte(attackSecret))), "UNAUTHENTICATED", "TOKEN_INVALID")
	invented := with(claimsOf(t, ann.RefreshToken), "sid", "31337")
	assertAuthError(t, refreshResponse(c, mint(t, hs, invented, []byte(attackSecret))), "UNAUTHENTICATED", "TOKEN_INVALID")
	bob.MustDo(meQuery, nil, nil)
	refresh(t, c, ann.RefreshToken)
}

// TestLoginOnOneInstanceUsedAtOnceOnAnother: the other instance has not heard of the session yet
// (SQLite: no announcements, and the resync is an hour away here) and looks it up once.
func TestLoginOnOneInstanceUsedAtOnceOnAnother(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.RevocationSyncInterval = time.Hour
	nodes := startInstances(t, cfg, 2)
	a, b := nodes[0].Client(), nodes[1].Client()
	for i := range 5 {
		email := fmt.Sprintf("user%d@example.com", i)
		_, tok := a.User(email)
		b.WithToken(tok.AccessToken).MustDo(meQuery, nil, nil)
		b.WithToken(tok.AccessToken).MustDo(meQuery, nil, nil)
		next := refresh(t, a, tok.RefreshToken)
		b.WithToken(next.AccessToken).MustDo(meQuery, nil, nil)
	}
}

// TestEndedUsersRefusedOnEveryInstance: a blocked or deleted user is refused on both instances
// whatever the session: the ended one, or one invented with the key.
func TestEndedUsersRefusedOnEveryInstance(t *testing.T) {
	cfg := apptest.Config(t)
	withAttackSecret(&cfg)
	apptest.WithAdmin(&cfg)
	cfg.RevocationSyncInterval = 100 * time.Millisecond // SQLite instances learn by resync
	nodes := startInstances(t, cfg, 2)
	admin, _ := nodes[0].Client().Admin()
	hs := map[string]any{"alg": "HS256", "typ": "JWT"}
	for _, end := range []string{"block", "delete"} {
		t.Run(end, func(t *testing.T) {
			email := end + "@example.com"
			_, tok := nodes[0].Client().User(email)
			for _, n := range nodes {
				n.Client().WithToken(tok.AccessToken).MustDo(meQuery, nil, nil)
			}
			if end == "block" {
				admin.MustDo(`mutation($id: ID!) { setUserBlocked(id: $id, blocked: true) { id } }`, map[string]any{"id": tok.User.ID}, nil)
			} else {
				admin.MustDo(`mutation($id: ID!) { deleteUser(id: $id) }`, map[string]any{"id": tok.User.ID}, nil)
			}
			invented := mint(t, hs, with(validClaims(tok.User.ID), "sid", "777777"), []byte(attackSecret))
			sameSession := mint(t, hs, with(validClaims(tok.User.ID), "sid", claimsOf(t, tok.AccessToken)["sid"]), []byte(attackSecret))
			for i, n := range nodes {
				c := n.Client()
				eventually(t, time.Second, fmt.Sprintf("instance %d refusing the session", i), func() error {
					if r := c.WithToken(sameSession).Do(meQuery, nil); r.Reason() != "TOKEN_REVOKED" {
						return fmt.Errorf("got %s", r)
					}
					return nil
				})
				assertAuthError(t, c.WithToken(tok.AccessToken).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
				assertAuthError(t, c.WithToken(invented).Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_INVALID")
				assertAuthError(t, refreshResponse(c, tok.RefreshToken), "UNAUTHENTICATED", "TOKEN_REVOKED")
			}
		})
	}
}

// TestWatchSession: the channel closes when the session ends, by any of the ways a session ends; at
// once for a session already dead or never issued here; never for a live one.
func TestWatchSession(t *testing.T) {
	s := apptest.New(t, apptest.WithAdmin)
	c := s.Client()
	admin, _ := c.Admin()
	svc := s.App.Auth
	sid := func(tok apptest.Tokens) string { return claimsOf(t, tok.AccessToken)["sid"].(string) }
	waitEnded := func(t *testing.T, ended <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ended:
		case <-time.After(10 * time.Second): // a failure bound, not a measurement
			t.Fatalf("the watch did not fire on %s", what)
		}
	}
	open := func(t *testing.T, ended <-chan struct{}) {
		t.Helper()
		select {
		case <-ended:
			t.Fatal("the watch of a live session fired")
		default:
		}
	}

	tests := []struct {
		name string
		end  func(t *testing.T, user *apptest.Client, tok apptest.Tokens, other apptest.Tokens)
	}{
		{"logout", func(t *testing.T, user *apptest.Client, tok, _ apptest.Tokens) {
			user.MustDo(`mutation { logout }`, nil, nil)
		}},
		{"logout OTHERS from another session", func(t *testing.T, _ *apptest.Client, _, other apptest.Tokens) {
			c.WithToken(other.AccessToken).MustDo(`mutation { logout(scope: OTHERS) }`, nil, nil)
		}},
		{"revokeSession", func(t *testing.T, _ *apptest.Client, tok, other apptest.Tokens) {
			c.WithToken(other.AccessToken).MustDo(`mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": sid(tok)}, nil)
		}},
		{"revokeUserSessions", func(t *testing.T, _ *apptest.Client, tok, _ apptest.Tokens) {
			admin.MustDo(`mutation($id: ID!) { revokeUserSessions(userId: $id) }`, map[string]any{"id": tok.User.ID}, nil)
		}},
		{"block", func(t *testing.T, _ *apptest.Client, tok, _ apptest.Tokens) {
			admin.MustDo(`mutation($id: ID!) { setUserBlocked(id: $id, blocked: true) { id } }`, map[string]any{"id": tok.User.ID}, nil)
		}},
		{"deletion", func(t *testing.T, _ *apptest.Client, tok, _ apptest.Tokens) {
			admin.MustDo(`mutation($id: ID!) { deleteUser(id: $id) }`, map[string]any{"id": tok.User.ID}, nil)
		}},
		{"password change in another session", func(t *testing.T, _ *apptest.Client, tok, other apptest.Tokens) {
			c.WithToken(other.AccessToken).MustDo(changePassword, map[string]any{"cur": "password-watch6@example.com", "new": "a new password"}, nil)
		}},
		{"refresh token reuse", func(t *testing.T, _ *apptest.Client, tok, _ apptest.Tokens) {
			next := refresh(t, c, tok.RefreshToken)
			refresh(t, c, next.RefreshToken)
			refreshResponse(c, tok.RefreshToken) // two rotations old: reuse
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			email := fmt.Sprintf("watch%d@example.com", i)
			user, tok := c.User(email)
			other := c.Login(email, "password-"+email)
			ended, stop := svc.WatchSession(sid(tok))
			defer stop()
			otherEnded, stopOther := svc.WatchSession(sid(other))
			defer stopOther()
			open(t, ended)
			tt.end(t, user, tok, other)
			waitEnded(t, ended, tt.name)
			if strings.Contains(tt.name, "another session") {
				open(t, otherEnded)
			}
			again, stopAgain := svc.WatchSession(sid(tok))
			defer stopAgain()
			select {
			case <-again:
			default:
				t.Fatal("a watch of a dead session must fire at once")
			}
		})
	}

	t.Run("never issued here", func(t *testing.T) {
		ended, stop := svc.WatchSession("999999999")
		defer stop()
		waitEnded(t, ended, "an unknown session")
	})
	t.Run("stop", func(t *testing.T) {
		_, tok := c.User("stop@example.com")
		ended, stop := svc.WatchSession(sid(tok))
		stop()
		stop() // twice is harmless
		open(t, ended)
	})
}
