package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopql/shopql/app/apptest"
)

// TestGracefulShutdown: once shutdown starts, no new connection is accepted, a request already in
// flight still gets its answer, and the database is closed cleanly (its data is there on restart).
func TestGracefulShutdown(t *testing.T) {
	cfg := apptest.Config(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, shutdown := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, apptest.Logger(t, slog.LevelWarn), ln, nil) }()
	for i := 0; ; i++ {
		if res, err := http.Get(url + "/healthz"); err == nil {
			res.Body.Close()
			break
		}
		if i > 200 {
			t.Fatal("server did not start")
		}
		time.Sleep(25 * time.Millisecond)
	}

	// A request whose body is still arriving when shutdown begins: it is in flight, not idle.
	body, feed := io.Pipe()
	answer := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, url+"/graphql", body)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("in-flight request: %v", err)
			close(answer)
			return
		}
		answer <- res
	}()
	if _, err := io.WriteString(feed, `{"query":"mutation { register(input: {email: \"ann@example.com\", `); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the server start reading it
	shutdown()
	time.Sleep(100 * time.Millisecond) // let shutdown close the listener
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("a new connection was accepted during shutdown")
	}
	if _, err := io.WriteString(feed, `username: \"ann\", password: \"password-1\"}) { id } }"}`); err != nil {
		t.Fatal(err)
	}
	feed.Close()

	res := <-answer
	if res == nil {
		t.FailNow()
	}
	var out struct {
		Data struct{ Register struct{ ID string } }
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Data.Register.ID == "" {
		t.Fatalf("in-flight request: status %d, %+v, %v", res.StatusCode, out, err)
	}
	res.Body.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return")
	}

	// The database was closed cleanly, with the in-flight request's write in it.
	apptest.Start(t, cfg).Client().Login("ann@example.com", "password-1")
}

// TestWriteTimeoutFollowsRequestTimeout: the HTTP server never cuts off a response the request
// timeout still allows.
func TestWriteTimeoutFollowsRequestTimeout(t *testing.T) {
	for _, tt := range []struct{ request, write time.Duration }{
		{10 * time.Second, 60 * time.Second},
		{5 * time.Minute, 5*time.Minute + 30*time.Second},
		{0, 0}, // REQUEST_TIMEOUT=0: no limit
	} {
		if got := writeTimeout(tt.request); got != tt.write {
			t.Errorf("REQUEST_TIMEOUT %v: write timeout %v, want %v", tt.request, got, tt.write)
		}
	}
}

// TestMetricsOnTheirOwnListener: with METRICS_ADDR, /metrics is served there and no longer on the
// public port, which serves GraphQL as before.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.MetricsAddr = "127.0.0.1:0"
	listen := func() (net.Listener, string) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln, "http://" + ln.Addr().String()
	}
	ln, public := listen()
	metricsLn, private := listen()
	ctx, shutdown := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, apptest.Logger(t, slog.LevelWarn), ln, metricsLn) }()
	defer func() {
		shutdown()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	get := func(url string) (int, string) {
		for i := 0; ; i++ {
			res, err := http.Get(url)
			if err == nil {
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				return res.StatusCode, string(b)
			}
			if i > 200 {
				t.Fatalf("GET %s: %v", url, err)
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	if status, _ := get(public + "/healthz"); status != http.StatusOK {
		t.Fatalf("public /healthz: %d", status)
	}
	if status, body := get(public + "/graphql?query=%7B__typename%7D"); status != http.StatusOK || !strings.Contains(body, "Query") {
		t.Errorf("public /graphql: %d %s", status, body)
	}
	if status, _ := get(public + "/metrics"); status != http.StatusNotFound {
		t.Errorf("public /metrics: %d, want 404", status)
	}
	status, body := get(private + "/metrics")
	if status != http.StatusOK || !strings.Contains(body, "shopql_graphql_requests_total") {
		t.Errorf("metrics listener /metrics: %d %.200s", status, body)
	}
	if status, _ := get(private + "/graphql?query=%7B__typename%7D"); status != http.StatusNotFound {
		t.Errorf("metrics listener /graphql: %d, want 404", status)
	}
}
