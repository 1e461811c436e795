package app

import (
	"math"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"testing"
	"time"
)

func TestFloorPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live, floor uint64
		base, want  int
	}{
		{4 * mib, 32 * mib, 100, 700},   // the next cycle at 4 × 8 = 32 MiB
		{16 * mib, 32 * mib, 100, 100},  // GOGC's growth reaches the floor by itself
		{20 * mib, 32 * mib, 100, 100},  // and beyond it
		{64 * mib, 32 * mib, 100, 100},  // a heap above the floor: GOGC alone
		{4 * mib, 32 * mib, 1000, 1000}, // a larger GOGC wins
		{0, 32 * mib, 100, 100},         // nothing measured yet
		{1, math.MaxUint64, 100, math.MaxInt32},
	} {
		if got := floorPercent(c.live, c.floor, c.base); got != c.want {
			t.Errorf("floorPercent(%d, %d, %d) = %d, want %d", c.live, c.floor, c.base, got, c.want)
		}
	}
}

// TestKeepHeapFloor: after a collection the GC percent is the one that keeps the floor, and stop
// restores GOGC's.
func TestKeepHeapFloor(t *testing.T) {
	base := debug.SetGCPercent(100)
	defer debug.SetGCPercent(base)
	gogc := func() int {
		s := []rtmetrics.Sample{{Name: "/gc/gogc:percent"}}
		rtmetrics.Read(s)
		return int(s[0].Value.Uint64())
	}
	stop := KeepHeapFloor(1<<40, 100) // far above this test's heap
	deadline := time.Now().Add(10 * time.Second)
	for gogc() == 100 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the cleanup runs after the cycle, on its own goroutine
	}
	if p := gogc(); p <= 100 {
		t.Fatalf("GC percent %d after collections with a 1 TiB floor, want it raised", p)
	}
	stop()
	if p := gogc(); p != 100 {
		t.Errorf("GC percent %d after stop, want GOGC's 100", p)
	}
}
