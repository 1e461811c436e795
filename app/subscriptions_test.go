package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/uptrace/bun"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
	"github.com/shopql/shopql/store"
)

const productChanged = `subscription($cat: ID) {
  productChanged(categoryId: $cat) { kind name product { name price category { id } } }
}`

type change struct {
	ProductChanged struct {
		Kind    string
		Name    string
		Product *struct {
			Name     string
			Price    float64
			Category struct{ ID string }
		}
	}
}

// nextChange reads the next event of subscription id.
func nextChange(t *testing.T, sock *apptest.Socket, id string) change {
	t.Helper()
	r := sock.Event(id)
	if len(r.Errors) > 0 {
		t.Fatalf("event with errors: %s", r)
	}
	var c change
	if err := r.Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func expectChange(t *testing.T, sock *apptest.Socket, id, kind, name string) change {
	t.Helper()
	c := nextChange(t, sock, id)
	if c.ProductChanged.Kind != kind || c.ProductChanged.Name != name {
		t.Fatalf("%s: want %s %q, got %+v", id, kind, name, c.ProductChanged)
	}
	if (c.ProductChanged.Product == nil) != (kind == "DELETED") {
		t.Fatalf("%s: product %+v for %s", id, c.ProductChanged.Product, kind)
	}
	return c
}

// subscribed waits until the server runs n subscriptions: a subscribe message has no answer, and an
// event committed before the subscription is in place does not reach it.
func subscribed(t *testing.T, s *apptest.Server, n int) {
	t.Helper()
	eventually(t, 10*time.Second, fmt.Sprintf("%d subscriptions", n), func() error {
		if got := s.App.Subscriptions(); got != n {
			return fmt.Errorf("%d subscriptions", got)
		}
		return nil
	})
}

const upsertProduct = `mutation($n: String!, $in: ProductInput!) { upsertProduct(name: $n, input: $in) { id } }`

func TestSubscriptionDeliversCreateUpdateDelete(t *testing.T) {
	s := newShop(t)
	cat := s.category(t, "Tools")
	_, tok := s.anon.User("sam@example.com")
	sock := s.Socket().Open(tok.AccessToken)
	sock.Subscribe("1", productChanged, nil)
	subscribed(t, s.Server, 1)

	s.product(t, "Hammer", cat, 10)
	c := expectChange(t, sock, "1", "CREATED", "Hammer")
	if p := c.ProductChanged.Product; p.Price != 10 || p.Category.ID != cat {
		t.Errorf("created product: %+v", p)
	}
	s.user.MustDo(upsertProduct, productVars("Hammer", cat, 12), nil)
	if c := expectChange(t, sock, "1", "UPDATED", "Hammer"); c.ProductChanged.Product.Price != 12 {
		t.Errorf("updated product: %+v", c.ProductChanged.Product)
	}
	s.user.MustDo(upsertProduct, productVars("Saw", cat, 5), nil) // an upsert that inserts
	expectChange(t, sock, "1", "CREATED", "Saw")
	s.admin.MustDo(`mutation { deleteProduct(name: "Hammer") }`, nil, nil)
	expectChange(t, sock, "1", "DELETED", "Hammer")
}

// TestSubscriptionRolledBackWritesSendNothing: writes that fail send no event, so the next event a
// subscriber sees is the next committed write. On PostgreSQL a product created inside a
// transaction that rolls back (its NOTIFY sent inside it) is checked too.
func TestSubscriptionRolledBackWritesSendNothing(t *testing.T) {
	s := newShop(t)
	cat := s.category(t, "Tools")
	sock := s.Socket().Open(tokenOf(s.user))
	sock.Subscribe("1", productChanged, nil)
	subscribed(t, s.Server, 1)
	s.product(t, "Hammer", cat, 10)
	expectChange(t, sock, "1", "CREATED", "Hammer")

	if r := s.user.Do(createProduct, productVars("Hammer", cat, 1)); r.Code() != "CONFLICT" {
		t.Fatalf("duplicate create: %s", r)
	}
	if r := s.user.Do(upsertProduct, productVars("Hammer", "999999", 1)); r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("move to a missing category: %s", r)
	}
	if store.IsPostgres(s.App.DB) {
		errRollback := errors.New("roll back")
		err := s.App.DB.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := store.CreateProduct(ctx, tx, "Ghost", store.ProductFields{CategoryID: mustID(t, cat)}); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("transaction: %v", err)
		}
	}
	s.product(t, "Saw", cat, 5)
	expectChange(t, sock, "1", "CREATED", "Saw")
}

func mustID(t *testing.T, id string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(id, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// tokenOf is the access token a client sends.
func tokenOf(c *apptest.Client) string { return c.Token }

// TestSubscriptionByCategory: a subscription to one category hears of its products only, a product
// moved between categories is an UPDATED for both, and an unknown category never matches.
func TestSubscriptionByCategory(t *testing.T) {
	s := newShop(t)
	tools, garden := s.category(t, "Tools"), s.category(t, "Garden")
	sock := s.Socket().Open(tokenOf(s.user))
	sock.Subscribe("tools", productChanged, map[string]any{"cat": tools})
	sock.Subscribe("garden", productChanged, map[string]any{"cat": garden})
	sock.Subscribe("unknown", productChanged, map[string]any{"cat": "999999"})
	other := s.Socket().Open(tokenOf(s.user))
	other.Subscribe("all", productChanged, nil)
	subscribed(t, s.Server, 4)

	s.product(t, "Hammer", tools, 10)
	s.user.MustDo(upsertProduct, productVars("Hammer", garden, 10), nil) // moved
	s.product(t, "Rake", garden, 3)

	expectChange(t, other, "all", "CREATED", "Hammer")
	expectChange(t, other, "all", "UPDATED", "Hammer")
	expectChange(t, other, "all", "CREATED", "Rake")

	// One socket interleaves its subscriptions in any order; each subscription's own are in order.
	got := map[string][]string{}
	for range 4 {
		m, err := sock.Next()
		if err != nil || m.Type != "next" {
			t.Fatalf("want an event, got %+v (%v)", m, err)
		}
		got[m.ID] = append(got[m.ID], string(m.Payload))
	}
	want := map[string][]string{
		"tools":  {"CREATED Hammer", "UPDATED Hammer"},
		"garden": {"UPDATED Hammer", "CREATED Rake"},
	}
	for id, events := range want {
		if len(got[id]) != len(events) {
			t.Fatalf("%s got %d events, want %v: %v", id, len(got[id]), events, got[id])
		}
		for i, e := range events {
			kind, name, _ := strings.Cut(e, " ")
			if !strings.Contains(got[id][i], `"kind":"`+kind+`"`) || !strings.Contains(got[id][i], `"name":"`+name+`"`) {
				t.Errorf("%s event %d: want %s, got %s", id, i, e, got[id][i])
			}
		}
	}
	if len(got["unknown"]) > 0 {
		t.Errorf("a subscription to an unknown category got %v", got["unknown"])
	}
}

// TestSubscriptionTokenRulesAtInit: a connection_init without a good token is answered by close
// 4403 with the reason, and nothing before it (no connection_ack).
func TestSubscriptionTokenRulesAtInit(t *testing.T) {
	s := newShop(t, withAttackSecret)
	c := s.anon
	_, loggedOut := c.User("out@example.com")
	c.WithToken(loggedOut.AccessToken).MustDo(`mutation { logout }`, nil, nil)
	_, tok := c.User("ok@example.com")
	expired := mint(t, map[string]any{"alg": "HS256", "typ": "JWT"},
		with(validClaims(tok.User.ID), "exp", time.Now().Add(-time.Minute).Unix()), []byte(attackSecret))

	for _, tc := range []struct {
		name    string
		payload map[string]any
		reason  string
	}{
		{"no payload", nil, "TOKEN_MISSING"},
		{"no Authorization", map[string]any{"other": "x"}, "TOKEN_MISSING"},
		{"not a string", map[string]any{"Authorization": 42}, "TOKEN_MISSING"},
		{"not bearer", map[string]any{"Authorization": "Basic abc"}, "TOKEN_INVALID"},
		{"garbage", apptest.Bearer("not.a.jwt"), "TOKEN_INVALID"},
		{"refresh token", apptest.Bearer(tok.RefreshToken), "TOKEN_INVALID"},
		{"expired", apptest.Bearer(expired), "TOKEN_EXPIRED"},
		{"revoked", apptest.Bearer(loggedOut.AccessToken), "TOKEN_REVOKED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock := s.Socket()
			if err := sock.Init(tc.payload); err != nil {
				t.Fatal(err)
			}
			code, reason, before := sock.Closed()
			if code != 4403 || reason != tc.reason || len(before) > 0 {
				t.Errorf("got close %d %q after %+v, want 4403 %q and nothing before", code, reason, before, tc.reason)
			}
		})
	}
	t.Run("lower-case authorization", func(t *testing.T) {
		s.Socket().Open(tok.AccessToken) // Open fails the test without an ack
		sock := s.Socket()
		if err := sock.Init(map[string]any{"authorization": "Bearer " + tok.AccessToken}); err != nil {
			t.Fatal(err)
		}
		if m, err := sock.Next(); err != nil || m.Type != "connection_ack" {
			t.Errorf("got %+v (%v)", m, err)
		}
	})
}

func TestSubscriptionNeedsInitFirst(t *testing.T) {
	s := newShop(t)
	sock := s.Socket()
	sock.Subscribe("1", productChanged, nil)
	if code, _, before := sock.Closed(); code == 1000 || len(before) > 0 {
		t.Errorf("subscribe before connection_init: close %d after %+v", code, before)
	}
}

// TestSubscriptionClosesAtTokenExpiry: an open connection is closed with 4403 TOKEN_EXPIRED when its
// access token expires.
func TestSubscriptionClosesAtTokenExpiry(t *testing.T) {
	s := newShop(t, func(c *app.Config) { c.AccessTokenTTL = time.Second })
	_, tok := s.anon.User("sam@example.com")
	sock := s.Socket().Open(tok.AccessToken)
	sock.Subscribe("1", productChanged, nil)
	code, reason, before := sock.Closed()
	if code != 4403 || reason != "TOKEN_EXPIRED" {
		t.Errorf("got close %d %q after %+v, want 4403 TOKEN_EXPIRED", code, reason, before)
	}
}

// TestSubscriptionClosesOnRevocation: every way a session ends closes its open connections with
// 4403 TOKEN_REVOKED.
func TestSubscriptionClosesOnRevocation(t *testing.T) {
	s := newShop(t)
	for _, tc := range []struct {
		name   string
		admin  bool
		revoke func(t *testing.T, user *apptest.Client, tok apptest.Tokens, email string)
	}{
		{"logout", false, func(t *testing.T, user *apptest.Client, _ apptest.Tokens, _ string) {
			user.MustDo(`mutation { logout }`, nil, nil)
		}},
		{"block", false, func(t *testing.T, _ *apptest.Client, tok apptest.Tokens, _ string) {
			s.admin.MustDo(`mutation($id: ID!) { setUserBlocked(id: $id, blocked: true) { id } }`, map[string]any{"id": tok.User.ID}, nil)
		}},
		{"demotion", true, func(t *testing.T, _ *apptest.Client, tok apptest.Tokens, _ string) {
			s.admin.MustDo(`mutation($id: ID!) { setUserAdmin(id: $id, isAdmin: false) { id } }`, map[string]any{"id": tok.User.ID}, nil)
		}},
		{"deletion", false, func(t *testing.T, _ *apptest.Client, tok apptest.Tokens, _ string) {
			s.admin.MustDo(`mutation($id: ID!) { deleteUser(id: $id) }`, map[string]any{"id": tok.User.ID}, nil)
		}},
		{"refresh token reuse", false, func(t *testing.T, _ *apptest.Client, tok apptest.Tokens, _ string) {
			// A token older than the one the latest rotation consumed: reuse, whatever the grace.
			next := refresh(t, s.anon, tok.RefreshToken)
			refresh(t, s.anon, next.RefreshToken)
			if r := refreshResponse(s.anon, tok.RefreshToken); r.Reason() != "TOKEN_REVOKED" {
				t.Fatalf("reuse: %s", r)
			}
		}},
		{"logout of all sessions from another device", false, func(t *testing.T, _ *apptest.Client, _ apptest.Tokens, email string) {
			other := s.anon.Login(email, "password-"+email)
			s.anon.WithToken(other.AccessToken).MustDo(`mutation { logout(scope: ALL) }`, nil, nil)
		}},
		{"logout of other sessions", false, func(t *testing.T, _ *apptest.Client, _ apptest.Tokens, email string) {
			other := s.anon.Login(email, "password-"+email)
			s.anon.WithToken(other.AccessToken).MustDo(`mutation { logout(scope: OTHERS) }`, nil, nil)
		}},
		{"revokeUserSessions", false, func(t *testing.T, _ *apptest.Client, tok apptest.Tokens, _ string) {
			s.admin.MustDo(`mutation($id: ID!) { revokeUserSessions(userId: $id) }`, map[string]any{"id": tok.User.ID}, nil)
		}},
		{"revokeSession", false, func(t *testing.T, user *apptest.Client, _ apptest.Tokens, _ string) {
			var out struct{ MySessions []struct{ ID string } }
			user.MustDo(`{ mySessions { id } }`, nil, &out)
			user.MustDo(`mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": out.MySessions[0].ID}, nil)
		}},
		{"password change on another device", false, func(t *testing.T, _ *apptest.Client, _ apptest.Tokens, email string) {
			other := s.anon.Login(email, "password-"+email)
			s.anon.WithToken(other.AccessToken).MustDo(`mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`,
				map[string]any{"c": "password-" + email, "n": "new-password-" + email}, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			email := strings.ReplaceAll(tc.name, " ", "-") + "@example.com"
			user, tok := s.anon.User(email)
			if tc.admin {
				s.admin.MustDo(`mutation($id: ID!) { setUserAdmin(id: $id, isAdmin: true) { id } }`, map[string]any{"id": tok.User.ID}, nil)
				tok = s.anon.Login(email, "password-"+email)
				user = user.WithToken(tok.AccessToken)
			}
			sock := s.Socket().Open(tok.AccessToken)
			sock.Subscribe("1", productChanged, nil)
			bystander := s.Socket().Open(tokenOf(s.user))
			bystander.Subscribe("1", productChanged, nil)
			subscribed(t, s.Server, 2)
			tc.revoke(t, user, tok, email)
			if code, reason, _ := sock.Closed(); code != 4403 || reason != "TOKEN_REVOKED" {
				t.Errorf("got close %d %q, want 4403 TOKEN_REVOKED", code, reason)
			}
			// Other sessions' connections stay open.
			s.product(t, "After "+tc.name, s.category(t, "Cat "+tc.name), 1)
			expectChange(t, bystander, "1", "CREATED", "After "+tc.name)
			_ = bystander.Conn.CloseNow()
			subscribed(t, s.Server, 0)
		})
	}
}

func TestSubscriptionOrigin(t *testing.T) {
	s := newShop(t, func(c *app.Config) {
		c.CORSAllowedOrigins = parsed(t, app.ParseCORSOrigins, "https://shop.example.com")
	})
	host := strings.TrimPrefix(s.URL, "http://")
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{s.URL, true},
		{"https://shop.example.com", true},
		{"https://evil.example.com", false},
		{"https://" + host, false}, // same host and port, other scheme
		{"http://" + strings.Split(host, ":")[0] + ":1", false},
		{"null", false},
	} {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		sock, res, err := s.DialSocket(h)
		switch {
		case tc.ok && err != nil:
			t.Errorf("Origin %q refused: %v", tc.origin, err)
		case !tc.ok && (err == nil || res == nil || res.StatusCode != http.StatusForbidden):
			t.Errorf("Origin %q: want 403, got %v (%v)", tc.origin, res, err)
		case tc.ok:
			sock.Open(tokenOf(s.user))
		}
	}
}

func TestSubscriptionInitTimeout(t *testing.T) {
	s := newShop(t, func(c *app.Config) { c.WSInitTimeout = 200 * time.Millisecond })
	sock := s.Socket()
	if code, reason, before := sock.Closed(); code != 4408 || len(before) > 0 {
		t.Errorf("got close %d %q after %+v, want 4408", code, reason, before)
	}
}

func TestSubscriptionLimits(t *testing.T) {
	s := newShop(t, func(c *app.Config) {
		c.WSMaxSubscriptions = 2
		c.WSMaxConnectionsPerAddress = 2
		c.GraphQLMaxDepth = 4
	})
	sock := s.Socket().Open(tokenOf(s.user))

	t.Run("document limits", func(t *testing.T) {
		sock.Subscribe("deep", `subscription { productChanged { product { category { products { name } } } } }`, nil)
		m, err := sock.Next()
		if err != nil || m.Type != "error" || m.ID != "deep" || !strings.Contains(string(m.Payload), "GRAPHQL_VALIDATION_FAILED") {
			t.Fatalf("a too deep subscription: %+v (%v)", m, err)
		}
		if m, err := sock.Next(); err != nil || m.Type != "complete" || m.ID != "deep" {
			t.Fatalf("after the refusal: %+v (%v)", m, err)
		}
	})
	t.Run("subscriptions per connection", func(t *testing.T) {
		// The three start concurrently: any one of them is the one refused.
		for _, id := range []string{"1", "2", "3"} {
			sock.Subscribe(id, productChanged, nil)
		}
		m, err := sock.Next()
		if err != nil || m.Type != "next" || !strings.Contains(string(m.Payload), "TOO_MANY_REQUESTS") {
			t.Fatalf("a third subscription: %+v (%v)", m, err)
		}
		refused := m.ID
		if m, err := sock.Next(); err != nil || m.Type != "complete" || m.ID != refused {
			t.Fatalf("after the refusal: %+v (%v)", m, err)
		}
		subscribed(t, s.Server, 2)
		// Completing one makes room.
		running := "1"
		if refused == "1" {
			running = "2"
		}
		if err := sock.Send(apptest.Message{Type: "complete", ID: running}); err != nil {
			t.Fatal(err)
		}
		subscribed(t, s.Server, 1)
		sock.Subscribe("4", productChanged, nil)
		subscribed(t, s.Server, 2)
	})
	t.Run("connections per address", func(t *testing.T) {
		second := s.Socket()
		_, res, err := s.DialSocket(nil)
		if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("a third connection: %v (%v)", res, err)
		}
		_ = second.Conn.CloseNow()
		eventually(t, 5*time.Second, "room for a connection", func() error {
			_, _, err := s.DialSocket(nil)
			return err
		})
	})
}

// TestSubscriptionSlowConsumerIsClosed: a client that stops reading is disconnected once its queue
// is full, rather than having events buffered for it without bound.
func TestSubscriptionSlowConsumerIsClosed(t *testing.T) {
	s := newShop(t, func(c *app.Config) { c.WSEventQueue = 1 })
	cat := s.category(t, "Tools")
	long := strings.Repeat("x", 10000)
	in := func(name string) map[string]any {
		return map[string]any{"n": name, "in": map[string]any{"description": long, "price": 1, "quantity": 1, "categoryId": cat}}
	}
	for i := range 30 {
		s.user.MustDo(createProduct, in(fmt.Sprintf("P%02d", i)), nil)
	}
	slow := s.Socket().Open(tokenOf(s.user))
	// Each event carries the whole category, about 300 kB: a few fill the socket buffers.
	slow.Subscribe("1", `subscription { productChanged { name product { category { products { description } } } } }`, nil)
	fast := s.Socket().Open(tokenOf(s.user))
	fast.Subscribe("1", `subscription { productChanged { name } }`, nil)
	subscribed(t, s.Server, 2)
	for i := range 60 {
		name := fmt.Sprintf("Q%02d", i)
		s.user.MustDo(createProduct, in(name), nil)
		for { // on PostgreSQL the P products' notifications may still be arriving
			m, err := fast.Next()
			if err != nil || m.Type != "next" {
				t.Fatalf("the fast subscriber: %+v (%v)", m, err)
			}
			if strings.Contains(string(m.Payload), name) {
				break
			}
		}
	}
	// Now read what was sent: the connection ends before the 60th event.
	code, reason, before := slow.Closed()
	if len(before) >= 60 {
		t.Errorf("the slow consumer got all %d events: not closed", len(before))
	}
	t.Logf("slow consumer: closed (%d %q) after %d events", code, reason, len(before))
}

func TestSubscriptionKeepAlivePings(t *testing.T) {
	s := newShop(t, func(c *app.Config) { c.WSPingInterval = 100 * time.Millisecond })
	sock := s.Socket().Open(tokenOf(s.user))
	if m, err := sock.Read(); err != nil || m.Type != "ping" {
		t.Fatalf("want a ping, got %+v (%v)", m, err)
	}
}

// TestSubscriptionOutlivesRequestTimeout: REQUEST_TIMEOUT bounds requests, not a quiet subscription.
func TestSubscriptionOutlivesRequestTimeout(t *testing.T) {
	s := newShop(t, func(c *app.Config) { c.RequestTimeout = 200 * time.Millisecond })
	cat := s.category(t, "Tools")
	sock := s.Socket().Open(tokenOf(s.user))
	sock.Subscribe("1", productChanged, nil)
	subscribed(t, s.Server, 1)
	time.Sleep(500 * time.Millisecond) // quiet for longer than REQUEST_TIMEOUT
	s.product(t, "Hammer", cat, 1)
	expectChange(t, sock, "1", "CREATED", "Hammer")
}

// TestSubscriptionEventsGetFreshLoaders: each event is resolved with loaders of its own, so nested
// lists show the catalog as it is at that event.
func TestSubscriptionEventsGetFreshLoaders(t *testing.T) {
	s := newShop(t)
	cat := s.category(t, "Tools")
	sock := s.Socket().Open(tokenOf(s.user))
	sock.Subscribe("1", `subscription { productChanged { product { category { products { name } } } } }`, nil)
	subscribed(t, s.Server, 1)
	for i, want := range []string{`[{"name":"A"}]`, `[{"name":"A"},{"name":"B"}]`} {
		s.product(t, string(rune('A'+i)), cat, 1)
		if r := sock.Event("1"); !strings.Contains(string(r.Data), want) {
			t.Errorf("event %d: want products %s, got %s", i, want, r.Data)
		}
	}
}

// TestSubscriptionsAcrossInstances (PostgreSQL): a product created through instance A reaches a
// subscriber on B, and a logout through A closes B's socket within a second (measured and logged;
// the bound is generous for a shared machine).
func TestSubscriptionsAcrossInstances(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") == "" {
		t.Skip("needs TEST_DATABASE_URL (PostgreSQL)")
	}
	cfg := apptest.Config(t)
	apptest.WithAdmin(&cfg)
	cfg.RevocationSyncInterval = time.Hour // only NOTIFY can be fast enough
	nodes := startInstances(t, cfg, 2)
	a, b := nodes[0], nodes[1]
	user, tok := a.Client().User("sam@example.com")
	var out struct{ CreateCategory struct{ ID string } }
	user.MustDo(`mutation { createCategory(name: "Tools") { id } }`, nil, &out)

	sock := b.Socket().Open(tok.AccessToken)
	sock.Subscribe("1", productChanged, nil)
	subscribed(t, b, 1)
	start := time.Now()
	user.MustDo(createProduct, productVars("Hammer", out.CreateCategory.ID, 1), nil)
	expectChange(t, sock, "1", "CREATED", "Hammer")
	t.Logf("a product created through A reached B's subscriber %s after the mutation began", time.Since(start))

	user.MustDo(`mutation { logout }`, nil, nil)
	answered := time.Now()
	code, reason, _ := sock.Closed()
	took := time.Since(answered)
	t.Logf("B closed the socket %s after A answered the logout", took)
	if code != 4403 || reason != "TOKEN_REVOKED" {
		t.Errorf("got close %d %q, want 4403 TOKEN_REVOKED", code, reason)
	}
	if took > 5*time.Second {
		t.Errorf("B closed the socket %s after the logout", took)
	}
}

// TestSubscriptionNeedsItsSubprotocol: an upgrade that does not offer graphql-transport-ws is refused
// (gqlgen would otherwise speak the legacy protocol to it, without the token rules' close codes).
func TestSubscriptionNeedsItsSubprotocol(t *testing.T) {
	s := newShop(t)
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/graphql"
	for _, protocols := range [][]string{nil, {"graphql-ws"}} {
		_, res, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{Subprotocols: protocols})
		if err == nil || res == nil || res.StatusCode != http.StatusBadRequest {
			t.Errorf("subprotocols %v: want 400, got %v (%v)", protocols, res, err)
		}
	}
}

// TestSubscriptionClosedOnShutdown: closing the App closes its sockets with 1012 (service restart,
// which clients retry), rather than leaving them to a database that is going away.
func TestSubscriptionClosedOnShutdown(t *testing.T) {
	s := newShop(t)
	sock := s.Socket().Open(tokenOf(s.user))
	sock.Subscribe("1", productChanged, nil)
	subscribed(t, s.Server, 1)
	s.Close()
	if code, reason, _ := sock.Closed(); code != 1012 {
		t.Errorf("got close %d %q, want 1012", code, reason)
	}
}
