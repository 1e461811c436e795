package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/shopql/shopql/app"
	"github.com/shopql/shopql/internal/baseline"
	"github.com/shopql/shopql/store"
)

// Settle is how long the load tool waits after a run before counting the server's file descriptors.
const settle = 3 * time.Second

// runScenarios runs a, c and b on a server with default settings, then c (cache off) and d on one
// with RESPONSE_CACHE_TTL=0, filling r.
func runScenarios(ctx context.Context, o options, bin, work string, db *database, r *report) error {
	secret := randomHex(32)
	env := []string{"DATABASE_URL=" + db.url, "JWT_SECRET=" + secret}
	if o.hashConc != "" {
		env = append(env, "PASSWORD_HASH_CONCURRENCY="+o.hashConc)
	}
	subsEnv := append(env, "WS_MAX_CONNECTIONS_PER_ADDRESS=0")
	subscriptions := func() error {
		if o.subscribers == 0 {
			return nil
		}
		return withServer(ctx, bin, work, subsEnv, func(s *server, token string) error {
			e, err := subscriptionScenario(ctx, o, s, token)
			if err != nil {
				return fmt.Errorf("subscriptions: %w (server log: %s)", err, tail(s.logPath))
			}
			r.subs = &e
			return nil
		})
	}
	if o.subsOnly {
		return subscriptions()
	}
	base, err := startBaseline(ctx, work, db.url, secret)
	if err != nil {
		return err
	}
	defer base.close()

	if err := withServer(ctx, bin, work, env, func(s *server, token string) error {
		return cachedScenarios(ctx, o, s, base, token, r)
	}); err != nil {
		return err
	}
	if err := withServer(ctx, bin, work, append(env, "RESPONSE_CACHE_TTL=0"), func(s *server, token string) error {
		return uncachedScenarios(ctx, o, s, base, token, r)
	}); err != nil {
		return err
	}
	return subscriptions()
}

// withServer starts a server, gets a user's access token from it, runs f and stops the server.
func withServer(ctx context.Context, bin, work string, env []string, f func(*server, string) error) error {
	s, err := startServer(ctx, bin, work, env)
	if err != nil {
		return err
	}
	defer s.stop()
	token, err := userToken(ctx, s.url)
	if err != nil {
		return fmt.Errorf("%w (server log: %s)", err, tail(s.logPath))
	}
	return f(s, token)
}

// cachedScenarios: a (memory and leaks), c with the cache on (ours, then the baseline), b (login flood).
func cachedScenarios(ctx context.Context, o options, s *server, base *baselineServer, token string, r *report) error {
	progress("a: %d clients on the catalog (cache on)", o.clients)
	r.memory = memoryScenario(ctx, o, s, token)
	r.add("a/c ours, cache on", r.memory.run, &r.memory)

	progress("c: %d clients on internal/baseline", o.clients)
	r.baseline = drive(ctx, newClient(o.clients), o.clients, o.duration, catalog(base.url, token, ""))
	r.add("c baseline", r.baseline, nil)

	var err error
	if r.tailCached, r.tailBaseline, err = tailScenario(ctx, o, s, base, token, "cache on", r); err != nil {
		return err
	}

	progress("b: catalog latency, %d clients, alone and beside %d login clients", o.idleClients, o.logins)
	r.idle, r.flooded, r.logins = loginFloodScenario(ctx, o, s, token)
	r.add("b catalog, idle", r.idle, nil)
	r.add(fmt.Sprintf("b catalog, %d logins", o.logins), r.flooded, nil)
	r.add("b login flood", r.logins, nil)
	return ctx.Err()
}

// uncachedScenarios: c with RESPONSE_CACHE_TTL=0 and, with -deep, d.
func uncachedScenarios(ctx context.Context, o options, s *server, base *baselineServer, token string, r *report) error {
	progress("c: %d clients on the catalog (cache off), then the baseline again", o.clients)
	r.uncached = drive(ctx, newClient(o.clients), o.clients, o.duration, catalog(s.url, token, ""))
	r.add("c ours, cache off", r.uncached, nil)
	r.baseline2 = drive(ctx, newClient(o.clients), o.clients, o.duration, catalog(base.url, token, ""))
	r.add("c baseline, again", r.baseline2, nil)

	var err error
	if r.tailUncached, r.tailBaseline2, err = tailScenario(ctx, o, s, base, token, "cache off", r); err != nil {
		return err
	}
	if !o.deep {
		return ctx.Err()
	}
	after, err := lastPageCursor(ctx, base, o.products)
	if err != nil {
		return err
	}
	progress("d: page 1 and the page after %s, %d clients, cache off", after, o.idleClients)
	r.deep = true
	r.page1, r.pageN, err = deepScenario(ctx, o, s, token, after)
	if err != nil {
		return err
	}
	r.add("d page 1, cache off", r.page1, nil)
	r.add(fmt.Sprintf("d page %d, cache off", o.products/50), r.pageN, nil)
	return ctx.Err()
}

// memoryRun is scenario a: the run, the server's peak memory, and its descriptors and threads
// before the run and once it is over.
type memoryRun struct {
	run                 stats
	rssPeakKiB, hwmKiB  int64
	idle, after         procStats
	idleErr, afterError error
}

// memoryScenario warms the server up, counts its idle descriptors, runs the load while sampling
// its memory, then closes the client's connections and counts again after settling. The warm-up
// asks for pages the response cache has not seen, so that the database pool opens every connection
// it will ever hold: what the load leaves open beyond that is a leak.
func memoryScenario(ctx context.Context, o options, s *server, token string) memoryRun {
	var m memoryRun
	t := catalog(s.url, token, "")
	var misses []target
	for i := range 500 {
		misses = append(misses, catalog(s.url, token, cursor(int64(i))))
	}
	warm := newClient(o.clients)
	driveMany(ctx, warm, o.clients, 2*time.Second, misses)
	warm.CloseIdleConnections()
	sleep(ctx, settle)
	m.idle, m.idleErr = readProc(s.pid())

	c := newClient(o.clients)
	sm := sample(s.pid())
	m.run = drive(ctx, c, o.clients, o.duration, t)
	m.rssPeakKiB = sm.peak()
	c.CloseIdleConnections()
	if st, err := readProc(s.pid()); err == nil {
		m.hwmKiB = st.hwmKiB
	}
	sleep(ctx, settle)
	m.after, m.afterError = readProc(s.pid())
	return m
}

// loginFloodScenario measures catalog latency with few clients, then again while other clients
// log in as fast as they can.
func loginFloodScenario(ctx context.Context, o options, s *server, token string) (idle, flooded, logins stats) {
	cat := catalog(s.url, token, "")
	idle = drive(ctx, newClient(o.idleClients), o.idleClients, o.duration, cat)

	login := graphQL(s.url, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`,
		map[string]any{"e": userEmail, "p": userPassword})
	flood := make(chan stats, 1)
	floodCtx, stop := context.WithCancel(ctx)
	go func() { flood <- drive(floodCtx, newClient(o.logins), o.logins, o.duration+time.Minute, login) }()
	sleep(ctx, time.Second) // let the flood fill the hashing slots
	flooded = drive(ctx, newClient(o.idleClients), o.idleClients, o.duration, cat)
	stop()
	return idle, flooded, <-flood
}

// deepScenario measures the latency of page 1 and of the page after `after`, one after the other.
func deepScenario(ctx context.Context, o options, s *server, token, after string) (first, deep stats, err error) {
	c := newClient(o.idleClients)
	deepTarget := catalog(s.url, token, after)
	body, err := do(ctx, c, deepTarget)
	if err != nil {
		return first, deep, err
	}
	var page struct {
		Data struct {
			Products struct {
				Items    []json.RawMessage `json:"items"`
				PageInfo struct {
					HasNextPage bool `json:"hasNextPage"`
				} `json:"pageInfo"`
			} `json:"products"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return first, deep, err
	}
	if p := page.Data.Products; len(p.Items) != 50 || p.PageInfo.HasNextPage {
		return first, deep, fmt.Errorf("the deep page is not the last full page: %d items, hasNextPage %v", len(p.Items), p.PageInfo.HasNextPage)
	}
	first = drive(ctx, c, o.idleClients, o.duration, catalog(s.url, token, ""))
	deep = drive(ctx, c, o.idleClients, o.duration, deepTarget)
	return first, deep, nil
}

// lastPageCursor is the cursor after which the last page of 50 starts: that of product
// products-50 in listing order (999,950 of 1,000,000, whose next page is page 20,000).
func lastPageCursor(ctx context.Context, base *baselineServer, products int) (string, error) {
	var id int64
	err := base.app.DB.QueryRowContext(ctx, "SELECT id FROM products ORDER BY id LIMIT 1 OFFSET "+strconv.Itoa(products-51)).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("find the last page: %w", err)
	}
	return cursor(id), nil
}

// tailScenario is scenario e: the long tail on the server, then on the baseline, added to r.
func tailScenario(ctx context.Context, o options, s *server, base *baselineServer, token, cache string, r *report) (ours, theirs stats, err error) {
	tail, err := longTail(ctx, base, o.longTail)
	if err != nil {
		return ours, theirs, err
	}
	progress("e: %d clients on %d distinct pages (%s), then the baseline", o.clients, len(tail), cache)
	ours = driveMany(ctx, newClient(o.clients), o.clients, o.duration, tail.on(s.url, token))
	r.add("e long tail, ours, "+cache, ours, nil)
	theirs = driveMany(ctx, newClient(o.clients), o.clients, o.duration, tail.on(base.url, token))
	r.add("e long tail, baseline ("+cache+")", theirs, nil)
	return ours, theirs, nil
}

// longTailQuery asks the catalog page its variables give.
const longTailQuery = `query($first: Int, $after: String) { products(first: $first, after: $after) { items { name price category { name } } totalCount pageInfo { endCursor hasNextPage } } }`

// pages are distinct long-tail requests: their variables.
type pages []map[string]any

// longTail picks n distinct pages, each the first 10, 20 or 50 products after a random product
// (never one of the last 50, so that every page is full), seeded so that runs ask the same pages.
func longTail(ctx context.Context, base *baselineServer, n int) (pages, error) {
	var ids []int64
	rows, err := base.app.DB.QueryContext(ctx, "SELECT id FROM products ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) <= 50 {
		return nil, fmt.Errorf("long tail: only %d products", len(ids))
	}
	n = min(n, 3*(len(ids)-50))
	rng := rand.New(rand.NewPCG(12, 12))
	seen := map[[2]int64]bool{}
	var ps pages
	for len(ps) < n {
		first, after := []int64{10, 20, 50}[rng.IntN(3)], ids[rng.IntN(len(ids)-50)]
		if !seen[[2]int64{first, after}] {
			seen[[2]int64{first, after}] = true
			ps = append(ps, map[string]any{"first": first, "after": cursor(after)})
		}
	}
	return ps, nil
}

// on returns the pages as requests to the server at url.
func (ps pages) on(url, token string) []target {
	ts := make([]target, len(ps))
	for i, vars := range ps {
		ts[i] = graphQL(url, token, longTailQuery, vars)
	}
	return ts
}

// cursor is the pagination cursor after product ID id.
func cursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("p:" + strconv.FormatInt(id, 10)))
}

// The account whose token the load uses.
const (
	userEmail    = "load@example.com"
	userPassword = "load-test-password"
)

// userToken registers the load test's user (once per database) and logs it in.
func userToken(ctx context.Context, url string) (string, error) {
	c := newClient(1)
	reg := graphQL(url, "", `mutation($e: String!, $p: String!) { register(input: {email: $e, username: "load", password: $p}) { id } }`,
		map[string]any{"e": userEmail, "p": userPassword})
	_, _ = do(ctx, c, reg) // the second server finds the account there already (CONFLICT): fine
	login := graphQL(url, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`,
		map[string]any{"e": userEmail, "p": userPassword})
	body, err := do(ctx, c, login)
	if err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	var out struct {
		Data struct {
			Login struct {
				AccessToken string `json:"accessToken"`
			} `json:"login"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Data.Login.AccessToken == "" {
		return "", fmt.Errorf("login: no token in %.200s", body)
	}
	return out.Data.Login.AccessToken, nil
}

// baselineServer serves internal/baseline from a process of its own (this program, started again
// with baselineProcess set), on the load test's database, verifying tokens with the same secret and
// settings as the server: like the server, it then shares the machine with the clients through the
// kernel rather than sharing this process's scheduler and collector with them. app is an instance
// in this process, for reading the database.
type baselineServer struct {
	app   *app.App
	child *server
	url   string
}

// baselineProcess, in the environment, makes this program serve the baseline instead
// (serveBaseline).
const baselineProcess = "SHOPQL_LOADTEST_BASELINE"

func startBaseline(ctx context.Context, work, dbURL, secret string) (*baselineServer, error) {
	env := map[string]string{"DATABASE_URL": dbURL, "JWT_SECRET": secret, "LOG_LEVEL": "warn"}
	cfg, err := app.LoadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		return nil, err
	}
	a, err := app.New(ctx, cfg, app.NewLogger(os.Stderr, "text", slog.LevelWarn))
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		a.Close()
		return nil, err
	}
	child, err := startServer(ctx, self, work, []string{baselineProcess + "=1", "DATABASE_URL=" + dbURL, "JWT_SECRET=" + secret})
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("baseline: %w", err)
	}
	return &baselineServer{app: a, child: child, url: child.url}, nil
}

func (b *baselineServer) close() {
	b.child.stop()
	_ = b.app.Close()
}

// serveBaseline is this program started by startBaseline: it serves internal/baseline on PORT
// (and /readyz, which startServer waits for) until SIGTERM.
func serveBaseline() error {
	cfg, err := app.LoadConfig(nil, os.Getenv, io.Discard)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	a, err := app.New(ctx, cfg, app.NewLogger(os.Stderr, "text", slog.LevelWarn))
	if err != nil {
		return err
	}
	defer a.Close()
	mux := http.NewServeMux()
	mux.Handle("POST /graphql", baseline.Handler(a.DB.DB, store.IsPostgres(a.DB), a.Auth))
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	srv := &http.Server{Addr: "127.0.0.1:" + strconv.Itoa(cfg.Port), Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
