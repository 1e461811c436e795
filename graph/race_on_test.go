//go:build race

package graph

// raceEnabled: the race detector's instrumentation allocates, so allocation counts are not checked.
const raceEnabled = true
