package store

import (
	"context"
	"encoding/json"

	"github.com/uptrace/bun"

	"github.com/shopql/shopql/model"
)

// ProductChannel carries committed product changes between instances (a ProductEvent as JSON).
const ProductChannel = "shopql_products"

// ProductEvent is a committed change to a product, as the write announces it: what happened, to
// which product, and the categories it concerns (the one it is in and, when it moved, the one it
// left), so that subscribers of either category hear of it.
type ProductEvent struct {
	Kind       model.ChangeKind `json:"k"`
	ID         int64            `json:"id"`
	Name       string           `json:"n"`
	Categories []int64          `json:"c"`
}

// Concerns reports whether the event is about categoryID (0: any category).
func (e ProductEvent) Concerns(categoryID int64) bool {
	if categoryID == 0 {
		return true
	}
	for _, id := range e.Categories {
		if id == categoryID {
			return true
		}
	}
	return false
}

// ParseProductEvent reads a ProductChannel payload.
func ParseProductEvent(payload string) (ProductEvent, bool) {
	var e ProductEvent
	if err := json.Unmarshal([]byte(payload), &e); err != nil || e.ID == 0 || e.Kind == "" {
		return ProductEvent{}, false
	}
	return e, true
}

type publisherKey struct{}

// WithPublisher returns ctx under which product writes on SQLite hand their events to publish once
// their transaction has committed (never for one that rolls back). On PostgreSQL the events travel
// by NOTIFY instead, sent inside the transaction and so delivered if and only if it commits, to
// every instance listening on ProductChannel, this one included.
func WithPublisher(ctx context.Context, publish func(ProductEvent)) context.Context {
	return context.WithValue(ctx, publisherKey{}, publish)
}

type pendingKey struct{}

// pendingEvents are the events of a SQLite transaction that runInTx publishes when it commits.
type pendingEvents struct{ events []ProductEvent }

// announceProduct announces a product change made in tx: by NOTIFY on PostgreSQL, else recorded for
// runInTx to publish after the commit.
func announceProduct(ctx context.Context, tx bun.IDB, e ProductEvent) error {
	if IsPostgres(tx) {
		payload, err := json.Marshal(e) // a name is at most 200 runes: far under NOTIFY's 8000 bytes
		if err != nil {
			return err
		}
		// On the channel of the transaction's own database and schema (channelScope): instances on
		// other schemas of the same database do not hear it.
		_, err = tx.NewRaw("SELECT pg_notify(? || "+channelScope+", ?)", ProductChannel, string(payload)).Exec(ctx)
		return err
	}
	if p, ok := ctx.Value(pendingKey{}).(*pendingEvents); ok {
		p.events = append(p.events, e)
	}
	return nil
}

// collectEvents prepares ctx for one attempt of a transaction on db: it returns the context to run
// it in and a func to call once it has committed, which publishes what it announced. Only the
// outermost transaction on SQLite collects; a nested one leaves its events to the outer one.
func collectEvents(ctx context.Context, db bun.IDB) (context.Context, func()) {
	publish, _ := ctx.Value(publisherKey{}).(func(ProductEvent))
	if _, nested := ctx.Value(pendingKey{}).(*pendingEvents); nested || publish == nil || IsPostgres(db) {
		return ctx, func() {}
	}
	if _, isTx := db.(bun.Tx); isTx {
		return ctx, func() {} // the caller's transaction, whose commit we cannot see
	}
	p := &pendingEvents{}
	return context.WithValue(ctx, pendingKey{}, p), func() {
		for _, e := range p.events {
			publish(e)
		}
	}
}

// ProductByID returns the product with the given ID (with its category), or ErrNotFound.
func ProductByID(ctx context.Context, db bun.IDB, id int64) (*model.Product, error) {
	p := new(model.Product)
	err := db.NewSelect().Model(p).Relation("Category").Where("p.id = ?", id).Scan(ctx)
	return p, found(err, "no product with ID %d", id)
}
