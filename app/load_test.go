package app_test

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
	"github.com/shopql/shopql/auth"
)

// TestConcurrentClients has 200 clients log in and write at once, on whichever database the suite
// runs on. No request may fail except for a limit (TOO_MANY_REQUESTS, or TIMEOUT when it ran out of
// REQUEST_TIMEOUT queued for a hashing slot or for the database on a busy machine: its transaction
// was rolled back; then retried) or the expected CONFLICT of a duplicate name; afterwards every
// write is there exactly once. A small
// version always runs; LOAD_TEST=1 (without -short) runs ten times the writes with the production
// argon2 parameters and reports memory.
func TestConcurrentClients(t *testing.T) {
	const clients, accounts, shared = 200, 20, 5
	writes := 3
	full := os.Getenv("LOAD_TEST") == "1" && !testing.Short()
	s := apptest.New(t, func(c *app.Config) {
		c.RegisterLimitPerAddress = auth.Rate{} // the accounts are set up from one address
		if full {
			c.PasswordHashMemoryKiB, c.PasswordHashIterations = int(auth.DefaultArgon2Params.MemoryKiB), int(auth.DefaultArgon2Params.Time)
		}
	})
	if full {
		writes = 30
	}
	c := s.Client()
	for i := range accounts {
		c.Register(fmt.Sprintf("load%d@example.com", i), "password-load")
	}
	setup, _ := c.User("setup@example.com")
	var cat struct{ CreateCategory struct{ ID string } }
	setup.MustDo(`mutation { createCategory(name: "Load") { id } }`, nil, &cat)
	input := map[string]any{"description": "d", "price": 1, "quantity": 1, "categoryId": cat.CreateCategory.ID}
	const create = `mutation($n: String!, $in: ProductInput!) { createProduct(name: $n, input: $in) { id } }`

	var (
		throttled, conflicts atomic.Int64
		sharedWins           [shared]atomic.Int64
		failures             = make(chan string, clients*(writes+2))
		wg                   sync.WaitGroup
		peakHeap             atomic.Uint64
	)
	// retry sends a request until it is not refused by a limit; any other failure is reported.
	retry := func(do func() *apptest.Response) *apptest.Response {
		for {
			r := do()
			if r.Code() != "TOO_MANY_REQUESTS" && r.Code() != "TIMEOUT" {
				return r
			}
			throttled.Add(1)
			time.Sleep(10 * time.Millisecond) // back off, as retryAfter asks
		}
	}
	start := time.Now()
	for g := range clients {
		wg.Go(func() {
			r := retry(func() *apptest.Response {
				return loginAs(c, fmt.Sprintf("load%d@example.com", g%accounts), "password-load", nil)
			})
			var out struct{ Login struct{ AccessToken string } }
			if len(r.Errors) > 0 || r.Decode(&out) != nil {
				failures <- "login: " + r.String()
				return
			}
			user := c.WithToken(out.Login.AccessToken)
			for k := range writes {
				r := retry(func() *apptest.Response {
					return user.Do(create, map[string]any{"n": fmt.Sprintf("p-%d-%d", g, k), "in": input})
				})
				if len(r.Errors) > 0 {
					failures <- "create: " + r.String()
				}
			}
			r = retry(func() *apptest.Response {
				return user.Do(create, map[string]any{"n": fmt.Sprintf("shared-%d", g%shared), "in": input})
			})
			switch {
			case len(r.Errors) == 0:
				sharedWins[g%shared].Add(1)
			case r.Code() == "CONFLICT":
				conflicts.Add(1)
			default:
				failures <- "duplicate: " + r.String()
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			for old := peakHeap.Load(); m.HeapInuse > old && !peakHeap.CompareAndSwap(old, m.HeapInuse); old = peakHeap.Load() {
			}
		})
	}
	wg.Wait()
	close(failures)
	elapsed := time.Since(start)
	for f := range failures {
		t.Error(f)
	}
	for i := range shared {
		if n := sharedWins[i].Load(); n != 1 {
			t.Errorf("shared-%d created %d times", i, n)
		}
	}
	var total struct{ Products struct{ TotalCount int } }
	setup.MustDo(`{ products { totalCount } }`, nil, &total)
	if want := clients*writes + shared; total.Products.TotalCount != want {
		t.Errorf("%d products stored, want %d", total.Products.TotalCount, want)
	}
	t.Logf("%d clients, %d requests in %v; %d refused by a limit and retried, %d conflicts; peak heap in use %d MiB",
		clients, clients*(writes+2), elapsed.Round(time.Millisecond), throttled.Load(), conflicts.Load(), peakHeap.Load()>>20)
	// Memory is bounded by the hashing slots, not by the number of clients: 200 concurrent
	// argon2id hashes of 19 MiB would need 3.8 GiB.
	if limit := uint64(512 << 20); peakHeap.Load() > limit {
		t.Errorf("peak heap %d MiB, more than %d MiB", peakHeap.Load()>>20, limit>>20)
	}
}
