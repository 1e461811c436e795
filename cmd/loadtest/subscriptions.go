package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Scenario e: idle subscribers. N WebSockets (graphql-transport-ws), each with one productChanged
// subscription, held open by a server whose per-address connection limit is off (they all come from
// 127.0.0.1): resident memory per subscriber, the time one product write takes to reach all of them
// against reaching one, and what is left once they disconnect (descriptors, goroutines).
type subscriptionRun struct {
	subscribers                 int
	idle, held, after           procStats
	goroutinesIdle, goroutinesN int
	goroutinesAfter             int
	toOne, toAllFirst, toAll    time.Duration // medians over fanOutRounds writes
}

const fanOutRounds = 5

func subscriptionScenario(ctx context.Context, o options, s *server, token string) (subscriptionRun, error) {
	r := subscriptionRun{subscribers: o.subscribers}
	c := newClient(1)
	cat, err := createCategory(ctx, c, s.url, token)
	if err != nil {
		return r, err
	}
	sleep(ctx, settle)
	r.idle, _ = readProc(s.pid())
	r.goroutinesIdle, _ = goroutines(ctx, c, s.url)

	write := func(i int) (string, error) {
		name := fmt.Sprintf("live-%d-%s", i, randomHex(3))
		_, err := do(ctx, c, graphQL(s.url, token, `mutation($n: String!, $in: ProductInput!) { upsertProduct(name: $n, input: $in) { id } }`,
			map[string]any{"n": name, "in": map[string]any{"description": "live", "price": 1, "quantity": 1, "categoryId": cat}}))
		return name, err
	}

	// One subscriber: the time from a write's start until its event arrives.
	one, err := dialSubscribers(ctx, s.url, token, 1)
	if err != nil {
		return r, err
	}
	if err := warmUp(ctx, one, write); err != nil {
		return r, err
	}
	r.toOne, _, err = fanOut(ctx, one, write)
	one.close()
	if err != nil {
		return r, err
	}

	progress("f. %d idle subscribers…", o.subscribers)
	all, err := dialSubscribers(ctx, s.url, token, o.subscribers)
	if err != nil {
		return r, err
	}
	if err := warmUp(ctx, all, write); err != nil {
		all.close()
		return r, err
	}
	sleep(ctx, settle)
	r.held, _ = readProc(s.pid())
	r.goroutinesN, _ = goroutines(ctx, c, s.url)
	r.toAll, r.toAllFirst, err = fanOut(ctx, all, write)
	all.close()
	if err != nil {
		return r, err
	}
	sleep(ctx, settle)
	r.after, _ = readProc(s.pid())
	r.goroutinesAfter, _ = goroutines(ctx, c, s.url)
	return r, nil
}

// subscribers is a set of open sockets; each reports the names of the products it hears of.
type subscribers struct {
	socks  []*websocket.Conn
	events chan event
	wg     sync.WaitGroup
	failed atomic.Pointer[error]
}

type event struct {
	sub  int
	name string
	at   time.Time
}

func dialSubscribers(ctx context.Context, base, token string, n int) (*subscribers, error) {
	ss := &subscribers{events: make(chan event, n*4)}
	url := "ws" + strings.TrimPrefix(base, "http") + "/graphql"
	init, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}})
	sub, _ := json.Marshal(map[string]any{"type": "subscribe", "id": "1", "payload": map[string]any{"query": "subscription { productChanged { kind name } }"}})
	for i := range n {
		conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			ss.close()
			return nil, fmt.Errorf("subscriber %d: %w", i, err)
		}
		ss.socks = append(ss.socks, conn)
		if err := conn.Write(ctx, websocket.MessageText, init); err != nil {
			ss.close()
			return nil, err
		}
		if err := conn.Write(ctx, websocket.MessageText, sub); err != nil {
			ss.close()
			return nil, err
		}
		ss.wg.Go(func() { ss.read(ctx, i, conn) })
	}
	return ss, nil
}

func (ss *subscribers) read(ctx context.Context, i int, conn *websocket.Conn) {
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == -1 && ctx.Err() == nil && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "closed") {
				ss.failed.CompareAndSwap(nil, &err)
			}
			return
		}
		var m struct {
			Type    string
			Payload struct {
				Data struct {
					ProductChanged struct{ Name string }
				}
			}
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.Type {
		case "ping":
			_ = conn.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
		case "next":
			ss.events <- event{i, m.Payload.Data.ProductChanged.Name, time.Now()}
		}
	}
}

func (ss *subscribers) close() {
	for _, c := range ss.socks {
		_ = c.Close(websocket.StatusNormalClosure, "")
	}
	ss.wg.Wait()
}

// await waits until every subscriber has heard of name; it returns when the first and the last did.
func (ss *subscribers) await(ctx context.Context, name string, within time.Duration) (first, last time.Time, err error) {
	heard := make([]bool, len(ss.socks))
	left := len(ss.socks)
	timeout := time.After(within)
	for left > 0 {
		select {
		case e := <-ss.events:
			if e.name != name || heard[e.sub] {
				continue
			}
			heard[e.sub] = true
			left--
			if first.IsZero() {
				first = e.at
			}
			last = e.at
		case <-timeout:
			return first, last, fmt.Errorf("%d of %d subscribers did not hear of %s", left, len(ss.socks), name)
		case <-ctx.Done():
			return first, last, ctx.Err()
		}
	}
	return first, last, nil
}

// warmUp writes until every subscriber hears of one write: a subscribe message has no answer, so
// this is when every subscription is known to be in place.
func warmUp(ctx context.Context, ss *subscribers, write func(int) (string, error)) error {
	for i := 0; i < 30; i++ {
		name, err := write(-i - 1)
		if err != nil {
			return err
		}
		if _, _, err := ss.await(ctx, name, 2*time.Second); err == nil {
			return nil
		}
	}
	if p := ss.failed.Load(); p != nil {
		return *p
	}
	return errors.New("the subscribers never all heard of a write")
}

// fanOut times fanOutRounds writes from their start until the last (and the first) subscriber heard
// of them; it returns the medians.
func fanOut(ctx context.Context, ss *subscribers, write func(int) (string, error)) (toLast, toFirst time.Duration, err error) {
	var lasts, firsts []time.Duration
	for i := range fanOutRounds {
		start := time.Now()
		name, err := write(i)
		if err != nil {
			return 0, 0, err
		}
		first, last, err := ss.await(ctx, name, 30*time.Second)
		if err != nil {
			return 0, 0, err
		}
		lasts, firsts = append(lasts, last.Sub(start)), append(firsts, first.Sub(start))
	}
	slices.Sort(lasts)
	slices.Sort(firsts)
	return lasts[len(lasts)/2], firsts[len(firsts)/2], nil
}

func createCategory(ctx context.Context, c *http.Client, url, token string) (string, error) {
	body, err := do(ctx, c, graphQL(url, token, `mutation($n: String!) { createCategory(name: $n) { id } }`, map[string]any{"n": "live-" + randomHex(4)}))
	if err != nil {
		return "", err
	}
	var out struct {
		Data struct{ CreateCategory struct{ ID string } } `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Data.CreateCategory.ID == "" {
		return "", fmt.Errorf("createCategory: %.200s", body)
	}
	return out.Data.CreateCategory.ID, nil
}

// goroutines reads go_goroutines from the server's /metrics.
func goroutines(ctx context.Context, c *http.Client, base string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, errors.New("no go_goroutines in /metrics")
}

func (r *report) printSubscriptions(w io.Writer) {
	e := r.subs
	if e == nil {
		return
	}
	n := int64(max(e.subscribers, 1))
	fmt.Fprintf(w, "f. %d idle subscribers (one WebSocket and one productChanged each):\n", e.subscribers)
	fmt.Fprintf(w, "   resident memory: %s idle → %s held: %.1f KiB per subscriber\n",
		mib(e.idle.rssKiB), mib(e.held.rssKiB), float64(e.held.rssKiB-e.idle.rssKiB)/float64(n))
	fmt.Fprintf(w, "   one write reaches 1 subscriber in %s; all %d in %s (the first of them in %s): %.1f× reaching one\n",
		ms(e.toOne), e.subscribers, ms(e.toAll), ms(e.toAllFirst), ratio(e.toAll, e.toOne))
	fmt.Fprintf(w, "   after they disconnect: FDs %d→%d→%d (sockets %d→%d→%d), goroutines %d→%d→%d (idle→held→after)\n",
		e.idle.fds, e.held.fds, e.after.fds, e.idle.sockets, e.held.sockets, e.after.sockets,
		e.goroutinesIdle, e.goroutinesN, e.goroutinesAfter)
	check(w, e.after.fds <= e.idle.fds+fdSlack && e.goroutinesAfter <= e.goroutinesIdle+fdSlack, "e",
		"no leak after the subscribers disconnect", fmt.Sprintf("FDs %d→%d, goroutines %d→%d", e.idle.fds, e.after.fds, e.goroutinesIdle, e.goroutinesAfter))
}
