package app

import (
	"database/sql"
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
// system's storage without end. Names past the bound are counted as "other".
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

	mu      sync.Mutex
	seenOps map[string]bool // operation names admitted as labels
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
		seenOps: map[string]bool{},
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
	m.httpRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(elapsed.Seconds())
	if route != "/graphql" {
		return
	}
	operation = m.operationLabel(operation)
	if opType == "" {
		opType = "none"
	}
	m.operations.WithLabelValues(operation, opType, outcome).Inc()
	m.opDuration.WithLabelValues(operation, opType).Observe(elapsed.Seconds())
	for _, code := range codes {
		m.graphqlErrors.WithLabelValues(code).Inc()
	}
	for _, reason := range reasons {
		if slices.Contains(auth.Reasons, auth.Reason(reason)) {
			m.authFailures.WithLabelValues(reason).Inc()
		}
	}
}

// operationLabel returns the label for an operation name: the name itself while fewer than
// maxOperationLabels names have been seen, "other" for new names after that and for names longer
// than maxOperationLabelBytes.
func (m *metrics) operationLabel(name string) string {
	if name == "" {
		return "none"
	}
	if len(name) > maxOperationLabelBytes {
		return "other"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seenOps[name] {
		return name
	}
	if len(m.seenOps) >= maxOperationLabels {
		return "other"
	}
	m.seenOps[name] = true
	return name
}
