package app_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
)

func TestRegister(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	const mutation = `mutation($in: RegisterInput!) { register(input: $in) { id email username isAdmin blocked createdAt } }`
	var out struct {
		Register struct {
			ID, Email, Username string
			IsAdmin, Blocked    bool
			CreatedAt           string
		}
	}
	c.MustDo(mutation, map[string]any{"in": map[string]any{"email": "Ann@Example.com", "username": "ann", "password": "s3cret-pass"}}, &out)
	u := out.Register
	if u.Email != "ann@example.com" || u.IsAdmin || u.Blocked || u.ID == "" || u.CreatedAt == "" {
		t.Fatalf("unexpected user %+v", u)
	}

	tests := []struct {
		name, email, username, password, code string
	}{
		{"email taken in another case", "ANN@example.COM", "ann2", "s3cret-pass", "CONFLICT"},
		{"invalid email", "not-an-email", "x", "s3cret-pass", "BAD_USER_INPUT"},
		{"email with display name", "Ann <x@example.com>", "x", "s3cret-pass", "BAD_USER_INPUT"},
		{"short password", "short@example.com", "x", "1234567", "BAD_USER_INPUT"},
		{"blank username", "blank@example.com", "  ", "s3cret-pass", "BAD_USER_INPUT"},
		{"long username", "long@example.com", strings.Repeat("u", 65), "s3cret-pass", "BAD_USER_INPUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Do(mutation, map[string]any{"in": map[string]any{"email": tt.email, "username": tt.username, "password": tt.password}})
			if r.Code() != tt.code {
				t.Fatalf("want %s, got %s", tt.code, r)
			}
		})
	}
}

func TestLogin(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	c.Register("ann@example.com", "right-password")
	tok := c.Login("ANN@example.com", "right-password")
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.User.IsAdmin {
		t.Fatalf("unexpected login result %+v", tok)
	}

	login := func(email, password string) *apptest.Response {
		return c.Do(`mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`,
			map[string]any{"e": email, "p": password})
	}
	wrongPassword := login("ann@example.com", "wrong-password")
	unknownEmail := login("nobody@example.com", "right-password")
	invalidEmail := login("nobody", "right-password")
	for _, r := range []*apptest.Response{wrongPassword, unknownEmail, invalidEmail} {
		assertAuthError(t, r, "UNAUTHENTICATED", "INVALID_CREDENTIALS")
	}
	// The error does not say which part was wrong.
	if wrongPassword.Errors[0].Message != unknownEmail.Errors[0].Message {
		t.Fatalf("messages differ: %q vs %q", wrongPassword.Errors[0].Message, unknownEmail.Errors[0].Message)
	}
}

func TestRegistrationNeverGrantsAdmin(t *testing.T) {
	s := apptest.New(t)
	c := s.Client()
	// isAdmin is not an input field: the document does not validate.
	r := c.Do(`mutation { register(input: {email: "x@example.com", username: "x", password: "password1", isAdmin: true}) { id } }`, nil)
	if r.Code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("want a validation error, got %s", r)
	}
	user, tok := c.User("ann@example.com")
	if tok.User.IsAdmin {
		t.Fatal("registered user is admin")
	}
	assertAuthError(t, user.Do(`{ users { id } }`, nil), "FORBIDDEN", "ADMIN_REQUIRED")
}

func TestAdminFromSettings(t *testing.T) {
	s := apptest.New(t, apptest.WithAdmin)
	admin, tok := s.Client().Admin()
	if !tok.User.IsAdmin {
		t.Fatal("ADMIN_EMAIL account is not admin")
	}
	var out struct{ Users []struct{ Email string } }
	admin.MustDo(`{ users { email } }`, nil, &out)
	if len(out.Users) != 1 || out.Users[0].Email != apptest.AdminEmail {
		t.Fatalf("users: %+v", out.Users)
	}

	// An existing account is promoted at start-up only with its own password: otherwise whoever
	// registered the email first would become an administrator.
	c := s.Client()
	c.Register("boss@example.com", "boss-password")
	cfg := s.Config
	cfg.AdminEmail, cfg.AdminPassword = "boss@example.com", "someone-elses-password"
	s.Close()
	if a, err := app.New(context.Background(), cfg, apptest.Logger(t, slog.LevelError)); err == nil {
		a.Close()
		t.Fatal("an existing account was promoted with a password that is not its own")
	} else if !strings.Contains(err.Error(), "ADMIN_PASSWORD is not its password") {
		t.Fatalf("unexpected start-up error: %v", err)
	}
	cfg.AdminPassword = "boss-password"
	s = apptest.Start(t, cfg)
	if tok := s.Client().Login("boss@example.com", "boss-password"); !tok.User.IsAdmin {
		t.Fatal("existing account was not promoted")
	}
}

func TestUserQueryIsOwnOrAdmin(t *testing.T) {
	s := apptest.New(t, apptest.WithAdmin)
	c := s.Client()
	admin, _ := c.Admin()
	ann, annTok := c.User("ann@example.com")
	_, bobTok := c.User("bob@example.com")

	const q = `query($id: ID!) { user(id: $id) { email } }`
	var out struct{ User *struct{ Email string } }
	ann.MustDo(q, map[string]any{"id": annTok.User.ID}, &out)
	if out.User == nil || out.User.Email != "ann@example.com" {
		t.Fatalf("own record: %+v", out.User)
	}
	assertAuthError(t, ann.Do(q, map[string]any{"id": bobTok.User.ID}), "FORBIDDEN", "ADMIN_REQUIRED")
	admin.MustDo(q, map[string]any{"id": bobTok.User.ID}, &out)
	if out.User == nil || out.User.Email != "bob@example.com" {
		t.Fatalf("admin read: %+v", out.User)
	}
	admin.MustDo(q, map[string]any{"id": "999999"}, &out)
	if out.User != nil {
		t.Fatal("absent user must be null")
	}
	if r := admin.Do(q, map[string]any{"id": "abc"}); r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("malformed ID: %s", r)
	}
}

func TestAdminActionsRevokeSessions(t *testing.T) {
	tests := []struct {
		name     string
		mutation string
		// loginAfter is the reason login fails afterwards, or "" when it works.
		loginCode, loginReason string
	}{
		{"block", `mutation($id: ID!) { setUserBlocked(id: $id, blocked: true) { blocked } }`, "FORBIDDEN", "USER_BLOCKED"},
		{"demote", `mutation($id: ID!) { setUserAdmin(id: $id, isAdmin: false) { isAdmin } }`, "", ""},
		{"delete", `mutation($id: ID!) { deleteUser(id: $id) }`, "UNAUTHENTICATED", "INVALID_CREDENTIALS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := apptest.New(t, apptest.WithAdmin)
			c := s.Client()
			admin, _ := c.Admin()
			victim, tok := c.User("ann@example.com")
			admin.MustDo(`mutation($id: ID!) { setUserAdmin(id: $id, isAdmin: true) { isAdmin } }`, map[string]any{"id": tok.User.ID}, nil)
			// Granting the role does not end sessions; the claim arrives with the next login.
			victim.MustDo(meQuery, nil, nil)
			tok = c.Login("ann@example.com", "password-ann@example.com")
			victim = c.WithToken(tok.AccessToken)
			victim.MustDo(`{ users { id } }`, nil, nil)

			admin.MustDo(tt.mutation, map[string]any{"id": tok.User.ID}, nil)
			assertAuthError(t, victim.Do(meQuery, nil), "UNAUTHENTICATED", "TOKEN_REVOKED")
			assertAuthError(t, refreshResponse(c, tok.RefreshToken), "UNAUTHENTICATED", "TOKEN_REVOKED")

			r := c.Do(`mutation { login(email: "ann@example.com", password: "password-ann@example.com") { user { isAdmin } } }`, nil)
			if tt.loginCode != "" {
				assertAuthError(t, r, tt.loginCode, tt.loginReason)
				return
			}
			var out struct {
				Login struct{ User struct{ IsAdmin bool } }
			}
			if err := r.Decode(&out); err != nil || len(r.Errors) > 0 || out.Login.User.IsAdmin {
				t.Fatalf("login after demotion: %s", r)
			}
		})
	}
}

func TestBlockedUserCanBeUnblocked(t *testing.T) {
	s := apptest.New(t, apptest.WithAdmin)
	c := s.Client()
	admin, _ := c.Admin()
	id := c.Register("ann@example.com", "password-ann")
	admin.MustDo(`mutation($id: ID!) { setUserBlocked(id: $id, blocked: true) { id } }`, map[string]any{"id": id}, nil)
	// The password is checked first: a wrong one says nothing about the block.
	r := c.Do(`mutation { login(email: "ann@example.com", password: "wrong-password") { accessToken } }`, nil)
	assertAuthError(t, r, "UNAUTHENTICATED", "INVALID_CREDENTIALS")
	admin.MustDo(`mutation($id: ID!) { setUserBlocked(id: $id, blocked: false) { id } }`, map[string]any{"id": id}, nil)
	c.Login("ann@example.com", "password-ann")
}

func TestAdminMutationsOnMissingUsers(t *testing.T) {
	s := apptest.New(t, apptest.WithAdmin)
	admin, _ := s.Client().Admin()
	for _, m := range []string{
		`mutation { deleteUser(id: "424242") }`,
		`mutation { setUserBlocked(id: "424242", blocked: true) { id } }`,
		`mutation { setUserAdmin(id: "424242", isAdmin: true) { id } }`,
	} {
		if r := admin.Do(m, nil); r.Code() != "NOT_FOUND" {
			t.Errorf("%s: want NOT_FOUND, got %s", m, r)
		}
	}
}

// An account change made while a login of that account is checking its password must not be lost:
// the login either sees the change or its session is revoked by it. Password hashing is made slow
// so that the change lands inside that window.
func TestAdminActionDuringLogin(t *testing.T) {
	tests := []struct {
		name     string
		mutation string
		// allowed is the request the login's token must not be able to make afterwards.
		allowed string
	}{
		{"block", `mutation($id: ID!) { setUserBlocked(id: $id, blocked: true) { blocked } }`, `{ categories { id } }`},
		{"demote", `mutation($id: ID!) { setUserAdmin(id: $id, isAdmin: false) { isAdmin } }`, `{ users { id } }`},
		{"delete", `mutation($id: ID!) { deleteUser(id: $id) }`, `{ categories { id } }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := apptest.New(t, apptest.WithAdmin, func(c *app.Config) {
				c.PasswordHashMemoryKiB, c.PasswordHashIterations = 32*1024, 10 // ~0.3 s a hash
			})
			c := s.Client()
			admin, _ := c.Admin()
			id := c.Register("ann@example.com", "password-ann")
			admin.MustDo(`mutation($id: ID!) { setUserAdmin(id: $id, isAdmin: true) { isAdmin } }`, map[string]any{"id": id}, nil)

			login := make(chan *apptest.Response)
			go func() {
				login <- c.Do(`mutation { login(email: "ann@example.com", password: "password-ann") { accessToken } }`, nil)
			}()
			time.Sleep(100 * time.Millisecond) // the login has read the account and is hashing
			admin.MustDo(tt.mutation, map[string]any{"id": id}, nil)

			r := <-login
			var out struct{ Login struct{ AccessToken string } }
			if len(r.Errors) > 0 || r.Decode(&out) != nil {
				return // the login saw the change: refused
			}
			if after := c.WithToken(out.Login.AccessToken).Do(tt.allowed, nil); len(after.Errors) == 0 {
				t.Fatalf("the token of a login that overlapped %s still works: %s", tt.name, after)
			}
		})
	}
}
