// Command shopql serves the shop's GraphQL API.
//
//	go run .        # SQLite file shop.db in the working directory, port 8080
//	go run . -h     # every setting, with its environment variable and default
//	go run . seed -products 1000000   # sample data
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/shopql/shopql/app"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "seed" {
		if err := seed(os.Args[2:], os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
			slog.Error("seed", "err", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := app.LoadConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		slog.Error("configuration", "err", err)
		os.Exit(2)
	}
	log := app.NewLogger(os.Stderr, cfg.LogFormat, cfg.LogLevel)
	// Password hashing runs on low-priority threads of its own (auth.Hasher); give each one a P of
	// its own too, so that a hash never holds a P that request goroutines are waiting for, and the
	// kernel, not the Go scheduler, decides who gets the CPUs: requests first.
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + cfg.PasswordHashConcurrency)
	// Garbage is collected at Go's default 100% heap growth (GOGC, if set, decides). Not 50%: with
	// hundreds of requests in flight their live memory is the heap (~8 MB), so each cycle marks all
	// of it, and halving the growth between cycles doubled the marking per request — 18–29% of the
	// server's CPU under 200 uncached clients, for ~10 MiB less resident memory (docs/PERFORMANCE.md,
	// "Issue 12: the server under load").
	// Below GC_MIN_HEAP_MIB no cycle starts at all (app.KeepHeapFloor); GOGC=off leaves it off.
	base := debug.SetGCPercent(100) // the percent GOGC set (-1: off), read by setting another
	debug.SetGCPercent(base)
	if base >= 0 && cfg.GCMinHeapMiB > 0 {
		defer app.KeepHeapFloor(uint64(cfg.GCMinHeapMiB)<<20, base)()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	var metricsLn net.Listener
	if err == nil && cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			err = fmt.Errorf("METRICS_ADDR: %w", err)
		}
	}
	if err == nil {
		err = run(ctx, cfg, log, ln, metricsLn)
	}
	if err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// writeTimeout is how long the server gives a request to be answered, from the end of its headers:
// past REQUEST_TIMEOUT by a margin for reading the body and writing the answer, so that a request
// is stopped with a TIMEOUT error rather than a dropped connection; no limit when REQUEST_TIMEOUT
// has none.
func writeTimeout(requestTimeout time.Duration) time.Duration {
	if requestTimeout <= 0 {
		return 0
	}
	return max(60*time.Second, requestTimeout+30*time.Second)
}

// run serves on ln until ctx ends (SIGINT or SIGTERM), then stops accepting connections, lets
// in-flight requests finish (30 s at most) and closes the database. metricsLn, when not nil,
// serves /metrics alone (METRICS_ADDR), and ln does not.
func run(ctx context.Context, cfg app.Config, log *slog.Logger, ln, metricsLn net.Listener) error {
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()

	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      writeTimeout(cfg.RequestTimeout),
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "graphql", "/graphql", "graphiql", "/")
	if metricsLn != nil {
		if a.MetricsHandler() == nil {
			_ = metricsLn.Close()
			return errors.New("METRICS_ADDR is set but METRICS is off")
		}
		metricsSrv := &http.Server{
			Handler:           a.MetricsHandler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          srv.ErrorLog,
		}
		go func() { errc <- metricsSrv.Serve(metricsLn) }()
		defer metricsSrv.Close() // a scrape need not finish: the next one comes soon
		log.Info("serving metrics", "addr", metricsLn.Addr().String(), "path", "/metrics")
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
