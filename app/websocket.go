package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopql/shopql/auth"
	"github.com/shopql/shopql/graph"
)

// GraphQL over WebSocket (subscriptions), as the graphql-ws library speaks it: subprotocol
// graphql-transport-ws on /graphql. A connection lives exactly as long as the access token it was
// opened with: the token comes in connection_init's payload, and the socket is closed with 4403 and
// the reason when it is missing or bad, when it expires, and as soon as its session is revoked on
// any instance (auth.Service.WatchSession). gqlgen's transport does the protocol; this file does
// the rest: Origin, per-address and per-connection limits, the init timeout (4408, where gqlgen
// would close with 1002) and closing from outside with a close frame of our choosing (cancelling the
// connection's context would make gqlgen close with 1000, which clients take for a normal end).
const wsSubprotocol = "graphql-transport-ws"

// Close codes (README, Subscriptions).
const (
	closeForbidden      = 4403 // the token is missing, invalid, expired or revoked; reason TOKEN_*
	closeInitTimeout    = 4408 // no connection_init in time (WS_INIT_TIMEOUT)
	closeTryAgainLater  = 1013 // a subscription fell WS_EVENT_QUEUE events behind; reason SLOW_CONSUMER
	closeServiceRestart = 1012 // the server is shutting down
)

// sockets are the WebSocket connections of one App.
type sockets struct {
	cfg  Config
	auth *auth.Service

	mu         sync.Mutex
	perAddress map[string]int
	live       map[*socket]struct{}
}

func newSockets(cfg Config, svc *auth.Service) *sockets {
	return &sockets{cfg: cfg, auth: svc, perAddress: map[string]int{}, live: map[*socket]struct{}{}}
}

// isWebSocketUpgrade reports whether r asks to become a WebSocket.
func isWebSocketUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && headerHasToken(r.Header, "Connection", "upgrade") &&
		headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// admit lets the WebSocket upgrade r through to serve, with the socket in ctx: from an allowed
// Origin, offering our subprotocol, within the per-address limit (ctx has the client's address).
func (s *sockets) admit(ctx context.Context, w http.ResponseWriter, r *http.Request, serve func(context.Context)) {
	if !s.originAllowed(r) {
		// Cross-site WebSocket hijacking: a page elsewhere opening a socket to us.
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	if !headerHasToken(r.Header, "Sec-WebSocket-Protocol", wsSubprotocol) {
		http.Error(w, "GraphQL over WebSocket needs the subprotocol "+wsSubprotocol, http.StatusBadRequest)
		return
	}
	addr := auth.ClientAddress(ctx)
	if !s.acquire(addr) {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "too many WebSocket connections from your address", http.StatusTooManyRequests)
		return
	}
	defer s.release(addr)
	// The server's read and write timeouts are for requests; a hijacked connection keeps
	// them unless they are cleared (http.Hijacker).
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	c := &socket{sockets: s, done: make(chan struct{})}
	s.track(c, true)
	defer s.track(c, false)
	defer close(c.done)
	serve(context.WithValue(ctx, socketKey{}, c))
}

// originAllowed: no Origin (not a browser), the server's own (same scheme, host and port), or one
// of CORS_ALLOWED_ORIGINS.
func (s *sockets) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if origins := s.cfg.CORSAllowedOrigins; slices.Contains(origins, "*") || slices.Contains(origins, strings.ToLower(origin)) {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return strings.EqualFold(u.Scheme, scheme) && strings.EqualFold(withDefaultPort(u.Host, u.Scheme), withDefaultPort(r.Host, scheme))
}

func withDefaultPort(host, scheme string) string {
	if strings.HasSuffix(host, "]") || !strings.Contains(host, ":") {
		if scheme == "https" {
			return host + ":443"
		}
		return host + ":80"
	}
	return host
}

func (s *sockets) acquire(addr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit := s.cfg.WSMaxConnectionsPerAddress; limit > 0 && s.perAddress[addr] >= limit {
		return false
	}
	s.perAddress[addr]++
	return true
}

func (s *sockets) release(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perAddress[addr]--; s.perAddress[addr] <= 0 {
		delete(s.perAddress, addr)
	}
}

func (s *sockets) track(c *socket, open bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if open {
		s.live[c] = struct{}{}
	} else {
		delete(s.live, c)
	}
}

// closeAll closes every open connection with 1012 (service restart), which graphql-ws clients
// retry: http.Server.Shutdown does not wait for hijacked connections, and the database they
// read from is about to close.
func (s *sockets) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.live {
		if c.conn != nil {
			c.closeWith(closeServiceRestart, "server shutting down")
		}
	}
}

// socket is one WebSocket connection.
type socket struct {
	sockets *sockets
	done    chan struct{} // closed when the connection's handler has returned

	conn      transport.WebsocketConn // set by Accept
	initTimer *time.Timer
	initState atomic.Int32 // 0 waiting for connection_init, 1 initialised, 2 timed out
	closeOnce sync.Once

	mu            sync.Mutex
	subscriptions int
}

type socketKey struct{}

func socketFrom(ctx context.Context) *socket {
	c, _ := ctx.Value(socketKey{}).(*socket)
	return c
}

// closeWith writes the close frame, which ends gqlgen's read loop and with it the connection; gqlgen's
// own close after that finds the handshake under way and writes nothing.
func (c *socket) closeWith(code int, reason string) {
	c.closeOnce.Do(func() { _ = c.conn.WriteClose(code, reason) })
}

// Admit implements graph.Subscriber.
func (c *socket) Admit() (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if limit := c.sockets.cfg.WSMaxSubscriptions; limit > 0 && c.subscriptions >= limit {
		return nil, &auth.RateLimitError{
			Message:    fmt.Sprintf("at most %d subscriptions per connection: complete one first", limit),
			RetryAfter: time.Second,
		}
	}
	c.subscriptions++
	return sync.OnceFunc(func() {
		c.mu.Lock()
		c.subscriptions--
		c.mu.Unlock()
	}), nil
}

// SlowConsumer implements graph.Subscriber.
func (c *socket) SlowConsumer() { c.closeWith(closeTryAgainLater, "SLOW_CONSUMER") }

// endWithToken closes the connection when its token expires or its session is revoked, whichever
// comes first, unless the connection ends before.
func (c *socket) endWithToken(p *auth.Principal) {
	ended, stop := c.sockets.auth.WatchSession(p.SessionID)
	go func() {
		defer stop()
		expiry := time.NewTimer(time.Until(p.ExpiresAt))
		defer expiry.Stop()
		select {
		case <-ended:
			c.closeWith(closeForbidden, string(auth.ReasonTokenRevoked))
		case <-expiry.C:
			c.closeWith(closeForbidden, string(auth.ReasonTokenExpired))
		case <-c.done:
		}
	}()
}

// acceptor accepts upgrades with coder/websocket (gqlgen's adapter), binds the connection to its
// socket and starts the connection_init timeout.
type acceptor struct{}

func (acceptor) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c := socketFrom(r.Context())
	if c == nil {
		return nil, errors.New("WebSocket upgrade outside sockets.admit")
	}
	impl := transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{
		Subprotocols:       []string{wsSubprotocol}, // preferred over gqlgen's legacy graphql-ws
		InsecureSkipVerify: true,                    // sockets.admit has checked the Origin, with the scheme
	}}
	conn, err := impl.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	c.sockets.mu.Lock() // closeAll reads it under this lock
	c.conn = conn
	c.sockets.mu.Unlock()
	c.initTimer = time.AfterFunc(c.sockets.cfg.WSInitTimeout, func() {
		if c.initState.CompareAndSwap(0, 2) {
			c.closeWith(closeInitTimeout, "Connection initialisation timeout")
		}
	})
	return conn, nil
}

// initConnection is gqlgen's InitFunc: it authenticates connection_init's Authorization as the HTTP
// middleware does a header, and either refuses the connection with 4403 and the reason (before any
// connection_ack) or ties it to its token's lifetime.
func (s *sockets) initConnection(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	c := socketFrom(ctx)
	if !c.initState.CompareAndSwap(0, 1) {
		return ctx, nil, errors.New("connection initialisation timeout") // closed already
	}
	c.initTimer.Stop()
	h := http.Header{}
	if v := payload.Authorization(); v != "" {
		h.Set("Authorization", v)
	}
	ctx = s.auth.WithIdentity(ctx, h)
	p, err := auth.FromContext(ctx)
	if err == nil && !time.Now().Before(p.ExpiresAt) {
		err = auth.ErrTokenExpired // within the leeway HTTP allows, but a connection ends at exp
	}
	if err != nil {
		reason := auth.ReasonTokenInvalid
		var authErr *auth.Error
		if errors.As(err, &authErr) {
			reason = authErr.Reason
		}
		ctx = transport.WithWebsocketCloseCode(ctx, closeForbidden)
		return transport.AppendCloseReason(ctx, string(reason)), nil, err
	}
	c.endWithToken(p)
	return graph.WithSubscriber(ctx, c), nil, nil
}

// webSocketTransport is gqlgen's WebSocket transport, for WebSocket upgrades only (gqlgen's own
// Supports takes any request with an Upgrade header). It must come before the HTTP transport,
// which takes every GET.
type webSocketTransport struct{ transport.Websocket }

func (webSocketTransport) Supports(r *http.Request) bool { return isWebSocketUpgrade(r) }

func (a *App) webSocketTransport() graphql.Transport {
	readLimit := int64(a.cfg.MaxBodyBytes)
	if readLimit <= 0 {
		readLimit = -1
	}
	return webSocketTransport{transport.Websocket{
		Implementation:   acceptor{},
		InitFunc:         a.sockets.initConnection,
		PingPongInterval: a.cfg.WSPingInterval,
		PayloadReadLimit: &readLimit,
		ErrorFunc: func(ctx context.Context, err error) {
			a.log.DebugContext(ctx, "websocket", "err", err)
		},
	}}
}

// subscriptionEvents gives each event of a subscription its own loaders: the selection set runs
// once per event, and loaders living as long as the socket would serve stale data.
func (a *App) subscriptionEvents() graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		if isSubscription(ctx) {
			ctx = graph.WithLoaders(ctx, a.DB)
		}
		return next(ctx)
	}
}

func isSubscription(ctx context.Context) bool {
	op := graphql.GetOperationContext(ctx).Operation
	return op != nil && op.Operation == ast.Subscription
}
