package app

import (
	"math"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"sync"
)

// Garbage collection starts when the heap has grown by GOGC percent over what the last cycle left
// live, but never below Go's floor of 4 MB. A server's live heap is its requests in flight: a few
// MB, so under load it collected on every 4–5 MB allocated, ~100 times a second at 32 concurrent
// catalog requests, and each cycle's fixed cost (stopping the world twice, preempting every
// goroutine, flushing the caches) was most of the collector's 30–40% of the CPU
// (docs/PERFORMANCE.md). KeepHeapFloor raises the floor: after every cycle it sets the GC percent
// so that the next cycle starts at floor bytes at the earliest, and at GOGC's own growth once the
// live heap is large enough for that to come later. A memory limit (GOMEMLIMIT) still caps it.

// floorPercent is the GC percent that starts the next cycle at floor bytes, and at least base
// (GOGC). Go's heap goal is live + (live + stacks + globals) × percent / 100: the percent scales
// what the collector scans, scan = live + stacks + globals, not the live heap alone.
func floorPercent(live, scan, floor uint64, base int) int {
	if scan == 0 || floor <= live {
		return base
	}
	p := float64(floor-live) / float64(scan) * 100
	return int(max(float64(base), min(p, math.MaxInt32)))
}

// KeepHeapFloor keeps the heap goal at floor bytes or more, from the next cycle on, with base as
// GOGC's percent above it. It returns a function that stops it and restores base. With base < 0
// (GOGC=off) the collector stays off and it does nothing.
func KeepHeapFloor(floor uint64, base int) (stop func()) {
	if base < 0 {
		return func() {}
	}
	var (
		mu      sync.Mutex // cleanups may run on more than one goroutine
		stopped bool
		current = base
		sample  = []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}
		arm     func()
	)
	arm = func() {
		// A cleanup runs after the cycle that found its object unreachable: once per cycle. The
		// object is 16 bytes, not smaller: tiny objects share blocks and may be collected late.
		runtime.AddCleanup(new([16]byte), func(struct{}) {
			mu.Lock()
			defer mu.Unlock()
			if stopped {
				return
			}
			rtmetrics.Read(sample)
			live := sample[0].Value.Uint64()
			scan := live + sample[1].Value.Uint64() + sample[2].Value.Uint64()
			if p := floorPercent(live, scan, floor, base); p != current {
				current = p
				debug.SetGCPercent(p)
			}
			arm()
		}, struct{}{})
	}
	arm()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		debug.SetGCPercent(base)
	}
}
