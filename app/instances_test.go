package app_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
)

// startInstances starts n servers on one database at the same moment, as a deployment would.
func startInstances(t *testing.T, cfg app.Config, n int) []*apptest.Server {
	t.Helper()
	apps := make([]*app.App, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			apps[i], errs[i] = app.New(context.Background(), cfg, apptest.Logger(t, cfg.LogLevel))
		})
	}
	wg.Wait()
	servers := make([]*apptest.Server, n)
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		servers[i] = apptest.Serve(t, cfg, apps[i])
	}
	return servers
}

// eventually polls check until it returns nil or within passes, and fails the test otherwise.
func eventually(t *testing.T, within time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not within %s: %v", what, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestInstancesOnOnePostgres runs three servers on one PostgreSQL database: they migrate once, share
// the generated signing secret, and a revocation made through one is refused by the others within a
// second (pushed by LISTEN/NOTIFY: the periodic resync is set to an hour here).
func TestInstancesOnOnePostgres(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") == "" {
		t.Skip("needs TEST_DATABASE_URL (PostgreSQL)")
	}
	cfg := apptest.Config(t)
	apptest.WithAdmin(&cfg)
	cfg.RevocationSyncInterval = time.Hour
	cfg.ResponseCacheTTL = time.Hour
	nodes := startInstances(t, cfg, 3)
	a, b, c := nodes[0].Client(), nodes[1].Client(), nodes[2].Client()

	var dupes int
	err := nodes[0].App.DB.NewRaw(`SELECT COUNT(*) FROM (SELECT name FROM bun_migrations GROUP BY name HAVING COUNT(*) > 1) AS d`).Scan(context.Background(), &dupes)
	if err != nil || dupes != 0 {
		t.Fatalf("migrations applied more than once: %d (%v)", dupes, err)
	}

	admin, _ := a.Admin()
	others := []*apptest.Client{b, c}
	refusedEverywhere := func(t *testing.T, token, reason string) {
		t.Helper()
		for i, o := range others {
			eventually(t, time.Second, fmt.Sprintf("instance %d refusing the token", i+1), func() error {
				if r := o.WithToken(token).Do(meQuery, nil); r.Reason() != reason {
					return fmt.Errorf("got %s", r)
				}
				return nil
			})
		}
	}

	tests := []struct {
		name string
		act  func(t *testing.T, user *apptest.Client, id string)
	}{
		{"logout", func(t *testing.T, user *apptest.Client, id string) {
			user.MustDo(`mutation { logout }`, nil, nil)
		}},
		{"block", func(t *testing.T, user *apptest.Client, id string) {
			admin.MustDo(`mutation($id: ID!) { setUserBlocked(id: $id, blocked: true) { id } }`, map[string]any{"id": id}, nil)
		}},
		{"demotion", func(t *testing.T, user *apptest.Client, id string) {
			admin.MustDo(`mutation($id: ID!) { setUserAdmin(id: $id, isAdmin: false) { id } }`, map[string]any{"id": id}, nil)
		}},
		{"deletion", func(t *testing.T, user *apptest.Client, id string) {
			admin.MustDo(`mutation($id: ID!) { deleteUser(id: $id) }`, map[string]any{"id": id}, nil)
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			email := fmt.Sprintf("user%d@example.com", i)
			id := a.Register(email, "password-"+email)
			admin.MustDo(`mutation($id: ID!) { setUserAdmin(id: $id, isAdmin: true) { id } }`, map[string]any{"id": id}, nil)
			tok := a.Login(email, "password-"+email)
			// Tokens signed by A verify on B and C: the generated secret is shared through the database.
			for _, o := range others {
				o.WithToken(tok.AccessToken).MustDo(meQuery, nil, nil)
			}
			tt.act(t, a.WithToken(tok.AccessToken), id)
			refusedEverywhere(t, tok.AccessToken, "TOKEN_REVOKED")
		})
	}

	t.Run("catalog cache", func(t *testing.T) {
		writer, _ := a.User("writer@example.com")
		var out struct{ CreateCategory struct{ ID string } }
		writer.MustDo(`mutation { createCategory(name: "Tools") { id } }`, nil, &out)
		if got := products(t, b, nil); len(got.Names) != 0 {
			t.Fatalf("unexpected products %v", got.Names)
		}
		writer.MustDo(createProduct, productVars("Hammer", out.CreateCategory.ID, 1), nil)
		eventually(t, time.Second, "instance 1 seeing the new product", func() error {
			if got := products(t, b, nil); len(got.Names) != 1 {
				return fmt.Errorf("names %v", got.Names)
			}
			return nil
		})
	})
}

// TestInstancesOnOneSQLiteFile: processes sharing a SQLite file announce nothing to each other, so a
// revocation reaches the others at their next periodic resync.
func TestInstancesOnOneSQLiteFile(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") != "" {
		t.Skip("SQLite only")
	}
	cfg := apptest.Config(t)
	cfg.RevocationSyncInterval = 100 * time.Millisecond
	nodes := startInstances(t, cfg, 2)
	a, b := nodes[0].Client(), nodes[1].Client()
	user, tok := a.User("ann@example.com")
	b.WithToken(tok.AccessToken).MustDo(meQuery, nil, nil)
	user.MustDo(`mutation { logout }`, nil, nil)
	eventually(t, time.Second, "the other instance refusing the token", func() error {
		if r := b.WithToken(tok.AccessToken).Do(meQuery, nil); r.Reason() != "TOKEN_REVOKED" {
			return fmt.Errorf("got %s", r)
		}
		return nil
	})
}
