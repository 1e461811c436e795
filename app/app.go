// Package app assembles the shop server from its parts: it opens and migrates the database, sets up
// token signing and the auth service, and builds the HTTP handler that server.go serves and the tests
// drive end to end.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/uptrace/bun"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopql/shopql/auth"
	"github.com/shopql/shopql/graph"
	"github.com/shopql/shopql/graphiql"
	"github.com/shopql/shopql/store"
)

// App is a running shop server: its database, its auth service and background work.
type App struct {
	cfg     Config
	log     *slog.Logger
	DB      *bun.DB
	Auth    *auth.Service
	tokens  *auth.Tokens
	catalog *store.Catalog
	hasher  *auth.Hasher
	cache   *graph.CatalogCache // nil when disabled
	metrics *metrics            // nil when METRICS is off
	feed    *graph.ProductFeed
	publish func(store.ProductEvent) // feed.Publish, made once rather than per request
	sockets *sockets
	handler http.Handler

	// adjustSchema, when set (by tests only, export_test.go), changes the executable schema's
	// configuration before the handler is built: a way to inject failing resolvers.
	adjustSchema func(*graph.Config)
	// aroundFields, when set (by tests only, export_test.go), is installed as field middleware:
	// every field then goes through graphql.ResolveField, which the differential test compares
	// with the plain fields of the rewritten executor (graph/execution.go, plainFields).
	aroundFields graphql.FieldMiddleware

	stop func()
	wg   sync.WaitGroup
}

// New opens the database, applies migrations, prepares signing keys and the admin account, and
// starts the background resync of the session view. Close releases it all.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	db, err := store.Open(ctx, cfg.DatabaseURL, store.Options{
		MaxOpenConns: cfg.DBMaxOpenConns, MaxIdleConns: cfg.DBMaxIdleConns,
		ConnMaxLifetime: cfg.DBConnMaxLifetime, SearchPath: cfg.SearchPath,
		BusyTimeout: cfg.RequestTimeout, QueryHooks: cfg.QueryHooks,
	})
	if err != nil {
		return nil, err
	}
	a, err := build(ctx, cfg, log, db)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return a, nil
}

func build(ctx context.Context, cfg Config, log *slog.Logger, db *bun.DB) (*App, error) {
	log = withRequestIDs(log)
	applied, err := store.Migrate(ctx, db)
	if err != nil {
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("applied migrations", "migrations", applied)
	}

	keys, err := signingKeys(ctx, cfg, log, db)
	if err != nil {
		return nil, err
	}
	tokens, err := auth.NewTokens(auth.TokenConfig{
		Keys: keys, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, Leeway: cfg.JWTLeeway,
		AccessTTL: cfg.AccessTokenTTL, RefreshTTL: cfg.RefreshTokenTTL,
	})
	if err != nil {
		return nil, err
	}
	deviceKey, err := auth.DeviceKey(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("device token key: %w", err)
	}
	devices, err := auth.NewDeviceTokens(deviceKey, cfg.DeviceTokenTTL)
	if err != nil {
		return nil, err
	}
	catalog, err := store.NewCatalog(ctx, db)
	if err != nil {
		return nil, err
	}
	hasher := auth.NewHasher(auth.Argon2Params{
		MemoryKiB: uint32(cfg.PasswordHashMemoryKiB), Time: uint32(cfg.PasswordHashIterations), Threads: 1,
	}, cfg.PasswordHashConcurrency)
	hasher.SetMaxWaiting(cfg.PasswordHashQueue)
	svc := auth.NewService(db, tokens, hasher, log)
	svc.SetLimits(cfg.bruteForceLimits())
	svc.SetDeviceTokens(devices)
	svc.SetRefreshReuseInterval(cfg.RefreshReuseInterval)
	a := &App{cfg: cfg, log: log, DB: db, Auth: svc, tokens: tokens, catalog: catalog, hasher: hasher,
		feed: graph.NewProductFeed(db, cfg.WSEventQueue, log), sockets: newSockets(cfg, svc)}
	a.publish = a.feed.Publish
	if cfg.ResponseCacheTTL > 0 {
		a.cache = graph.NewCatalogCache(256, cfg.ResponseCacheTTL, 32<<10)
	}
	if cfg.Metrics {
		a.metrics = newMetrics(db.DB)
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stop = cancel
	a.wg.Go(func() { a.feed.Run(bg) })
	fail := func(err error) (*App, error) {
		cancel()
		a.wg.Wait()
		catalog.Close()
		hasher.Close()
		return nil, err
	}

	// Subscribe to other instances' announcements before loading the session view, so that no
	// session or revocation can fall between the load and the subscription.
	resync := make(chan struct{}, 1)
	listening := make(chan struct{})
	a.wg.Go(func() { a.listen(bg, resync, listening) })
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		log.Warn("not yet subscribed to other instances' changes; relying on the periodic resync until then")
	}
	if err := svc.SyncSessions(ctx); err != nil {
		return fail(fmt.Errorf("load sessions: %w", err))
	}
	if cfg.AdminEmail != "" {
		if _, err := svc.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword); err != nil {
			return fail(fmt.Errorf("ADMIN_EMAIL: %w", err))
		}
	}
	a.handler = a.routes()
	a.wg.Go(func() { svc.Run(bg, cfg.RevocationSyncInterval, resync) })
	if ed, ok := keys.(*auth.Ed25519Keys); ok {
		a.wg.Go(func() { a.maintainKeys(bg, ed) })
	}
	return a, nil
}

// signingKeys returns the token keys JWT_SIGNING asks for: an HS256 secret (JWT_SECRET, or one
// generated once and kept in the database), or Ed25519 keys kept in the database and rotated.
func signingKeys(ctx context.Context, cfg Config, log *slog.Logger, db *bun.DB) (auth.Keys, error) {
	if cfg.JWTSigning == "ed25519" {
		// A retired key must verify until the last refresh token it signed has expired.
		return auth.NewEd25519Keys(ctx, db, cfg.JWTKeyRotation, cfg.RefreshTokenTTL+cfg.JWTLeeway)
	}
	secret, generated, err := auth.SigningSecret(ctx, db, cfg.JWTSecret)
	if err != nil {
		return nil, err
	}
	if generated {
		log.Warn("JWT_SECRET is not set: using a secret generated once and kept in the database; set JWT_SECRET in production")
	}
	return auth.SecretKey(secret), nil
}

// maintainKeys rotates and retires Ed25519 keys on schedule, and picks up keys other instances made.
func (a *App) maintainKeys(ctx context.Context, keys *auth.Ed25519Keys) {
	ticker := time.NewTicker(keys.MaintenanceInterval())
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if err := keys.Maintain(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("signing key maintenance failed", "err", err)
			}
		}
	}
}

// listen applies what instances announce through the database (PostgreSQL only): revoked and new
// sessions, catalog changes that make cached responses stale, and product changes for
// subscriptions (this instance's own too: they come this way so that only committed ones do). When announcements may have
// been lost it asks for a revocation resync and drops the cache. It closes listening once
// subscribed (at once on SQLite, which has no announcements).
func (a *App) listen(ctx context.Context, resync chan<- struct{}, listening chan<- struct{}) {
	subscribed := sync.OnceFunc(func() { close(listening) })
	defer subscribed()
	onGap := func() {
		select {
		case resync <- struct{}{}:
		default:
		}
		a.invalidateCache("")
	}
	handlers := map[string]func(string){
		store.RevocationChannel: a.Auth.ApplyRevocationNotice,
		store.SessionChannel:    a.Auth.ApplySessionNotice,
		store.CatalogChannel:    a.invalidateCache,
		store.ProductChannel:    a.feed.Announce,
	}
	for ctx.Err() == nil {
		err := store.Listen(ctx, a.DB, handlers, subscribed, onGap)
		if err == nil {
			return
		}
		if ctx.Err() == nil {
			a.log.Warn("listening for changes from other instances failed; retrying", "err", err)
			onGap()
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
		}
	}
}

func (a *App) invalidateCache(string) {
	if a.cache != nil {
		a.cache.Invalidate()
	}
}

// Subscriptions is the number of subscriptions open on this instance (for tests and the load
// script).
func (a *App) Subscriptions() int { return a.feed.Subscribers() }

// Handler is the whole HTTP API.
func (a *App) Handler() http.Handler { return a.handler }

// MetricsHandler serves GET /metrics alone, for the listener of its own that METRICS_ADDR asks
// for (then Handler does not serve it); nil when METRICS is off.
func (a *App) MetricsHandler() http.Handler {
	if a.metrics == nil {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.handler())
	return mux
}

// Close stops background work and closes the database. Call it after the HTTP server has drained.
func (a *App) Close() error {
	a.sockets.closeAll()
	a.stop()
	a.wg.Wait()
	a.catalog.Close()
	a.hasher.Close()
	return a.DB.Close()
}

// routes is the API's mux, and around it what every request goes through. Its patterns name no
// method: a route answers other methods itself (405: the GraphQL transport, GraphiQL, getOnly), so
// that the pattern a request matches, and with it the route it counts under (routeLabel), is the
// route's whatever its method. A route switched off answers as a path no route serves, under its
// own pattern still.
func (a *App) routes() http.Handler {
	// What no route serves: GraphiQL's handler when it is on (404; 405 for methods but GET and HEAD).
	unknown := http.NotFoundHandler()
	page := unknown
	if a.cfg.GraphiQL {
		page = graphiql.Handler("shopql", "/graphql")
		unknown = page
	}
	metrics := unknown
	if a.metrics != nil && a.cfg.MetricsAddr == "" {
		metrics = getOnly(a.metrics.handler())
	}
	mux := http.NewServeMux()
	mux.Handle("/graphql", a.graphQLRequests(a.graphQLServer()))
	mux.Handle("/healthz", getOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})))
	mux.Handle("/readyz", getOnly(http.HandlerFunc(a.ready)))
	mux.Handle("/.well-known/jwks.json", getOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(a.tokens.JWKS())
	})))
	mux.Handle("/metrics", metrics)
	// GraphiQL: the page at / and its embedded assets beside it.
	mux.Handle("/{$}", page)
	mux.Handle("/graphiql.js", page)
	mux.Handle("/graphiql.css", page)
	mux.Handle("/", unknown)
	return a.observe(mux, cors(a.cfg.CORSAllowedOrigins, a.cfg.CORSAllowedHeaders, recoverPanics(a.log, mux)))
}

// graphQLRequests is what a /graphql request goes through before the GraphQL server, in one copy
// of the request (each middleware's own would cost one per middleware): the body bound and the
// client's address (guardGraphQL), the WebSocket upgrade checks (sockets.admit), then the context
// the resolvers read.
func (a *App) graphQLRequests(next http.Handler) http.Handler {
	maxBody, trusted := int64(a.cfg.MaxBodyBytes), a.cfg.TrustedProxies
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := guardGraphQL(w, r, maxBody, trusted)
		if isWebSocketUpgrade(r) {
			a.sockets.admit(ctx, w, r, func(ctx context.Context) { next.ServeHTTP(w, r.WithContext(a.requestContext(ctx, r))) })
			return
		}
		next.ServeHTTP(w, r.WithContext(a.requestContext(ctx, r)))
	})
}

// requestContext is ctx with what the resolvers of r read from it: where its product writes go
// once they commit (this instance's subscriptions on SQLite; on PostgreSQL they come back through
// the database, see listen), the identity its Authorization header proves, and its loaders.
func (a *App) requestContext(ctx context.Context, r *http.Request) context.Context {
	ctx = store.WithPublisher(ctx, a.publish)
	ctx = a.Auth.WithIdentity(ctx, r.Header)
	return graph.WithLoaders(ctx, a.DB)
}

// getOnly answers other methods than GET and HEAD with 405, as ServeMux does for a "GET /…" pattern.
func getOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *App) graphQLServer() *handler.Server {
	schema := graph.Config{
		Resolvers: &graph.Resolver{DB: a.DB, Auth: a.Auth, Catalog: a.catalog, Feed: a.feed},
		Directives: graph.DirectiveRoot{
			Auth:  auth.AuthDirective,
			Fresh: auth.FreshDirective,
			Admin: auth.AdminDirective,
		},
		Complexity: graph.Complexity(),
	}
	if a.adjustSchema != nil {
		a.adjustSchema(&schema)
	}
	srv := handler.New(graph.NewServedSchema(schema))
	// GraphQL over WebSocket first (websocket.go): the HTTP transport takes every GET, upgrades too.
	srv.AddTransport(a.webSocketTransport())
	// GraphQL over HTTP as its spec says (httpspec.go); every other method is 405.
	srv.AddTransport(httpTransport{})
	srv.AddTransport(otherMethods{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(a.cfg.GraphQLMaxTokens)
	if a.cfg.GraphQLIntrospection {
		srv.Use(extension.Introspection{})
	}
	// Before persisted queries, so that an oversized document is refused before it is stored. It
	// also validates documents: shape limits first, a bounded number of errors, and without
	// introspection, messages that say nothing of the schema.
	lim := a.cfg.graphQLLimits()
	lim.Install(srv)
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.AroundResponses(a.cfg.withTimeout())
	srv.AroundResponses(a.subscriptionEvents())
	if a.cache != nil {
		srv.Use(a.cache)
	}
	srv.AroundOperations(recordOperation)
	srv.SetErrorPresenter(recordErrors(lim.Presenter(graph.ErrorPresenter(a.log))))
	srv.SetRecoverFunc(graph.Recover(a.log))
	if a.aroundFields != nil {
		srv.AroundFields(a.aroundFields)
	}
	return srv
}

// ready reports whether the database answers and has every migration applied.
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	pending, err := store.Pending(ctx, a.DB)
	switch {
	case err != nil:
		a.log.Warn("readiness check failed", "err", err)
		writeStatus(w, http.StatusServiceUnavailable, "database unavailable")
	case pending > 0:
		writeStatus(w, http.StatusServiceUnavailable, "migrations pending")
	default:
		writeStatus(w, http.StatusOK, "ready")
	}
}

func writeStatus(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, msg)
}

// recoverPanics turns a panic outside the GraphQL executor (which has its own) into a plain 500,
// with the stack in the log and none in the response.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic in handler", "panic", p, "path", r.URL.Path)
				http.Error(w, "internal server error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
