package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// catalogQuery is the query the targets of issue 5 are stated for; $after is null for page 1.
const catalogQuery = `query($after: String) { products(first: 50, after: $after) { items { name price category { name } } totalCount pageInfo { endCursor hasNextPage } } }`

// target is one GraphQL request, sent again and again.
type target struct {
	url   string // the /graphql endpoint
	body  []byte
	token string
}

func graphQL(url, token, query string, variables map[string]any) target {
	body, err := json.Marshal(map[string]any{"query": query, "variables": variables})
	if err != nil {
		panic(err) // only maps of strings here
	}
	return target{url: url + "/graphql", body: body, token: token}
}

func catalog(url, token, after string) target {
	vars := map[string]any{"after": nil}
	if after != "" {
		vars["after"] = after
	}
	return graphQL(url, token, catalogQuery, vars)
}

// do sends t once and returns the response body; an HTTP status other than 200 or a GraphQL error
// is an error.
func do(ctx context.Context, c *http.Client, t target) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(t.body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(body, []byte(`"errors"`)) {
		return body, fmt.Errorf("status %d: %.200s", resp.StatusCode, body)
	}
	return body, nil
}

// newClient returns an HTTP client keeping one connection per concurrent caller.
func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     30 * time.Second,
		},
	}
}

// stats summarises one run.
type stats struct {
	clients   int
	requests  int
	errors    int
	firstErr  error
	elapsed   time.Duration
	latencies []time.Duration // sorted
}

func (s stats) rate() float64 { return float64(s.requests) / max(s.elapsed.Seconds(), 1e-9) }

// percentile returns the q-quantile (0 < q ≤ 1) of successful requests' latencies.
func (s stats) percentile(q float64) time.Duration {
	if len(s.latencies) == 0 {
		return 0
	}
	i := min(int(float64(len(s.latencies))*q), len(s.latencies)-1)
	return s.latencies[i]
}

// drive runs `clients` loops sending t back to back for d (or until ctx ends) and measures them.
func drive(ctx context.Context, c *http.Client, clients int, d time.Duration, t target) stats {
	return driveMany(ctx, c, clients, d, []target{t})
}

// driveMany is drive with each request picked at random among ts.
func driveMany(ctx context.Context, c *http.Client, clients int, d time.Duration, ts []target) stats {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	total := stats{clients: clients}
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			s := loop(ctx, c, ts)
			mu.Lock()
			defer mu.Unlock()
			total.requests += s.requests
			total.errors += s.errors
			if total.firstErr == nil {
				total.firstErr = s.firstErr
			}
			total.latencies = append(total.latencies, s.latencies...)
		})
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	slices.Sort(total.latencies)
	return total
}

// loop is one client: it sends requests picked from ts until ctx ends. A request cut short by the
// end of the run is not counted.
func loop(ctx context.Context, c *http.Client, ts []target) stats {
	var s stats
	for ctx.Err() == nil {
		t := ts[rand.IntN(len(ts))]
		began := time.Now()
		_, err := do(ctx, c, t)
		took := time.Since(began)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			s.errors++
			if s.firstErr == nil {
				s.firstErr = err
			}
		default:
			s.requests++
			s.latencies = append(s.latencies, took)
		}
	}
	return s
}

// sampler records a process's peak resident memory while a run goes on.
type sampler struct {
	stop   chan struct{}
	done   chan struct{}
	peakKB int64
}

func sample(pid int) *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if st, err := readProc(pid); err == nil {
				s.peakKB = max(s.peakKB, st.rssKiB)
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// peak stops sampling and returns the largest VmRSS seen, in KiB.
func (s *sampler) peak() int64 {
	close(s.stop)
	<-s.done
	return s.peakKB
}
