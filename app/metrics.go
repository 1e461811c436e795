package app

import (
	"database/sql"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shopql/shopql/auth"
)

// maxOperationLabels bounds the operation names used as metric labels. Names come from clients;
// without a bound, a client inventing names would grow the server's memory and the monitoring
// system's storage without end. Names without a label are counted as "other" (see opLabels).
const maxOperationLabels = 200

// maxOperationLabelBytes bounds the length of an operation name used as a label: a GraphQL name can
// be as long as a document, and every series line repeats it.
const maxOperationLabelBytes = 100

// metrics are the Prometheus series of one App. Each App has its own registry, so that tests can
// run many servers in one process.
type metrics struct {
	registry *prometheus.Registry

	httpRequests  *prometheus.CounterVec   // route, code
	httpDuration  *prometheus.HistogramVec // route
	operations    *prometheus.CounterVec   // operation, type, outcome
	opDuration    *prometheus.HistogramVec // operation, type
	graphqlErrors *prometheus.CounterVec   // code
	authFailures  *prometheus.CounterVec   // reason

	mu  sync.Mutex // guards ops, and series changes by name so that an evicted name leaves none behind
	ops *opLabels
}

func newMetrics(db *sql.DB) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopql_http_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shopql_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopql_graphql_requests_total",
			Help: "GraphQL requests by operation name (anonymous for unnamed, none when the request failed before execution), type and outcome (ok, error, rejected, failed).",
		}, []string{"operation", "type", "outcome"}),
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shopql_graphql_request_duration_seconds",
			Help:    "Time to answer GraphQL requests, by operation name and type.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation", "type"}),
		graphqlErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopql_graphql_errors_total",
			Help: "GraphQL requests whose response carried an error with this extensions.code (counted once per request and code).",
		}, []string{"code"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopql_auth_failures_total",
			Help: "GraphQL requests refused for an authentication or authorisation reason (extensions.reason), once per request and reason.",
		}, []string{"reason"}),
		ops: newOpLabels(maxOperationLabels),
	}
	for _, r := range auth.Reasons {
		// Present from the start, so that rate() works and dashboards show zeros, not gaps.
		m.authFailures.WithLabelValues(string(r))
	}
	m.registry.MustRegister(
		m.httpRequests, m.httpDuration, m.operations, m.opDuration, m.graphqlErrors, m.authFailures,
		collectors.NewDBStatsCollector(db, "shopql"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// handler serves the metrics in the Prometheus exposition format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// observe counts one finished request.
func (m *metrics) observe(route, operation, opType, outcome string, status int, codes, reasons []string, elapsed time.Duration) {
	m.httpRequests.WithLabelValues(route, statusLabel(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(elapsed.Seconds())
	if route != "/graphql" {
		return
	}
	if opType == "" {
		opType = "none"
	}
	m.mu.Lock()
	label := m.operationLabelLocked(operation)
	m.operations.WithLabelValues(label, opType, outcome).Inc()
	m.opDuration.WithLabelValues(label, opType).Observe(elapsed.Seconds())
	m.mu.Unlock()
	for _, code := range codes {
		m.graphqlErrors.WithLabelValues(code).Inc()
	}
	for _, reason := range reasons {
		if slices.Contains(auth.Reasons, auth.Reason(reason)) {
			m.authFailures.WithLabelValues(reason).Inc()
		}
	}
}

// statusLabels are the labels of the HTTP statuses, made once: strconv.Itoa makes a string per
// call above 99, so per request.
var statusLabels = func() (labels [600]string) {
	for code := range labels {
		labels[code] = strconv.Itoa(code)
	}
	return labels
}()

// statusLabel is status as a metric label: its decimal digits.
func statusLabel(status int) string {
	if status >= 0 && status < len(statusLabels) {
		return statusLabels[status]
	}
	return strconv.Itoa(status)
}

// operationLabel returns the label to count an executed operation under (see opLabels).
func (m *metrics) operationLabel(name string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.operationLabelLocked(name)
}

// operationLabelLocked is operationLabel with m.mu held. It deletes the series of a name that
// lost its label, under the same lock as the caller's update, so that none is left behind.
func (m *metrics) operationLabelLocked(name string) string {
	switch {
	case name == "":
		return "none"
	case name == "anonymous": // recordOperation's label for unnamed operations: always kept
		return name
	case len(name) > maxOperationLabelBytes:
		return "other"
	}
	label, evicted := m.ops.label(name)
	for _, name := range evicted {
		m.operations.DeletePartialMatch(prometheus.Labels{"operation": name})
		m.opDuration.DeletePartialMatch(prometheus.Labels{"operation": name})
	}
	return label
}

// opLabels decides which operation names get a label of their own. Only executed operations are
// counted here (the name is recorded once the document has passed validation, so junk documents
// never compete), and the labels go to the most used names, not the first seen:
//
//   - while fewer than max names hold a label, a new name gets one at once;
//   - after that, a name competes by its score (requests, halved every decayEvery requests, so
//     that the score follows recent use): it takes the label of the lowest-scored name when its own
//     score is at least minScore and more than twice that name's. The evicted name's series are
//     deleted, so at most max names ever have series.
//
// So names invented by a client (a thousand of them, each sent a few times) cannot push out an
// operation that real clients use more than each of them, nor keep a real operation that starts
// being used after them from getting its label; and a flood must keep outscoring the labelled
// names to keep a label. Names waiting for a label are remembered, with their score, up to
// 5 × max; past that the lowest-scored is forgotten.
type opLabels struct {
	max        int
	labelled   map[string]float64 // names with a label: score
	candidates map[string]float64 // names counted as "other" so far: score
	seen       int                // requests since the last decay
}

const (
	opLabelMinScore    = 3
	opLabelDecayEvery  = 10000
	opLabelCandidatesX = 5 // candidates remembered, as a multiple of max
)

func newOpLabels(max int) *opLabels {
	return &opLabels{max: max, labelled: map[string]float64{}, candidates: map[string]float64{}}
}

// label counts one request of the operation name and returns its label: name or "other". evicted
// names lost their label to it.
func (o *opLabels) label(name string) (label string, evicted []string) {
	if o.seen++; o.seen >= opLabelDecayEvery {
		o.decay()
	}
	if _, ok := o.labelled[name]; ok {
		o.labelled[name]++
		return name, nil
	}
	if len(o.labelled) < o.max {
		o.labelled[name] = 1 + o.candidates[name]
		delete(o.candidates, name)
		return name, nil
	}
	score, ok := o.candidates[name]
	if !ok && len(o.candidates) >= opLabelCandidatesX*o.max {
		// Forget the least used candidate: a name used more than the flood's names stays.
		low, _ := lowest(o.candidates)
		delete(o.candidates, low)
	}
	score++
	if low, lowScore := lowest(o.labelled); score >= opLabelMinScore && score > 2*lowScore {
		delete(o.labelled, low)
		delete(o.candidates, name)
		o.labelled[name] = score
		return name, []string{low}
	}
	o.candidates[name] = score
	return "other", nil
}

// decay halves every score, and forgets candidates whose score has faded.
func (o *opLabels) decay() {
	o.seen = 0
	for name := range o.labelled {
		o.labelled[name] /= 2
	}
	for name, score := range o.candidates {
		if score /= 2; score < 0.5 {
			delete(o.candidates, name)
		} else {
			o.candidates[name] = score
		}
	}
}

// lowest returns the name with the lowest score (ties: the alphabetically first, so that the
// choice does not depend on map order).
func lowest(scores map[string]float64) (name string, score float64) {
	score = math.Inf(1)
	for n, s := range scores {
		if s < score || s == score && n < name {
			name, score = n, s
		}
	}
	return name, score
}
