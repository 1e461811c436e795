package app

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/auth"
)

// Config is every setting of the server. Each comes from a command-line flag, else from its
// environment variable, else its default; `shopql -h` lists them all.
type Config struct {
	Port        int
	DatabaseURL string

	JWTSecret       string
	JWTSigning      string
	JWTKeyRotation  time.Duration
	JWTIssuer       string
	JWTAudience     string
	JWTLeeway       time.Duration
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// RefreshReuseInterval is the grace after a rotation during which the consumed refresh token
	// may be presented again and gets the same successor; 0: none.
	RefreshReuseInterval time.Duration
	AdminEmail           string
	AdminPassword        string

	ResponseCacheTTL time.Duration

	PasswordHashConcurrency int
	GCMinHeapMiB            int // the heap floor of garbage collection (KeepHeapFloor); 0: Go's own
	PasswordHashMemoryKiB   int
	PasswordHashIterations  int
	RevocationSyncInterval  time.Duration

	DBMaxOpenConns    int
	DBMaxIdleConns    int
	DBConnMaxLifetime time.Duration

	LogFormat string // text or json (ParseLogFormat)
	LogLevel  slog.Level

	// CORSAllowedOrigins are the origins whose pages may call the API, as browsers send them (lower
	// case, no default port), or "*" for any (ParseCORSOrigins reads CORS_ALLOWED_ORIGINS).
	CORSAllowedOrigins []string
	// CORSAllowedHeaders are the request headers those pages may send besides the defaults
	// (ParseCORSHeaders reads CORS_ALLOWED_HEADERS).
	CORSAllowedHeaders []string
	Metrics            bool
	MetricsAddr        string // "": /metrics on the public port; host:port: on a listener of its own there

	// Abuse limits (app/limits.go; README, Security); zero disables a limit.
	GraphQLMaxDepth         int
	GraphQLMaxAliases       int
	GraphQLMaxDirectives    int
	GraphQLMaxTokens        int
	GraphQLMaxDocumentBytes int
	GraphQLMaxComplexity    int
	GraphQLIntrospection    bool
	GraphiQL                bool
	MaxBodyBytes            int
	RequestTimeout          time.Duration
	LoginLimitPerAccount    auth.Rate
	LoginLimitPerAddress    auth.Rate
	LoginLimitPerDevice     auth.Rate
	DeviceTokenTTL          time.Duration
	RegisterLimitPerAddress auth.Rate
	PasswordHashQueue       int
	TrustedProxies          []netip.Prefix // ParseTrustedProxies reads TRUSTED_PROXIES

	// GraphQL over WebSocket (app/websocket.go; README, Subscriptions).
	WSInitTimeout              time.Duration
	WSPingInterval             time.Duration
	WSMaxConnectionsPerAddress int
	WSMaxSubscriptions         int
	WSEventQueue               int

	// SearchPath is the PostgreSQL schema to use; only tests set it, to isolate their data.
	SearchPath string
	// QueryHooks see every SQL statement the server runs; only tests set them.
	QueryHooks []bun.QueryHook
}

// setting describes one configuration value for both the flag set and the environment.
type setting struct {
	env, flag, usage string
	bind             func(fs *flag.FlagSet, name, usage string)
	secret           bool // never echo its value in the usage text
}

func settings(c *Config) []setting {
	return []setting{
		{"PORT", "port", "HTTP port to listen on", intVar(&c.Port, 8080), false},
		{"DATABASE_URL", "database-url", "postgres://… for PostgreSQL; otherwise a SQLite file path", stringVar(&c.DatabaseURL, "shop.db"), false},
		{"JWT_SECRET", "jwt-secret", "HS256 signing key: at least 32 bytes and 128 bits of estimated strength (e.g. openssl rand -base64 48); if empty, one is generated and kept in the database", stringVar(&c.JWTSecret, ""), true},
		{"JWT_SIGNING", "jwt-signing", "token signatures: hs256 (shared JWT_SECRET) or ed25519 (key pairs kept in the database, rotated, published at /.well-known/jwks.json)", stringVar(&c.JWTSigning, "hs256"), false},
		{"JWT_KEY_ROTATION", "jwt-key-rotation", "with ed25519: how long a key signs before a new one replaces it", durationVar(&c.JWTKeyRotation, 720*time.Hour), false},
		{"JWT_ISSUER", "jwt-issuer", "iss claim set in and required of tokens", stringVar(&c.JWTIssuer, "shopql"), false},
		{"JWT_AUDIENCE", "jwt-audience", "aud claim set in and required of tokens", stringVar(&c.JWTAudience, "shopql"), false},
		{"JWT_LEEWAY", "jwt-leeway", "clock difference tolerated between instances when checking nbf and iat (never exp: a token expires exactly at its exp)", durationVar(&c.JWTLeeway, 5*time.Second), false},
		{"ACCESS_TOKEN_TTL", "access-token-ttl", "lifetime of access tokens", durationVar(&c.AccessTokenTTL, 15*time.Minute), false},
		{"REFRESH_TOKEN_TTL", "refresh-token-ttl", "lifetime of refresh tokens (and of a session without refresh)", durationVar(&c.RefreshTokenTTL, 720*time.Hour), false},
		{"REFRESH_REUSE_INTERVAL", "refresh-reuse-interval", "how long after a refresh the refresh token it consumed may be presented again (two tabs refreshing at once, a retried request) and gets the same new refresh token; later it counts as reuse and revokes the session; 0: no grace", durationVar(&c.RefreshReuseInterval, 10*time.Second), false},
		{"ADMIN_EMAIL", "admin-email", "with ADMIN_PASSWORD: at start-up, create this account, or make it an administrator if ADMIN_PASSWORD is its password", stringVar(&c.AdminEmail, ""), false},
		{"ADMIN_PASSWORD", "admin-password", "password of the ADMIN_EMAIL account: set when creating it, proven when promoting an existing one", stringVar(&c.AdminPassword, ""), true},
		{"PASSWORD_HASH_CONCURRENCY", "password-hash-concurrency", "password hashes computed at once (each takes 19 MiB); 0 means half the CPUs (at least 1), so that a login flood cannot starve other requests", intVar(&c.PasswordHashConcurrency, 0), false},
		{"PASSWORD_HASH_MEMORY_KIB", "password-hash-memory-kib", "argon2id memory per hash in KiB (OWASP: 19456)", intVar(&c.PasswordHashMemoryKiB, int(auth.DefaultArgon2Params.MemoryKiB)), false},
		{"PASSWORD_HASH_ITERATIONS", "password-hash-iterations", "argon2id passes per hash (OWASP: 2)", intVar(&c.PasswordHashIterations, int(auth.DefaultArgon2Params.Time)), false},
		{"RESPONSE_CACHE_TTL", "response-cache-ttl", "how long a catalog response may be served from memory (catalog writes invalidate it at once on every instance sharing a PostgreSQL database); 0 disables the cache", durationVar(&c.ResponseCacheTTL, 5*time.Second), false},
		{"REVOCATION_SYNC_INTERVAL", "revocation-sync-interval", "how often the in-memory session view (live and revoked sessions) is resynced from the database (PostgreSQL also pushes changes at once)", durationVar(&c.RevocationSyncInterval, 5*time.Second), false},
		{"GC_MIN_HEAP_MIB", "gc-min-heap-mib", "heap size in MiB below which no garbage collection starts (Go's own floor is 4 MiB, which a server's few MiB of requests in flight reach ~100 times a second); above it GOGC's growth applies, and GOMEMLIMIT still caps it; 0: Go's floor", intVar(&c.GCMinHeapMiB, 16), false},
		{"DB_MAX_OPEN_CONNS", "db-max-open-conns", "database connections at most; 0 means 8 for SQLite, 20 for PostgreSQL", intVar(&c.DBMaxOpenConns, 0), false},
		{"DB_MAX_IDLE_CONNS", "db-max-idle-conns", "idle database connections kept; 0 means as many as DB_MAX_OPEN_CONNS", intVar(&c.DBMaxIdleConns, 0), false},
		{"DB_CONN_MAX_LIFETIME", "db-conn-max-lifetime", "recycle database connections after this long", durationVar(&c.DBConnMaxLifetime, 30*time.Minute), false},
		{"LOG_FORMAT", "log-format", "log format: text or json", parsedVar(&c.LogFormat, "text", ParseLogFormat), false},
		{"LOG_LEVEL", "log-level", "log level: debug, info, warn or error", parsedVar(&c.LogLevel, "info", ParseLogLevel), false},
		{"GRAPHQL_MAX_DEPTH", "graphql-max-depth", "deepest field nesting a query may have (introspection exempt); 0: no limit", intVar(&c.GraphQLMaxDepth, 10), false},
		{"GRAPHQL_MAX_ALIASES", "graphql-max-aliases", "aliased fields a query may have (__typename exempt); 0: no limit", intVar(&c.GraphQLMaxAliases, 15), false},
		{"GRAPHQL_MAX_DIRECTIVES", "graphql-max-directives", "directives a query may use; 0: no limit", intVar(&c.GraphQLMaxDirectives, 50), false},
		{"GRAPHQL_MAX_TOKENS", "graphql-max-tokens", "lexical tokens the parser reads of a query before giving up; 0: no limit", intVar(&c.GraphQLMaxTokens, 2000), false},
		{"GRAPHQL_MAX_DOCUMENT_BYTES", "graphql-max-document-bytes", "size of a query document in bytes; 0: no limit", intVar(&c.GraphQLMaxDocumentBytes, 32<<10), false},
		{"GRAPHQL_MAX_COMPLEXITY", "graphql-max-complexity", "cost a query may have (1 per field, lists multiplied by products(first:) or an assumed size); 0: no limit", intVar(&c.GraphQLMaxComplexity, 5000), false},
		{"GRAPHQL_INTROSPECTION", "graphql-introspection", "answer introspection queries and suggest field names in errors (turn off in production if the schema is private)", boolVar(&c.GraphQLIntrospection, true), false},
		{"GRAPHIQL", "graphiql", "serve the GraphiQL page at /", boolVar(&c.GraphiQL, true), false},
		{"MAX_BODY_BYTES", "max-body-bytes", "size of a request body in bytes (larger: 413); 0: no limit", intVar(&c.MaxBodyBytes, 1<<20), false},
		{"REQUEST_TIMEOUT", "request-timeout", "execution time of one GraphQL request (then TIMEOUT); 0: no limit", durationVar(&c.RequestTimeout, 10*time.Second), false},
		{"LOGIN_LIMIT_PER_ACCOUNT", "login-limit-per-account", "failed logins per account: N at once, refilled at N per duration (e.g. 10/10m); 0: no limit", parsedVar(&c.LoginLimitPerAccount, "10/10m", auth.ParseRate), false},
		{"LOGIN_LIMIT_PER_ADDRESS", "login-limit-per-address", "failed logins per client address, as N/duration; 0: no limit", parsedVar(&c.LoginLimitPerAddress, "50/10m", auth.ParseRate), false},
		{"LOGIN_LIMIT_PER_DEVICE", "login-limit-per-device", "failed logins per trusted device (a login with a valid device token, which the per-account and per-address limits do not hold), as N/duration; 0: no limit", parsedVar(&c.LoginLimitPerDevice, "10/10m", auth.ParseRate), false},
		{"DEVICE_TOKEN_TTL", "device-token-ttl", "how long a device token (returned by login and refreshToken) keeps its client trusted without another login or refresh", durationVar(&c.DeviceTokenTTL, 8760*time.Hour), false},
		{"REGISTER_LIMIT_PER_ADDRESS", "register-limit-per-address", "registrations per client address, as N/duration; 0: no limit", parsedVar(&c.RegisterLimitPerAddress, "20/1h", auth.ParseRate), false},
		{"PASSWORD_HASH_QUEUE", "password-hash-queue", "password checks that may wait for a hashing slot; more are refused with TOO_MANY_REQUESTS; -1: no limit", intVar(&c.PasswordHashQueue, 64), false},
		{"TRUSTED_PROXIES", "trusted-proxies", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (the client is its right-most address outside them); empty: the TCP peer is the client", parsedVar(&c.TrustedProxies, "", ParseTrustedProxies), false},
		{"CORS_ALLOWED_ORIGINS", "cors-allowed-origins", "comma-separated origins (e.g. https://shop.example.com) whose web pages may call the API, or * for any; empty allows none", parsedVar(&c.CORSAllowedOrigins, "", ParseCORSOrigins), false},
		{"CORS_ALLOWED_HEADERS", "cors-allowed-headers", "comma-separated request headers those pages may send besides the defaults (Authorization, Content-Type, Apollo client awareness, W3C trace context, sentry-trace, …)", parsedVar(&c.CORSAllowedHeaders, "", ParseCORSHeaders), false},
		{"WS_INIT_TIMEOUT", "ws-init-timeout", "how long a WebSocket may take to send connection_init (then closed with 4408)", durationVar(&c.WSInitTimeout, 10*time.Second), false},
		{"WS_PING_INTERVAL", "ws-ping-interval", "how often the server pings a WebSocket; one that answers no pong within twice this is dropped; 0: no pings", durationVar(&c.WSPingInterval, 25*time.Second), false},
		{"WS_MAX_CONNECTIONS_PER_ADDRESS", "ws-max-connections-per-address", "open WebSockets per client address (more are refused with HTTP 429); 0: no limit", intVar(&c.WSMaxConnectionsPerAddress, 50), false},
		{"WS_MAX_SUBSCRIPTIONS", "ws-max-subscriptions", "subscriptions one WebSocket may run at once (more are refused with TOO_MANY_REQUESTS); 0: no limit", intVar(&c.WSMaxSubscriptions, 100), false},
		{"WS_EVENT_QUEUE", "ws-event-queue", "events a subscription may have waiting to be sent; a connection that falls further behind is closed (1013 SLOW_CONSUMER)", intVar(&c.WSEventQueue, 64), false},
		{"METRICS", "metrics", "serve Prometheus metrics at /metrics", boolVar(&c.Metrics, true), false},
		{"METRICS_ADDR", "metrics-addr", "host:port of a listener of its own for /metrics (e.g. 127.0.0.1:9090), which is then no longer served on PORT; empty: /metrics is on PORT", stringVar(&c.MetricsAddr, ""), false},
	}
}

// LoadConfig reads the settings from args (without the program name) and getenv. extra, if given,
// adds a subcommand's own flags to the same flag set.
func LoadConfig(args []string, getenv func(string) string, usageOut io.Writer, extra ...func(*flag.FlagSet)) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("shopql", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	all := settings(&c)
	for _, s := range all {
		// Bound with the built-in default, so that the usage text shows that and never a value
		// from the environment (DATABASE_URL may hold a password).
		s.bind(fs, s.flag, fmt.Sprintf("%s (env %s)", s.usage, s.env))
		if s.secret {
			fs.Lookup(s.flag).DefValue = ""
		}
	}
	for _, add := range extra {
		add(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "shopql: the shop's GraphQL API server.\n\nUsage:\n  shopql [flags]\n  shopql seed [-products N] [-categories N] [flags]   add sample products\n\nEvery flag can also be set by the environment variable named beside it; a flag wins.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	// The environment fills in what the command line left unset: a flag wins, even over a
	// malformed variable.
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, s := range all {
		if v := getenv(s.env); v != "" && !given[s.flag] {
			if err := fs.Set(s.flag, v); err != nil {
				return c, fmt.Errorf("%s: invalid value %q: %w", s.env, v, err)
			}
		}
	}
	if c.PasswordHashConcurrency <= 0 {
		// Half the CPUs: a login flood leaves the other half to the rest of the API.
		c.PasswordHashConcurrency = max(1, runtime.GOMAXPROCS(0)/2)
	}
	return c, c.validate()
}

// maxGCMinHeapMiB bounds the heap floor at 64 GiB: more is a typo, not a plan.
const maxGCMinHeapMiB = 64 << 10

// maxJWTLeeway bounds the clock tolerance: minutes of skew mean a broken clock, not a setting.
const maxJWTLeeway = 5 * time.Minute

func (c *Config) validate() error {
	var problems []string
	if c.Port < 0 || c.Port > 65535 {
		problems = append(problems, "PORT must be between 0 and 65535")
	}
	if c.JWTSecret != "" {
		if err := auth.CheckSecret([]byte(c.JWTSecret)); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if c.MetricsAddr != "" {
		if !c.Metrics {
			problems = append(problems, "METRICS_ADDR is set but METRICS is off")
		} else if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
			problems = append(problems, "METRICS_ADDR must be host:port, e.g. 127.0.0.1:9090")
		}
	}
	if c.JWTSigning != "hs256" && c.JWTSigning != "ed25519" {
		problems = append(problems, "JWT_SIGNING must be hs256 or ed25519")
	}
	if c.JWTLeeway < 0 || c.JWTLeeway > maxJWTLeeway {
		// Revoked sessions are forgotten an hour after their tokens expire; a token accepted for
		// longer than that past its exp could outlive its revocation.
		problems = append(problems, "JWT_LEEWAY must be between 0 and "+maxJWTLeeway.String())
	}
	if c.JWTKeyRotation <= 0 {
		problems = append(problems, "JWT_KEY_ROTATION must be positive")
	}
	if c.RefreshReuseInterval < 0 || c.RefreshReuseInterval > time.Minute {
		// A long grace would let a stolen refresh token be used alongside its owner's unnoticed.
		problems = append(problems, "REFRESH_REUSE_INTERVAL must be between 0 and 1m")
	}
	if c.AccessTokenTTL <= 0 || c.RefreshTokenTTL <= 0 {
		problems = append(problems, "ACCESS_TOKEN_TTL and REFRESH_TOKEN_TTL must be positive")
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		problems = append(problems, "ADMIN_EMAIL and ADMIN_PASSWORD go together")
	}
	if c.PasswordHashMemoryKiB < auth.MinMemoryKiB || c.PasswordHashMemoryKiB > auth.MaxMemoryKiB ||
		c.PasswordHashIterations < 1 || c.PasswordHashIterations > auth.MaxPasses {
		problems = append(problems, fmt.Sprintf("PASSWORD_HASH_MEMORY_KIB must be %d to %d and PASSWORD_HASH_ITERATIONS 1 to %d",
			auth.MinMemoryKiB, auth.MaxMemoryKiB, auth.MaxPasses))
	}
	if c.DeviceTokenTTL <= 0 {
		problems = append(problems, "DEVICE_TOKEN_TTL must be positive")
	}
	if c.GCMinHeapMiB < 0 || c.GCMinHeapMiB > maxGCMinHeapMiB {
		problems = append(problems, fmt.Sprintf("GC_MIN_HEAP_MIB must be 0 to %d", maxGCMinHeapMiB))
	}
	if c.RevocationSyncInterval <= 0 {
		problems = append(problems, "REVOCATION_SYNC_INTERVAL must be positive")
	}
	problems = append(problems, c.limitProblems()...)
	if len(problems) > 0 {
		return fmt.Errorf("invalid configuration: %s", strings.Join(problems, "; "))
	}
	return nil
}

func stringVar(p *string, def string) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, usage string) { fs.StringVar(p, name, def, usage) }
}

func intVar(p *int, def int) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, usage string) { fs.IntVar(p, name, def, usage) }
}

func boolVar(p *bool, def bool) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, usage string) { fs.BoolVar(p, name, def, usage) }
}

func durationVar(p *time.Duration, def time.Duration) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, usage string) { fs.DurationVar(p, name, def, usage) }
}

// parsedVar binds a setting that parse reads into its typed field, once, as the flag or variable is
// set: a value parse refuses fails LoadConfig with parse's error, and no later code parses it
// again. def is the built-in default (shown in the usage text unless empty).
func parsedVar[T any](p *T, def string, parse func(string) (T, error)) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, usage string) {
		v, err := parse(def)
		if err != nil {
			panic(err) // a built-in default
		}
		*p = v
		if def != "" {
			usage += " (default " + def + ")"
		}
		fs.Func(name, usage, func(s string) (err error) {
			*p, err = parse(s)
			return err
		})
	}
}
