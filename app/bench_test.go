package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/app/apptest"
	"github.com/shopql/shopql/auth"
	"github.com/shopql/shopql/internal/baseline"
	"github.com/shopql/shopql/store"
)

// catalogQuery is the request the performance targets are stated for.
const catalogQuery = `{"query":"{ products(first: 50) { items { name price category { name } } totalCount pageInfo { endCursor hasNextPage } } }"}`

// benchShop starts a server with 1,000 products in 20 categories and returns it with a user's
// access token.
func benchShop(b testing.TB, adjust ...func(*app.Config)) (*apptest.Server, string) {
	b.Helper()
	s := apptest.New(b, adjust...)
	if err := store.Seed(context.Background(), s.App.DB, 1000, 20, nil); err != nil {
		b.Fatal(err)
	}
	_, tok := s.Client().User("bench@example.com")
	return s, tok.AccessToken
}

// serve runs one request through the whole HTTP handler, in process, and checks it succeeded.
func serve(b testing.TB, h http.Handler, body, token string) {
	record(b, h, body, token)
}

func record(b testing.TB, h http.Handler, body, token string) []byte {
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// serveParallel runs one request over and over on every P, reporting allocations.
func serveParallel(b *testing.B, h http.Handler, body, token string) {
	b.ReportAllocs()
	b.ResetTimer() // not the seeding: with -benchtime 300x it would be a large share
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, h, body, token)
		}
	})
}

func BenchmarkCatalogAuthenticated(b *testing.B) {
	s, token := benchShop(b)
	serveParallel(b, s.App.Handler(), catalogQuery, token)
}

// longTailQuery is the catalog query with its page in variables: the long tail of issue 12,
// where every request asks for another page.
const longTailQuery = `query($first: Int, $after: String) { products(first: $first, after: $after) { items { name price category { name } } totalCount pageInfo { endCursor hasNextPage } } }`

func longTailBody(first int, afterID int64) string {
	after := base64.RawURLEncoding.EncodeToString([]byte("p:" + strconv.FormatInt(afterID, 10)))
	body, _ := json.Marshal(map[string]any{"query": longTailQuery, "variables": map[string]any{"first": first, "after": after}})
	return string(body)
}

// longTail returns n distinct requests: first 10, 20 or 50 after a random product (seeded, so
// every run asks the same pages).
func longTail(b testing.TB, s *apptest.Server, n int) []string {
	b.Helper()
	var ids []int64
	if err := s.App.DB.NewSelect().Table("products").Column("id").Order("id").Scan(context.Background(), &ids); err != nil {
		b.Fatal(err)
	}
	n = min(n, 3*(len(ids)-50)) // as many distinct pages as there are
	rng := rand.New(rand.NewPCG(12, 12))
	seen := map[string]bool{}
	var bodies []string
	for len(bodies) < n {
		body := longTailBody([]int{10, 20, 50}[rng.IntN(3)], ids[rng.IntN(len(ids)-50)])
		if !seen[body] {
			seen[body] = true
			bodies = append(bodies, body)
		}
	}
	return bodies
}

func lastProductID(b testing.TB, s *apptest.Server) int64 {
	var id int64
	if err := s.App.DB.QueryRowContext(context.Background(), "SELECT MAX(id) FROM products").Scan(&id); err != nil {
		b.Fatal(err)
	}
	return id
}

// BenchmarkCatalogLongTail asks up to 3,000 distinct pages in turn (2,850 of 1,000 products), with the response cache on (the
// default) and off, and the baseline the same pages: what a cache cannot help with.
func BenchmarkCatalogLongTail(b *testing.B) {
	for _, bc := range []struct {
		name   string
		adjust func(*app.Config)
	}{{"cached", func(*app.Config) {}}, {"uncached", func(c *app.Config) { c.ResponseCacheTTL = 0 }}, {"baseline", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			s, token := benchShop(b, func(c *app.Config) {
				if bc.adjust != nil {
					bc.adjust(c)
				}
			})
			h := s.App.Handler()
			if bc.adjust == nil {
				h = baseline.Handler(s.App.DB.DB, store.IsPostgres(s.App.DB), s.App.Auth)
			}
			bodies := longTail(b, s, 3000)
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					serve(b, h, bodies[next.Add(1)%int64(len(bodies))], token)
				}
			})
		})
	}
}

func BenchmarkCatalogAnonymous(b *testing.B) {
	s, _ := benchShop(b)
	serveParallel(b, s.App.Handler(), `{"query":"{ products(first: 50) { names totalCount pageInfo { endCursor hasNextPage } } }"}`, "")
}

// BenchmarkAuthenticate is the token check alone (parse, verify, revocation lookup), to compare
// with the catalog request it is part of.
func BenchmarkAuthenticate(b *testing.B) {
	s, token := benchShop(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.App.Auth.Authenticate(token); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogin uses the production argon2id parameters: the cost it reports is the real one.
func BenchmarkLogin(b *testing.B) {
	s := apptest.New(b, func(c *app.Config) {
		c.PasswordHashMemoryKiB = int(auth.DefaultArgon2Params.MemoryKiB)
		c.PasswordHashIterations = int(auth.DefaultArgon2Params.Time)
	})
	s.Client().Register("bench@example.com", "bench-password")
	h := s.App.Handler()
	body := `{"query":"mutation { login(email: \"bench@example.com\", password: \"bench-password\") { accessToken } }"}`
	b.ReportAllocs()
	for b.Loop() {
		serve(b, h, body, "")
	}
}

// BenchmarkCatalogAuthenticatedUncached is BenchmarkCatalogAuthenticated with the response
// cache off: every request executes the query against the database.
func BenchmarkCatalogAuthenticatedUncached(b *testing.B) {
	s, token := benchShop(b, func(c *app.Config) { c.ResponseCacheTTL = 0 })
	serveParallel(b, s.App.Handler(), catalogQuery, token)
}

// BenchmarkCatalogPage compares page 1 with the last page of 200,000 products (page 4,000), through
// the whole handler with the response cache off: keyset pagination on the primary key should make
// them cost the same (issue 5: a deep page ≤ 1.5× the first). The products are seeded once per run.
func BenchmarkCatalogPage(b *testing.B) {
	const products = 200_000
	ctx := context.Background()
	s := apptest.New(b, func(c *app.Config) { c.ResponseCacheTTL = 0 })
	if err := store.Seed(ctx, s.App.DB, products, 20, nil); err != nil {
		b.Fatal(err)
	}
	_, tok := s.Client().User("bench@example.com")
	var id int64 // the product the last page starts after
	if err := s.App.DB.QueryRowContext(ctx, "SELECT id FROM products ORDER BY id LIMIT 1 OFFSET "+strconv.Itoa(products-51)).Scan(&id); err != nil {
		b.Fatal(err)
	}
	cursor := base64.RawURLEncoding.EncodeToString([]byte("p:" + strconv.FormatInt(id, 10)))
	deep := strings.Replace(catalogQuery, "first: 50", `first: 50, after: \"`+cursor+`\"`, 1)
	h := s.App.Handler()
	for _, bc := range []struct{ name, body string }{{"first", catalogQuery}, {"deep", deep}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				serve(b, h, bc.body, tok.AccessToken)
			}
		})
	}
}

// BenchmarkAmplifiedValidation sends, 8 at once, the documents of issue 9 that drew one error
// per repetition, through the whole handler. It reports the bytes answered and allocated per
// request, and the heap in use after a GC compared with before the run (memory back to idle).
// Before the validation budget, one alias-pair request answered 28 MB and 8 at once took 1.4 GB.
func BenchmarkAmplifiedValidation(b *testing.B) {
	s := apptest.New(b)
	h := s.App.Handler()
	for _, name := range []string{"conflicting alias pairs (issue 9)", "differing arguments (issue 9)", "unknown fields"} {
		body := jsonQuery(amplifiers[name])
		b.Run(strings.Fields(name)[0]+"_"+strings.Fields(name)[1], func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var answered atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				var wg sync.WaitGroup
				for range 8 {
					wg.Go(func() {
						req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						answered.Add(int64(rec.Body.Len()))
					})
				}
				wg.Wait()
			}
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(answered.Load())/float64(8*b.N), "resp-B/req")
			b.ReportMetric(float64(len(body)), "req-B")
			b.ReportMetric(float64(before.HeapInuse)/(1<<20), "heap-before-MB")
			b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heap-after-MB")
		})
	}
}
