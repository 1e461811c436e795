// Command loadtest measures the catalog against the performance targets of issue 5 on a real
// server process: it builds the server, starts it on a fresh database, seeds it, drives it with
// concurrent HTTP clients on 127.0.0.1 and prints req/s, p50/p99 latency, errors, the server's
// resident memory and open file descriptors, then every target with PASS or FAIL.
//
// Usage, from the repository root:
//
//	go run ./cmd/loadtest                              # SQLite, 1,000 products, 200 clients, 10 s a run
//	go run ./cmd/loadtest -db postgres -database-url 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	go run ./cmd/loadtest -deep                        # also page 1 vs page 20,000 (seeds 1,000,000 products)
//
// With PostgreSQL it creates a database of its own beside the one the URL names and drops it at the
// end. Scenarios:
//
//	a. the authenticated catalog query with -clients clients: resident memory peak, and open file
//	   descriptors back to their idle count once the load stops (no connection leak);
//	b. catalog p99 with -idle-clients clients, alone and while -logins clients flood login;
//	c. the same load on internal/baseline, served by this program started again as a process of its
//	   own, on the same database with the same token: ours/baseline req/s with the response cache
//	   on, and with RESPONSE_CACHE_TTL=0;
//	d. (-deep) latency of page 1 and of the last page, cache off;
//	e. the long tail: -long-tail distinct pages (first 10, 20 or 50 after a random product), on the
//	   server with the cache on and with it off, each beside the baseline on the same pages.
//
// Then (unless -benchmarks=false) it runs the Go benchmarks of the same requests with -benchmem on
// the same kind of database and prints their allocations per request.
//
//	f. -subscribers idle WebSocket subscribers (WS_MAX_CONNECTIONS_PER_ADDRESS=0, since they all
//	   come from 127.0.0.1): resident memory per subscriber, the time one write takes to reach all
//	   of them against reaching one, and descriptors and goroutines once they disconnect
//	   (`-subscriptions-only` runs this one alone).
//
// The load runs on the same machine as the server, so both share its CPUs: compare ratios within
// one run, not absolute numbers across runs.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	db          string
	databaseURL string
	products    int
	categories  int
	duration    time.Duration
	clients     int
	idleClients int
	logins      int
	deep        bool
	hashConc    string
	longTail    int
	benchmarks  bool
	subscribers int
	subsOnly    bool
}

func main() {
	if os.Getenv(baselineProcess) != "" {
		if err := serveBaseline(); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest: baseline:", err)
			os.Exit(1)
		}
		return
	}
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		if err != flag.ErrHelp {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			os.Exit(2)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.StringVar(&o.db, "db", "sqlite", "database: sqlite (a fresh temporary file) or postgres (a fresh database next to -database-url)")
	fs.StringVar(&o.databaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "with -db postgres: the server to create the temporary database on")
	fs.IntVar(&o.products, "products", 1000, "products to seed (1,000,000 with -deep unless given)")
	fs.IntVar(&o.categories, "categories", 20, "categories to spread them over")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured run")
	fs.IntVar(&o.clients, "clients", 200, "concurrent clients on the catalog (scenarios a and c)")
	fs.IntVar(&o.idleClients, "idle-clients", 4, "concurrent clients measuring catalog latency (scenarios b and d)")
	fs.IntVar(&o.logins, "logins", 50, "concurrent clients flooding login (scenario b)")
	fs.BoolVar(&o.deep, "deep", false, "also measure page 1 against the last page (needs -products 1000000)")
	fs.IntVar(&o.subscribers, "subscribers", 1000, "idle WebSocket subscribers (scenario f; 0 skips it)")
	fs.BoolVar(&o.subsOnly, "subscriptions-only", false, "run scenario f alone")
	fs.StringVar(&o.hashConc, "hash-concurrency", "", "PASSWORD_HASH_CONCURRENCY for the server (empty: its default)")
	fs.IntVar(&o.longTail, "long-tail", 3000, "distinct pages in the long-tail scenario (e)")
	fs.BoolVar(&o.benchmarks, "benchmarks", true, "also run the Go benchmarks (go test -bench -benchmem ./app) for allocations per request")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	productsSet := false
	fs.Visit(func(f *flag.Flag) { productsSet = productsSet || f.Name == "products" })
	if o.deep && !productsSet {
		o.products = 1_000_000
	}
	return o, o.validate()
}

// validate keeps the load bounded.
func (o options) validate() error {
	switch {
	case o.db != "sqlite" && o.db != "postgres":
		return fmt.Errorf("-db must be sqlite or postgres")
	case o.products < 100 || o.products > 10_000_000:
		return fmt.Errorf("-products must be 100 to 10,000,000")
	case o.categories < 1:
		return fmt.Errorf("-categories must be at least 1")
	case o.duration < time.Second || o.duration > 5*time.Minute:
		return fmt.Errorf("-duration must be 1s to 5m")
	case o.longTail < 1 || o.longTail > 100_000:
		return fmt.Errorf("-long-tail must be 1 to 100,000")
	case o.clients < 1 || o.clients > 1000 || o.idleClients < 1 || o.idleClients > 1000 || o.logins < 1 || o.logins > 1000:
		return fmt.Errorf("-clients, -idle-clients and -logins must be 1 to 1000")
	case o.subscribers < 0 || o.subscribers > 20_000 || (o.subsOnly && o.subscribers == 0):
		return fmt.Errorf("-subscribers must be 0 to 20,000 (at least 1 with -subscriptions-only)")
	}
	return nil
}

// run prepares the database and the server binary, runs the scenarios and prints the report.
func run(ctx context.Context, o options) error {
	work, err := os.MkdirTemp("", "shopql-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	db, err := newDatabase(ctx, o, work)
	if err != nil {
		return err
	}
	defer db.drop()

	bin, err := buildServer(ctx, work)
	if err != nil {
		return err
	}
	if err := seedDatabase(ctx, bin, db.url, o.products, o.categories); err != nil {
		return err
	}
	r := &report{}
	if err := runScenarios(ctx, o, bin, work, db, r); err != nil {
		return err
	}
	if o.benchmarks {
		progress("allocations per request: go test -bench -benchmem ./app")
		if r.benchmarks, err = runBenchmarks(ctx, o); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest: benchmarks:", err)
		}
	}
	r.print(os.Stdout, o)
	return nil
}
