package apptest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Socket is a GraphQL-over-WebSocket client (subprotocol graphql-transport-ws), reading and writing
// protocol messages one at a time so that tests can check exactly what the server sent.
type Socket struct {
	s    *Server
	Conn *websocket.Conn
}

// Message is one graphql-transport-ws message.
type Message struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// readTimeout only keeps a broken test from hanging: no test asserts on it.
const readTimeout = 30 * time.Second

// DialSocket opens a WebSocket to /graphql with the graphql-transport-ws subprotocol and the extra
// request headers given. The HTTP response is returned too (for a refused upgrade, its status).
func (s *Server) DialSocket(header http.Header) (*Socket, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/graphql"
	conn, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header,
	})
	if err != nil {
		return nil, res, err
	}
	conn.SetReadLimit(64 << 20)
	sock := &Socket{s: s, Conn: conn}
	s.t.Cleanup(func() { _ = conn.CloseNow() })
	return sock, res, nil
}

// Socket opens a WebSocket and fails the test if it cannot.
func (s *Server) Socket() *Socket {
	s.t.Helper()
	sock, _, err := s.DialSocket(nil)
	if err != nil {
		s.t.Fatalf("dial websocket: %v", err)
	}
	return sock
}

// Send writes one message.
func (c *Socket) Send(m Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	return c.Conn.Write(ctx, websocket.MessageText, b)
}

// Init sends connection_init with payload (nil: no payload).
func (c *Socket) Init(payload map[string]any) error {
	m := Message{Type: "connection_init"}
	if payload != nil {
		b, _ := json.Marshal(payload)
		m.Payload = b
	}
	return c.Send(m)
}

// Bearer is the connection_init payload carrying an access token.
func Bearer(token string) map[string]any { return map[string]any{"Authorization": "Bearer " + token} }

// Read returns the next message, whatever it is; a closed connection is an error (see CloseOf).
func (c *Socket) Read() (Message, error) { return c.readBy(time.Now().Add(readTimeout)) }

// readBy is Read giving up at deadline. Loops that skip messages share one deadline: the server's
// pings arrive more often than readTimeout, so a timeout per message would never end the wait.
func (c *Socket) readBy(deadline time.Time) (Message, error) {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	_, b, err := c.Conn.Read(ctx)
	if err != nil {
		return Message{}, err
	}
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return Message{}, err
	}
	return m, nil
}

// Next returns the next message other than ping (answered with pong) and pong.
func (c *Socket) Next() (Message, error) {
	deadline := time.Now().Add(readTimeout)
	for {
		m, err := c.readBy(deadline)
		if err != nil {
			return m, err
		}
		switch m.Type {
		case "ping":
			if err := c.Send(Message{Type: "pong"}); err != nil {
				return m, err
			}
		case "pong":
		default:
			return m, nil
		}
	}
}

// Open initialises the connection with token and fails the test unless the server acknowledges.
func (c *Socket) Open(token string) *Socket {
	c.s.t.Helper()
	if err := c.Init(Bearer(token)); err != nil {
		c.s.t.Fatal(err)
	}
	m, err := c.Next()
	if err != nil || m.Type != "connection_ack" {
		c.s.t.Fatalf("want connection_ack, got %+v (%v)", m, err)
	}
	return c
}

// Subscribe starts an operation with the given id.
func (c *Socket) Subscribe(id, query string, vars map[string]any) {
	c.s.t.Helper()
	payload, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err := c.Send(Message{Type: "subscribe", ID: id, Payload: payload}); err != nil {
		c.s.t.Fatal(err)
	}
}

// Event reads the next message, which must be a next for id, and returns its payload.
func (c *Socket) Event(id string) *Response {
	c.s.t.Helper()
	m, err := c.Next()
	if err != nil {
		c.s.t.Fatalf("waiting for an event of %s: %v", id, err)
	}
	if m.Type != "next" || m.ID != id {
		c.s.t.Fatalf("want next for %s, got %+v", id, m)
	}
	out := &Response{}
	if err := json.Unmarshal(m.Payload, out); err != nil {
		c.s.t.Fatal(err)
	}
	return out
}

// Closed reads until the connection ends and returns its close code and reason (-1 and "" when it
// ended without a close frame), with the messages that came before.
func (c *Socket) Closed() (code int, reason string, before []Message) {
	deadline := time.Now().Add(readTimeout)
	for {
		m, err := c.readBy(deadline)
		if err == nil {
			before = append(before, m)
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return int(ce.Code), ce.Reason, before
		}
		return -1, "", before
	}
}
