package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// report gathers the runs of every scenario.
type report struct {
	rows []row

	memory             memoryRun
	baseline, uncached stats
	baseline2          stats // the baseline again, beside the server with the cache off
	// e: the long tail, with the cache on (and the baseline beside it), then off (and the baseline)
	tailCached, tailBaseline, tailUncached, tailBaseline2 stats
	benchmarks                                            []benchmark
	idle, flooded, logins                                 stats
	deep                                                  bool
	page1, pageN                                          stats
	subs                                                  *subscriptionRun // scenario f, when run
}

type row struct {
	name string
	s    stats
	mem  *memoryRun
}

func (r *report) add(name string, s stats, mem *memoryRun) {
	r.rows = append(r.rows, row{name, s, mem})
}

func (r *report) print(w io.Writer, o options) {
	fmt.Fprintf(w, "\nshopql load test: %s, %d products in %d categories, %s a run\n\n", o.db, o.products, o.categories, o.duration)
	if o.subsOnly {
		r.printSubscriptions(w)
		return
	}
	r.printTable(w)
	fmt.Fprintln(w)
	r.printTargets(w, o)
	r.printBenchmarks(w)
}

func (r *report) printTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tclients\trequests\treq/s\tp50\tp99\terrors\tRSS peak\tVmHWM\tFDs (sockets) idle→after\tthreads idle→after\t")
	for _, x := range r.rows {
		mem := "\t\t\t\t"
		if m := x.mem; m != nil {
			mem = fmt.Sprintf("%s\t%s\t%d→%d (%d→%d)\t%d→%d\t", mib(m.rssPeakKiB), mib(m.hwmKiB),
				m.idle.fds, m.after.fds, m.idle.sockets, m.after.sockets, m.idle.threads, m.after.threads)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%s\t%s\t%d\t%s\n", x.name, x.s.clients, x.s.requests, x.s.rate(),
			ms(x.s.percentile(0.5)), ms(x.s.percentile(0.99)), x.s.errors, mem)
	}
	tw.Flush()
	for _, x := range r.rows {
		if x.s.firstErr != nil {
			fmt.Fprintf(w, "first error in %q: %v\n", x.name, x.s.firstErr)
		}
	}
}

// fdSlack is how many more descriptors than at idle still count as "back to idle".
const fdSlack = 2

func (r *report) printTargets(w io.Writer, o options) {
	m := r.memory
	check(w, float64(m.rssPeakKiB)/1024 <= 64, "a", fmt.Sprintf("RSS peak with %d clients ≤ 64 MiB", o.clients),
		fmt.Sprintf("%s sampled VmRSS peak (VmHWM since start %s)", mib(m.rssPeakKiB), mib(m.hwmKiB)))
	check(w, m.idleErr == nil && m.afterError == nil && m.after.fds <= m.idle.fds+fdSlack, "a",
		fmt.Sprintf("no leak: FDs %s after the load ≤ idle + %d", settle, fdSlack),
		fmt.Sprintf("%d idle → %d after, sockets %d → %d (threads %d → %d; goroutines are not exposed)",
			m.idle.fds, m.after.fds, m.idle.sockets, m.after.sockets, m.idle.threads, m.after.threads))

	idle, flooded := r.idle.percentile(0.99), r.flooded.percentile(0.99)
	check(w, ratio(flooded, idle) <= 2, "b", fmt.Sprintf("catalog p99 beside %d logins ≤ 2× idle p99", o.logins),
		fmt.Sprintf("%s / %s = %.2f× (%.0f logins/s)", ms(flooded), ms(idle), ratio(flooded, idle), r.logins.rate()))

	cached := r.memory.run.rate() / r.baseline.rate()
	check(w, cached >= 1.1, "c", "ours/baseline req/s ≥ 1.1 (response cache on)",
		fmt.Sprintf("%.0f / %.0f = %.2f×", r.memory.run.rate(), r.baseline.rate(), cached))
	uncached := r.uncached.rate() / r.baseline2.rate()
	check(w, uncached >= 1.1, "c", "ours/baseline req/s ≥ 1.1 (RESPONSE_CACHE_TTL=0)",
		fmt.Sprintf("%.0f / %.0f = %.2f×", r.uncached.rate(), r.baseline2.rate(), uncached))
	tailOn := r.tailCached.rate() / r.tailBaseline.rate()
	check(w, tailOn >= 1.1, "e", "long tail: ours/baseline req/s ≥ 1.1 (cache on)",
		fmt.Sprintf("%.0f / %.0f = %.2f×", r.tailCached.rate(), r.tailBaseline.rate(), tailOn))
	tailOff := r.tailUncached.rate() / r.tailBaseline2.rate()
	check(w, tailOff >= 1.1, "e", "long tail: ours/baseline req/s ≥ 1.1 (RESPONSE_CACHE_TTL=0)",
		fmt.Sprintf("%.0f / %.0f = %.2f×", r.tailUncached.rate(), r.tailBaseline2.rate(), tailOff))

	if r.deep {
		p50 := ratio(r.pageN.percentile(0.5), r.page1.percentile(0.5))
		check(w, p50 <= 1.5, "d", fmt.Sprintf("page %d p50 ≤ 1.5× page 1 p50 (cache off)", o.products/50),
			fmt.Sprintf("%s / %s = %.2f× (p99 %.2f×, req/s %.2f×)", ms(r.pageN.percentile(0.5)), ms(r.page1.percentile(0.5)), p50,
				ratio(r.pageN.percentile(0.99), r.page1.percentile(0.99)), r.page1.rate()/r.pageN.rate()))
	}
	errs := 0
	for _, x := range r.rows {
		errs += x.s.errors
	}
	check(w, errs == 0, "-", "no failed requests", fmt.Sprintf("%d errors", errs))
	if r.subs != nil {
		fmt.Fprintln(w)
		r.printSubscriptions(w)
	}
}

func check(w io.Writer, ok bool, scenario, target, measured string) {
	verdict := "PASS"
	if !ok {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s  %s  %-52s %s\n", verdict, scenario, target, measured)
}

func ratio(a, b time.Duration) float64 { return float64(a) / max(float64(b), 1) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }
