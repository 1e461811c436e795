package graph

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/internal/ctxval"
	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

// Subscriber is the connection a subscription runs on, as its transport (app/websocket.go) puts it
// in the context: it admits subscriptions against its own limit, and is told when one of them falls
// so far behind that its queue is full (a slow consumer, which it closes: events are never buffered
// without bound).
type Subscriber interface {
	// Admit counts a new subscription against the connection's limit, or refuses it.
	Admit() (release func(), err error)
	// SlowConsumer ends the connection: a subscription on it did not keep up.
	SlowConsumer()
}

type subscriberKey struct{}

// WithSubscriber returns ctx carrying the connection subscriptions under it run on.
func WithSubscriber(ctx context.Context, s Subscriber) context.Context {
	return context.WithValue(ctx, subscriberKey{}, s)
}

// ProductFeed fans committed product changes out to the subscriptions of this instance. Changes
// arrive through Publish: from this instance's writes after they commit (SQLite), or from the
// database's notifications, which carry every instance's (PostgreSQL). Each change is loaded once,
// however many subscribers receive it.
type ProductFeed struct {
	db    bun.IDB
	log   *slog.Logger
	queue int // events a subscription may have waiting
	in    chan store.ProductEvent

	mu   sync.RWMutex
	subs map[*subscription]struct{}

	dropped atomic.Int64 // changes lost because the feed itself fell behind
}

type subscription struct {
	categoryID int64
	ch         chan *model.ProductChange
	conn       Subscriber // nil outside a connection that can be told
}

// feedBacklog bounds the changes waiting to be loaded and fanned out.
const feedBacklog = 1024

// NewProductFeed returns a feed whose subscriptions hold up to queue events each. Run delivers.
func NewProductFeed(db bun.IDB, queue int, log *slog.Logger) *ProductFeed {
	return &ProductFeed{db: db, log: log, queue: max(1, queue),
		in: make(chan store.ProductEvent, feedBacklog), subs: make(map[*subscription]struct{})}
}

// Publish queues a change for delivery. It never blocks: a change that finds the backlog full is
// dropped and counted (the writes it would slow down have committed already).
func (f *ProductFeed) Publish(e store.ProductEvent) {
	select {
	case f.in <- e:
	default:
		if f.dropped.Add(1) == 1 || f.dropped.Load()%1000 == 0 {
			f.log.Warn("product change feed backlog full: changes dropped", "dropped", f.dropped.Load())
		}
	}
}

// Announce publishes a change announced on store.ProductChannel (the database's and schema's own:
// store.Listen hears no other deployment's).
func (f *ProductFeed) Announce(payload string) {
	if e, ok := store.ParseProductEvent(payload); ok {
		f.Publish(e)
	}
}

// Run delivers published changes until ctx ends.
func (f *ProductFeed) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-f.in:
			if f.Subscribers() == 0 {
				continue // nobody to load it for
			}
			change, ok := f.load(ctx, e)
			if ok {
				f.fanOut(e, change)
			}
		}
	}
}

// load turns an event into the change subscribers receive: for CREATED and UPDATED the product as
// it is now. A product deleted since has nothing to show, and its DELETED follows.
func (f *ProductFeed) load(ctx context.Context, e store.ProductEvent) (*model.ProductChange, bool) {
	change := &model.ProductChange{Kind: e.Kind, Name: e.Name}
	if e.Kind == model.ChangeKindDeleted {
		return change, true
	}
	p, err := store.ProductByID(ctx, f.db, e.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, false
	case err != nil:
		if ctx.Err() == nil {
			f.log.Warn("loading a changed product failed: change not delivered", "product", e.ID, "err", err)
		}
		return nil, false
	}
	change.Product = p
	return change, true
}

func (f *ProductFeed) fanOut(e store.ProductEvent, change *model.ProductChange) {
	var slow []*subscription
	f.mu.RLock()
	for s := range f.subs {
		if !e.Concerns(s.categoryID) {
			continue
		}
		select {
		case s.ch <- change:
		default:
			slow = append(slow, s)
		}
	}
	f.mu.RUnlock()
	for _, s := range slow {
		if f.remove(s) {
			if s.conn != nil {
				s.conn.SlowConsumer()
			} else {
				close(s.ch) // ends the subscription
			}
		}
	}
}

// Subscribe starts a subscription to the changes of categoryID's products (0: all), until ctx ends.
func (f *ProductFeed) Subscribe(ctx context.Context, categoryID int64) (<-chan *model.ProductChange, error) {
	s := &subscription{categoryID: categoryID, ch: make(chan *model.ProductChange, f.queue)}
	release := func() {}
	if conn, ok := ctx.Value(subscriberKey{}).(Subscriber); ok {
		var err error
		if release, err = conn.Admit(); err != nil {
			return nil, err
		}
		s.conn = conn
	}
	f.mu.Lock()
	f.subs[s] = struct{}{}
	f.mu.Unlock()
	context.AfterFunc(ctx, func() {
		f.remove(s)
		release()
	})
	return s.ch, nil
}

// remove forgets a subscription; it reports whether it was still there.
func (f *ProductFeed) remove(s *subscription) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.subs[s]
	delete(f.subs, s)
	return ok
}

// Subscribers is the number of subscriptions open on this instance.
func (f *ProductFeed) Subscribers() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.subs)
}

// WithLoaders returns ctx with fresh per-request loaders: a subscription executes its selection
// once per event, and each event is a request of its own (loaders living as long as the socket would
// serve stale data and count against one bound forever).
func WithLoaders(ctx context.Context, db bun.IDB) context.Context {
	return &ctxval.Context[loadersKey, Loaders]{Context: ctx, Val: Loaders{db: db}}
}
