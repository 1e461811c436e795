package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"
)

// benchPattern selects the Go benchmarks of the load test's requests: the catalog query on the
// baseline and on ours with the cache on and off, and the long tail (cached, uncached, baseline).
const benchPattern = `^BenchmarkCatalog(Baseline|Authenticated|AuthenticatedUncached|LongTail)$`

// benchmark is one line of go test -bench -benchmem.
type benchmark struct {
	name                   string
	nsPerOp, bytes, allocs string
}

// runBenchmarks runs the benchmarks in ./app (on PostgreSQL through TEST_DATABASE_URL when the load
// test runs on it) and parses their results.
func runBenchmarks(ctx context.Context, o options) ([]benchmark, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", benchPattern, "-benchmem", "-benchtime", "300x", "./app")
	cmd.Env = os.Environ()
	if o.db == "postgres" {
		cmd.Env = append(cmd.Env, "TEST_DATABASE_URL="+o.databaseURL)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, io.Discard
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %.500s", err, out.String())
	}
	var bs []benchmark
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// BenchmarkX-2  300  123 ns/op  456 B/op  78 allocs/op
		if len(f) == 8 && strings.HasPrefix(f[0], "Benchmark") && f[7] == "allocs/op" {
			bs = append(bs, benchmark{name: f[0], nsPerOp: f[2], bytes: f[4], allocs: f[6]})
		}
	}
	return bs, nil
}

func (r *report) printBenchmarks(w io.Writer) {
	if len(r.benchmarks) == 0 {
		return
	}
	fmt.Fprintln(w, "\nGo benchmarks, same requests, in process (go test -bench -benchmem -benchtime 300x ./app):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "benchmark\tns/op\tB/op\tallocs/op\t")
	for _, b := range r.benchmarks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", b.name, b.nsPerOp, b.bytes, b.allocs)
	}
	tw.Flush()
}
