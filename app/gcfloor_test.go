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
		live, scan, floor uint64
		base, want        int
	}{
		{4 * mib, 4 * mib, 32 * mib, 100, 700},   // the next cycle at 4 + 4 × 7 = 32 MiB
		{4 * mib, 8 * mib, 32 * mib, 100, 350},   // 4 MiB of stacks and globals scanned too: 4 + 8 × 3.5
		{16 * mib, 16 * mib, 32 * mib, 100, 100}, // GOGC's growth reaches the floor by itself
		{20 * mib, 24 * mib, 32 * mib, 100, 100}, // and beyond it
		{64 * mib, 64 * mib, 32 * mib, 100, 100}, // a heap above the floor: GOGC alone
		{4 * mib, 4 * mib, 32 * mib, 1000, 1000}, // a larger GOGC wins
		{0, 0, 32 * mib, 100, 100},               // nothing measured yet
		{1, 1, math.MaxUint64, 100, math.MaxInt32},
	} {
		if got := floorPercent(c.live, c.scan, c.floor, c.base); got != c.want {
			t.Errorf("floorPercent(%d, %d, %d, %d) = %d, want %d", c.live, c.scan, c.floor, c.base, got, c.want)
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

// TestKeepHeapFloorIsAFloorWithLargeStacks: the heap goal Go computes from the GC percent is
// live + (live + stacks + globals) × percent / 100, not live × (1 + percent / 100): the percent
// floorPercent derives from the live heap alone also multiplies the goroutine stacks and the
// globals. With a small heap and many or deep stacks (a server's connections, each a goroutine or
// three) the next cycle starts far above the floor and far above GOGC's own growth: the floor
// becomes a multiplier of the stacks.
func TestKeepHeapFloorIsAFloorWithLargeStacks(t *testing.T) {
	base := debug.SetGCPercent(100)
	defer debug.SetGCPercent(base)
	release := make(chan struct{})
	defer close(release)
	for range 64 {
		go deepStack(256<<10, release) // 64 × 256 KiB of stacks
	}
	read := func(names ...string) []uint64 {
		s := make([]rtmetrics.Sample, len(names))
		for i, n := range names {
			s[i].Name = n
		}
		rtmetrics.Read(s)
		out := make([]uint64, len(s))
		for i := range s {
			out[i] = s[i].Value.Uint64()
		}
		return out
	}
	runtime.GC()
	runtime.GC()
	m := read("/gc/heap/live:bytes", "/gc/scan/stack:bytes", "/gc/scan/globals:bytes")
	live, stacks, globals := m[0], m[1], m[2]
	if stacks < 4<<20 {
		t.Skipf("only %d bytes of stack scanned: the test did not make the stacks it needs", stacks)
	}
	floor := max(16<<20, 8*live)                             // a floor the live heap is well below, whatever else the package has live
	gogcGoal := live + (live+stacks+globals)*uint64(100)/100 // what GOGC=100 alone would give

	stop := KeepHeapFloor(floor, 100)
	defer stop()
	for range 3 { // the percent may rightly stay 100 here: a few cycles, not a wait for it to change
		runtime.GC()
		time.Sleep(20 * time.Millisecond) // the cleanup runs after the cycle, on its own goroutine
	}
	m = read("/gc/heap/goal:bytes", "/gc/gogc:percent", "/gc/heap/live:bytes", "/gc/scan/stack:bytes")
	goal := m[0]
	want := max(floor, gogcGoal)
	t.Logf("live %d KiB, stacks %d KiB, globals %d KiB, percent %d: heap goal %d KiB (floor %d KiB, GOGC's goal %d KiB)",
		m[2]>>10, m[3]>>10, globals>>10, m[1], goal>>10, floor>>10, gogcGoal>>10)
	if goal > want+want/4 {
		t.Errorf("heap goal %d MiB with a %d MiB floor and GOGC's own goal at %d MiB: the floor raised the goal %.1f× past both",
			goal>>20, floor>>20, gogcGoal>>20, float64(goal)/float64(want))
	}
}

// deepStack recurses until it has used about n bytes of stack, then waits for release.
func deepStack(n int, release <-chan struct{}) {
	var pad [1024]byte
	if n <= len(pad) {
		<-release
		return
	}
	deepStack(n-len(pad), release)
	runtime.KeepAlive(&pad)
}

// TestKeepHeapFloorWithGOGCOff: base -1 is GOGC=off (what debug.SetGCPercent returns then, and
// what a GOMEMLIMIT-only deployment runs with). KeepHeapFloor must leave the collector off rather
// than turn it on at the floor's percent: only server.go's own guard keeps it from doing so.
func TestKeepHeapFloorWithGOGCOff(t *testing.T) {
	base := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(base)
	stop := KeepHeapFloor(1<<30, -1)
	defer stop()
	for range 3 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond) // the cleanup runs after the cycle, on its own goroutine
	}
	s := []rtmetrics.Sample{{Name: "/gc/gogc:percent"}}
	rtmetrics.Read(s)
	if p := s[0].Value.Uint64(); p != math.MaxUint64 { // the metric reads uint64(-1) when off
		t.Errorf("GC percent %d after KeepHeapFloor(…, -1): the collector GOGC=off turned off is on again", p)
	}
}
