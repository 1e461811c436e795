package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopql/shopql/internal/ctxval"
)

// requestIDHeader carries the request id in both directions: a proxy or client may set it, and
// the response always echoes the id the log line carries.
const requestIDHeader = "X-Request-Id"

// requestInfo is what one request learns on its way through the server, for its log line and
// its metrics. The GraphQL layer fills it in through the context; resolvers run concurrently, so
// it is guarded.
type requestInfo struct {
	id string

	mu        sync.Mutex
	operation string // name of the executed operation; "" before execution
	opType    string // query or mutation
	codes     []string
	reasons   []string
	rejected  bool // the HTTP layer refused the request before GraphQL processing
}

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// setOperation records the operation about to be executed.
func (i *requestInfo) setOperation(name, opType string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.operation, i.opType = name, opType
}

// addError records an error's code and reason, each once.
func (i *requestInfo) addError(code, reason string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if code != "" && !slices.Contains(i.codes, code) {
		i.codes = append(i.codes, code)
	}
	if reason != "" && !slices.Contains(i.reasons, reason) {
		i.reasons = append(i.reasons, reason)
	}
}

// reject records that the HTTP layer refused the request, with the code it answered.
func (i *requestInfo) reject(code string) {
	i.addError(code, "")
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rejected = true
}

// snapshot returns a consistent copy of what was recorded.
func (i *requestInfo) snapshot() (operation, opType string, codes, reasons []string, rejected bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.operation, i.opType, slices.Clone(i.codes), slices.Clone(i.reasons), i.rejected
}

// requestID returns the id the client or a proxy sent if it is sane (short, printable, no
// spaces, so that it cannot forge log fields), else a new random one.
func requestID(sent string) string {
	if len(sent) > 0 && len(sent) <= 64 && strings.IndexFunc(sent, notIDRune) < 0 {
		return sent
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:])
}

func notIDRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:", r))
}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	if info := requestInfoFrom(ctx); info != nil {
		return info.id
	}
	return ""
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

// WriteString lets io.WriteString reach the writer's own, which copies no string into a new slice.
func (s *statusRecorder) WriteString(str string) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := io.WriteString(s.ResponseWriter, str)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flush, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observe is the outermost middleware: it gives the request its id, then writes one log line and
// updates the metrics when the request is done. It logs no header, query string or body, so that
// no token, password or hash can reach the log. routes is the mux behind next: the request counts
// under the route of the pattern it matches there (ServeMux.Handler, the lookup that sets
// r.Pattern; asked here because a CORS preflight is answered before the mux sees it).
func (a *App) observe(routes *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		_, pattern := routes.Handler(r)
		// What the request needs to be observed, its context with the info included, in one
		// allocation.
		obs := &struct {
			ctx      ctxval.Context[requestInfoKey, requestInfo]
			rec      statusRecorder
			idHeader [1]string
		}{}
		obs.ctx.Context = r.Context()
		info, rec := &obs.ctx.Val, &obs.rec
		info.id = requestID(r.Header.Get(requestIDHeader))
		rec.ResponseWriter = w
		obs.idHeader[0] = info.id
		w.Header()[requestIDHeader] = obs.idHeader[:] // Header.Set, without a slice of its own
		defer func() {
			// A panic that escaped recoverPanics (http.ErrAbortHandler) still gets its line.
			if rec.status == 0 {
				rec.status = http.StatusInternalServerError
			}
			a.finish(r, routeLabel(pattern), info, rec, time.Since(start))
		}()
		next.ServeHTTP(rec, r.WithContext(&obs.ctx))
	})
}

// finish logs the request and counts it.
func (a *App) finish(r *http.Request, route string, info *requestInfo, rec *statusRecorder, elapsed time.Duration) {
	op, opType, codes, reasons, rejected := info.snapshot()
	outcome := outcomeOf(rec.status, codes, rejected)
	if a.metrics != nil {
		a.metrics.observe(route, op, opType, outcome, rec.status, codes, reasons, elapsed)
	}

	level := slog.LevelInfo
	switch {
	case rec.status >= 500:
		level = slog.LevelError
	case route != "/graphql" && rec.status < 400:
		// Probes, scrapes and static assets would drown the interesting lines.
		level = slog.LevelDebug
	}
	if !a.log.Enabled(context.Background(), level) {
		return
	}
	// Room for every attribute, so that the slice can stay on the stack.
	var room [11]slog.Attr
	attrs := append(room[:0],
		slog.String("request_id", info.id),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", rec.status),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.Int64("bytes", rec.bytes),
		slog.String("outcome", outcome),
	)
	if op != "" {
		if len(op) > maxOperationLabelBytes { // names are ASCII: cutting bytes cuts no character
			op = op[:maxOperationLabelBytes] + "…"
		}
		attrs = append(attrs, slog.String("operation", op), slog.String("op_type", opType))
	}
	if len(codes) > 0 {
		attrs = append(attrs, slog.String("codes", strings.Join(codes, ",")))
	}
	if len(reasons) > 0 {
		attrs = append(attrs, slog.String("reasons", strings.Join(reasons, ",")))
	}
	a.log.LogAttrs(context.Background(), level, "request", attrs...)
}

// outcomeOf classifies a request for logs and metrics: ok; error when the GraphQL response
// carried errors; rejected when the HTTP layer refused it (bad method, media type, JSON, …);
// failed on a server error.
func outcomeOf(status int, codes []string, rejected bool) string {
	switch {
	case status >= 500:
		return "failed"
	case rejected:
		return "rejected"
	case len(codes) > 0:
		return "error"
	case status >= 400:
		return "rejected"
	default:
		return "ok"
	}
}

// routeLabel is the route a request counts under, from the mux pattern it matches (routes): the
// pattern's path, GraphiQL's page and assets as "/" and "/graphiql", and "other" for what no route
// serves, so that labels stay few whatever paths clients ask for.
func routeLabel(pattern string) string {
	switch {
	case pattern == "/{$}":
		return "/"
	case strings.HasPrefix(pattern, "/graphiql."):
		return "/graphiql"
	case pattern == "/", pattern == "":
		return "other"
	default:
		return pattern
	}
}

// recordOperation is a gqlgen operation middleware that notes which operation runs.
func recordOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if info := requestInfoFrom(ctx); info != nil {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil {
			name := op.Name
			if name == "" {
				name = "anonymous"
			}
			info.setOperation(name, string(op.Operation))
		}
	}
	return next(ctx)
}

// recordErrors wraps the error presenter so that every error sent to a client, from parsing to
// resolvers, is noted with its code and reason: the one place that sees them all after they are
// classified.
func recordErrors(present graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := present(ctx, err)
		if info := requestInfoFrom(ctx); info != nil && gqlErr != nil {
			code, _ := gqlErr.Extensions["code"].(string)
			if code == "" {
				code = "UNCLASSIFIED"
			}
			reason, _ := gqlErr.Extensions["reason"].(string)
			info.addError(code, reason)
		}
		return gqlErr
	}
}

// requestIDHandler adds the request id to every log record made with a request's context, so
// that a resolver's error line can be matched with its request line.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := RequestID(ctx); id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// withRequestIDs returns log with requestIDHandler in front of its handler.
func withRequestIDs(log *slog.Logger) *slog.Logger {
	if _, ok := log.Handler().(requestIDHandler); ok {
		return log
	}
	return slog.New(requestIDHandler{log.Handler()})
}
