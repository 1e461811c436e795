package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopql/shopql/model"
	"github.com/shopql/shopql/store"
)

// TestSigningKeyAddedOnceWhenDue: instances adding a key at once (each on its own pool) add one.
func TestSigningKeyAddedOnceWhenDue(t *testing.T) {
	ctx := context.Background()
	url, opts := freshDatabase(t)
	migrated(t, url, opts)
	var added atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 8 {
		db := open(t, url, opts)
		wg.Go(func() {
			<-start
			ok, err := store.AddSigningKeyIfDue(ctx, db, &model.SigningKey{KID: fmt.Sprint("k", i), Algorithm: "Ed25519", PrivateKey: "x"}, time.Now().Add(-time.Hour))
			if err != nil {
				t.Error(err)
			}
			if ok {
				added.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	keys, err := store.SigningKeys(ctx, open(t, url, opts), "Ed25519")
	if err != nil || len(keys) != 1 || added.Load() != 1 {
		t.Fatalf("%d keys stored, %d reported added (%v), want 1", len(keys), added.Load(), err)
	}
}
