package auth_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/uptrace/bun"

	"github.com/shopql/shopql/auth"
	"github.com/shopql/shopql/store"
)

// TestEd25519KeyOutlivesTokensOfSlowerInstances: after a rotation, another instance may go on
// signing with the superseded key until its next Maintain, up to one MaintenanceInterval later. The
// key must keep verifying until those tokens have expired too.
func TestEd25519KeyOutlivesTokensOfSlowerInstances(t *testing.T) {
	ctx := context.Background()
	db := keysDatabase(t)
	// Token times to the millisecond, so that expiries fall between the moments the test picks.
	precision := jwt.TimePrecision
	jwt.TimePrecision = time.Millisecond
	t.Cleanup(func() { jwt.TimePrecision = precision })
	const rotate, refreshTTL = 200 * time.Millisecond, 2 * time.Second
	keysA, err := auth.NewEd25519Keys(ctx, db, rotate, refreshTTL) // creates key 1
	if err != nil {
		t.Fatal(err)
	}
	keysB, err := auth.NewEd25519Keys(ctx, db, rotate, refreshTTL) // loads key 1
	if err != nil {
		t.Fatal(err)
	}
	tokensA, tokensB := tokensWith(t, keysA, refreshTTL), tokensWith(t, keysB, refreshTTL)

	time.Sleep(rotate)
	if err := keysA.Maintain(ctx); err != nil { // A rotates: key 2
		t.Fatal(err)
	}
	rotated := time.Now()
	// B's next Maintain is not due yet: it still signs with key 1.
	time.Sleep(keysB.MaintenanceInterval() - 200*time.Millisecond)
	issued, err := tokensB.Issue(auth.RefreshToken, 1, "session", false, false)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(rotated) >= keysB.MaintenanceInterval() {
		t.Skip("the machine was too slow: B would have picked up the new key by now")
	}
	time.Sleep(time.Until(issued.ExpiresAt.Add(-300 * time.Millisecond)))
	if err := keysA.Maintain(ctx); err != nil { // A retires what it may
		t.Fatal(err)
	}
	if time.Since(rotated) <= refreshTTL {
		t.Fatal("the test did not wait past the token lifetime since the rotation")
	}
	if !time.Now().Before(issued.ExpiresAt) {
		t.Skip("the machine was too slow: the token expired before it could be checked")
	}
	if _, err := tokensA.Parse(issued.Token, auth.RefreshToken); err != nil {
		t.Fatalf("a token signed by the superseded key, valid for another %v, was refused: %v", time.Until(issued.ExpiresAt).Round(time.Millisecond), err)
	}
}

// TestNewEd25519KeySignsOnlyOnceOtherInstancesFindIt: B reloaded its keys just before A rotated,
// so B reloads again for an unknown kid only a second later. A's tokens must verify on B all along:
// A goes on signing with the previous key until the new one is a second old.
func TestNewEd25519KeySignsOnlyOnceOtherInstancesFindIt(t *testing.T) {
	ctx := context.Background()
	db := keysDatabase(t)
	const rotate = 100 * time.Millisecond
	keysA, err := auth.NewEd25519Keys(ctx, db, rotate, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keysB, err := auth.NewEd25519Keys(ctx, db, time.Hour, time.Hour) // never rotates itself
	if err != nil {
		t.Fatal(err)
	}
	tokensA, tokensB := tokensWith(t, keysA, time.Hour), tokensWith(t, keysB, time.Hour)
	time.Sleep(2 * rotate)
	if err := keysB.Maintain(ctx); err != nil { // B reloads: no new key yet
		t.Fatal(err)
	}
	if err := keysA.Maintain(ctx); err != nil { // A rotates
		t.Fatal(err)
	}
	rotated := time.Now()
	for time.Since(rotated) < 1500*time.Millisecond {
		issued, err := tokensA.Issue(auth.AccessToken, 1, "session", false, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tokensB.Parse(issued.Token, auth.AccessToken); err != nil {
			t.Fatalf("%v after A's rotation, B refused A's token: %v", time.Since(rotated).Round(time.Millisecond), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if kid, _ := keysA.Signing(); kid == firstKID(t, ctx, db) {
		t.Error("A still signs with the first key a second and a half after rotating")
	}
}

// TestEd25519InstancesStartingTogetherShareOneKey: instances starting at once on an empty table
// add one key between them, not one each.
func TestEd25519InstancesStartingTogetherShareOneKey(t *testing.T) {
	ctx := context.Background()
	db := keysDatabase(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := auth.NewEd25519Keys(ctx, db, time.Hour, time.Hour); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if keys, err := store.SigningKeys(ctx, db, "Ed25519"); err != nil || len(keys) != 1 {
		t.Fatalf("%d keys (%v), want 1", len(keys), err)
	}
}

// keysDatabase is a migrated SQLite database of the test's own.
func keysDatabase(t *testing.T) *bun.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "shop.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := store.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	return db
}

// tokensWith issues and checks tokens signed by keys, refresh tokens living refreshTTL.
func tokensWith(t *testing.T, keys auth.Keys, refreshTTL time.Duration) *auth.Tokens {
	t.Helper()
	tok, err := auth.NewTokens(auth.TokenConfig{Keys: keys, Issuer: "shopql", Audience: "shopql", AccessTTL: time.Minute, RefreshTTL: refreshTTL})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func firstKID(t *testing.T, ctx context.Context, db *bun.DB) string {
	t.Helper()
	keys, err := store.SigningKeys(ctx, db, "Ed25519")
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v", err)
	}
	return keys[0].KID
}
