package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Defaults for ServerConfig and Dial.
const (
	DefaultMaxMessageSize = 16 << 20 // a request (server) or response (client); devnet proofs are large
	// DefaultMaxAnonymousRequestSize bounds what a caller without a token
	// may send to a server that verifies tokens (ServerConfig.Secret set):
	// enough for health and version calls, too little to make an
	// unauthenticated caller cost memory.
	DefaultMaxAnonymousRequestSize = 64 << 10
	DefaultMaxBatch                = 1000
	DefaultMaxInflight             = 1024
	DefaultPingInterval            = 30 * time.Second
	DefaultWriteTimeout            = 30 * time.Second
)

// ServerConfig configures a Server. The zero value is a server without
// authentication on which only PermNone methods can be called.
type ServerConfig struct {
	// Secret is the HS256 key that verifies bearer tokens (at least
	// MinSecretLen bytes). Without it every caller is anonymous.
	Secret []byte
	// Revoked, if set, is consulted for every token that has a jti: on each
	// HTTP request and on each call received over a WebSocket.
	Revoked RevokedFunc
	// AnonymousPerm is what callers without a token hold. Lotus grants
	// read; Sealant services keep PermNone so only health/version answer.
	AnonymousPerm Perm
	// AllowQueryToken accepts ?token= when no Authorization header is sent,
	// for browsers (which cannot set WebSocket headers). Query strings end up
	// in access logs, so it is off by default.
	AllowQueryToken bool
	// MaxRequestSize bounds an HTTP body or a WebSocket message in bytes
	// (default DefaultMaxMessageSize). An oversized HTTP request gets 413; an
	// oversized WebSocket message closes the connection (status 1009).
	MaxRequestSize int64
	// MaxAnonymousRequestSize bounds an HTTP body or WebSocket message from
	// a caller without a token. The token (a header) is checked before any
	// byte of the body is read, so only anonymous callers reach the body
	// unauthenticated; an anonymous body over this size gets 401 after at
	// most this many bytes are read. Default: DefaultMaxAnonymousRequestSize
	// when Secret is set, else MaxRequestSize (a server without tokens has
	// only anonymous callers). Never more than MaxRequestSize.
	MaxAnonymousRequestSize int64
	// MaxBatch bounds the number of requests in one batch (default DefaultMaxBatch).
	MaxBatch int
	// MaxInflight bounds concurrently served requests per WebSocket
	// (default DefaultMaxInflight); excess requests get CodeOverloaded.
	MaxInflight int
	// OriginPatterns lists extra browser origins allowed to open a
	// WebSocket (coder/websocket AcceptOptions.OriginPatterns); same-origin
	// and non-browser clients are always allowed.
	OriginPatterns []string
	// PingInterval is the WebSocket keep-alive period (default
	// DefaultPingInterval; negative disables).
	PingInterval time.Duration
	// WriteTimeout bounds one WebSocket write (default DefaultWriteTimeout):
	// a connection whose writes have made no progress for longer (a peer
	// that stopped reading) is closed, checked every second or every
	// quarter of it.
	WriteTimeout time.Duration
	// ExposeErrors sends the text of unregistered handler errors with
	// CodeGeneric, as Lotus does and Lotus clients expect (they match on
	// text such as "actor not found"). Off, callers only see "internal
	// error (ref …)" and the error is logged.
	ExposeErrors bool
	// Errors maps Go errors to codes (default DefaultErrors).
	Errors *ErrorRegistry
	// Logger receives handler failures and panics (default slog.Default()).
	Logger *slog.Logger
	// LotusHTTPStatus answers a parse error and an unknown method with HTTP
	// 500, as go-jsonrpc (Lotus) does, for servers that stand in for a
	// Lotus node. Off (Sealant's own services), a parse error is 400 and an
	// unknown method 404; the JSON-RPC error is in the body either way.
	LotusHTTPStatus bool
	// Observe, if set, is called after every method call (HTTP or
	// WebSocket) with the method name ("" for an unknown method), the error
	// code sent (0 on success) and the handler's run time; for metrics. It
	// must be cheap and safe for concurrent use.
	Observe func(method string, code int, elapsed time.Duration)
}

// Server is a JSON-RPC 2.0 endpoint serving HTTP POST and WebSocket on the
// same path (mount it with http.Handle). Methods are registered before
// serving; each has a required permission checked before its handler runs.
// A Server is safe for concurrent use.
type Server struct {
	cfg ServerConfig
	d   *dispatcher
	log *slog.Logger
	now func() time.Time // token expiry clock; replaced in tests

	mu     sync.Mutex
	closed bool
	peers  map[*Peer]struct{}
	onConn []func(context.Context, *Peer)
}

// NewServer validates cfg, fills defaults and returns a Server.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Secret != nil && len(cfg.Secret) < MinSecretLen {
		return nil, ErrWeakSecret
	}
	if !cfg.AnonymousPerm.Valid() {
		return nil, fmt.Errorf("rpc: unknown anonymous permission %q", cfg.AnonymousPerm)
	}
	if cfg.MaxRequestSize < 0 || cfg.MaxAnonymousRequestSize < 0 || cfg.MaxBatch < 0 || cfg.MaxInflight < 0 || cfg.WriteTimeout < 0 {
		return nil, errors.New("rpc: negative limit in server config")
	}
	if cfg.MaxRequestSize == 0 {
		cfg.MaxRequestSize = DefaultMaxMessageSize
	}
	if cfg.MaxAnonymousRequestSize == 0 {
		cfg.MaxAnonymousRequestSize = cfg.MaxRequestSize
		if cfg.Secret != nil {
			cfg.MaxAnonymousRequestSize = DefaultMaxAnonymousRequestSize
		}
	}
	cfg.MaxAnonymousRequestSize = min(cfg.MaxAnonymousRequestSize, cfg.MaxRequestSize)
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.MaxInflight == 0 {
		cfg.MaxInflight = DefaultMaxInflight
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.Errors == nil {
		cfg.Errors = DefaultErrors
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Server{
		cfg:   cfg,
		d:     &dispatcher{errs: cfg.Errors, log: cfg.Logger, expose: cfg.ExposeErrors, observe: cfg.Observe},
		log:   cfg.Logger,
		now:   time.Now,
		peers: map[*Peer]struct{}{},
	}, nil
}

// Register adds a method callable by callers holding perm (PermNone: by
// anyone). Names are matched exactly; Lotus-compatible APIs use
// "Filecoin.ChainHead"-style names. Register panics on an empty name, a nil
// handler, an unknown perm or a duplicate name: these are wiring mistakes.
func (s *Server) Register(name string, perm Perm, h Handler) {
	s.d.table.register(name, perm, h)
}

// OnConnect adds a hook run for every WebSocket peer once the connection is
// up, in its own goroutine, so it may call the peer (p.Call) right away and
// may block. ctx is cancelled when the peer disconnects; it carries the
// peer's claims (ClaimsFrom) and the peer (PeerFrom).
func (s *Server) OnConnect(hook func(ctx context.Context, p *Peer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onConn = append(s.onConn, hook)
}

// Peers returns the currently connected WebSocket peers.
func (s *Server) Peers() []*Peer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Peer, 0, len(s.peers))
	for p := range s.peers {
		out = append(out, p)
	}
	return out
}

// Close disconnects every WebSocket peer and refuses new ones. HTTP
// requests are the http.Server's business (Shutdown), but http.Server does
// not track hijacked WebSocket connections, so call both.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	for _, p := range s.Peers() {
		_ = p.Close()
	}
	return nil
}

// ServeHTTP authenticates the request, then serves it as a WebSocket when
// it asks for an upgrade, else as an HTTP POST.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	claims, status, e := s.authenticate(r)
	if e != nil {
		writeHTTP(w, status, appendError(nil, nullJSON, e))
		return
	}
	// go-jsonrpc treats any "Connection: upgrade" as a WebSocket; so do we.
	if strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade") {
		s.serveWS(w, r, claims)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeHTTP(w, http.StatusMethodNotAllowed, appendError(nil, nullJSON,
			&Error{Code: CodeInvalidRequest, Message: "rpc: use POST or a websocket upgrade"}))
		return
	}
	limit := s.maxRequest(claims)
	// A token would lift the limit only on a server that verifies tokens.
	needToken := claims == nil && s.cfg.Secret != nil
	if needToken && r.ContentLength > limit {
		// Refused on the header alone: not a byte of the body is read.
		writeHTTP(w, http.StatusUnauthorized, appendError(nil, nullJSON, s.anonymousTooLarge()))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			if needToken {
				writeHTTP(w, http.StatusUnauthorized, appendError(nil, nullJSON, s.anonymousTooLarge()))
				return
			}
			writeHTTP(w, http.StatusRequestEntityTooLarge, appendError(nil, nullJSON, &Error{Code: CodeInvalidRequest,
				Message: fmt.Sprintf("rpc: request larger than %d bytes", limit)}))
			return
		}
		writeHTTP(w, http.StatusBadRequest, appendError(nil, nullJSON, &Error{Code: CodeInvalidRequest, Message: "rpc: cannot read request body"}))
		return
	}
	ctx := r.Context()
	if claims != nil {
		ctx = WithClaims(ctx, claims)
	}
	status, out := serveBody(ctx, s.d, body, s.cfg.MaxBatch, s.level(claims), s.cfg.LotusHTTPStatus)
	writeHTTP(w, status, out)
}

// maxRequest is the body size a caller may send: MaxAnonymousRequestSize
// without a token, MaxRequestSize with one.
func (s *Server) maxRequest(c *Claims) int64 {
	if c == nil {
		return s.cfg.MaxAnonymousRequestSize
	}
	return s.cfg.MaxRequestSize
}

func (s *Server) anonymousTooLarge() *Error {
	return &Error{Code: CodeUnauthenticated, Message: fmt.Sprintf(
		"rpc: unauthenticated: a request without a token is limited to %d bytes", s.cfg.MaxAnonymousRequestSize)}
}

// writeHTTP writes a JSON-RPC payload; an empty payload (only
// notifications) is 204 No Content.
func writeHTTP(w http.ResponseWriter, status int, body []byte) {
	if len(body) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// level is the permission a caller holds.
func (s *Server) level(c *Claims) Perm {
	if c == nil {
		return s.cfg.AnonymousPerm
	}
	return c.Perm()
}

// authenticate returns the caller's claims (nil for anonymous), or the HTTP
// status and error to refuse the request with.
func (s *Server) authenticate(r *http.Request) (*Claims, int, *Error) {
	tok, found, err := bearerToken(r, s.cfg.AllowQueryToken)
	if err != nil {
		return nil, http.StatusUnauthorized, &Error{Code: CodeUnauthenticated, Message: err.Error()}
	}
	if !found || s.cfg.Secret == nil {
		// Without a secret there is nothing to verify against; the caller is
		// anonymous and limited to AnonymousPerm, so nothing is granted by
		// ignoring the token.
		return nil, 0, nil
	}
	c, err := verifyToken(s.cfg.Secret, tok, s.now)
	if err != nil {
		return nil, http.StatusUnauthorized, &Error{Code: CodeUnauthenticated, Message: err.Error()}
	}
	if e := s.checkRevoked(r.Context(), c); e != nil {
		if e.Code == CodeUnauthenticated {
			return nil, http.StatusUnauthorized, e
		}
		return nil, http.StatusServiceUnavailable, e
	}
	return c, 0, nil
}

// Authenticate checks r's bearer token (the Authorization header, or
// ?token= with AllowQueryToken) as ServeHTTP does, revocation included,
// for other HTTP endpoints of the same service (such as /metrics). It
// returns nil claims and ErrUnauthenticated when no token was sent.
func (s *Server) Authenticate(r *http.Request) (*Claims, error) {
	c, _, e := s.authenticate(r)
	if e != nil {
		return nil, e
	}
	if c == nil {
		return nil, fmt.Errorf("%w: no token", ErrUnauthenticated)
	}
	return c, nil
}

// checkRevoked consults the revocation hook; a hook failure fails closed.
func (s *Server) checkRevoked(ctx context.Context, c *Claims) *Error {
	if s.cfg.Revoked == nil || c == nil || c.ID == "" {
		return nil
	}
	revoked, err := s.cfg.Revoked(ctx, c.ID)
	if err != nil {
		if ctx.Err() != nil {
			// The caller or the connection went away; nothing failed.
			return &Error{Code: CodeInternal, Message: "rpc: cannot check token revocation: " + ctx.Err().Error()}
		}
		s.log.Error("rpc: revocation check failed", "jti", c.ID, "err", err)
		return &Error{Code: CodeInternal, Message: "rpc: cannot check token revocation"}
	}
	if revoked {
		return &Error{Code: CodeUnauthenticated, Message: "rpc: unauthenticated: token revoked"}
	}
	return nil
}

// recheck re-validates a WebSocket peer's token before each call, so expiry
// and revocation take effect on long-lived connections too.
func (s *Server) recheck(ctx context.Context, c *Claims) *Error {
	if c == nil {
		return nil
	}
	if exp := c.ExpiresAt; exp != nil && !s.now().Before(exp.Time) {
		return &Error{Code: CodeUnauthenticated, Message: "rpc: unauthenticated: token expired"}
	}
	return s.checkRevoked(ctx, c)
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request, claims *Claims) {
	s.mu.Lock()
	closed := s.closed
	hooks := slices.Clone(s.onConn)
	s.mu.Unlock()
	if closed {
		writeHTTP(w, http.StatusServiceUnavailable, appendError(nil, nullJSON, &Error{Code: CodeInternal, Message: "rpc: server closed"}))
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.OriginPatterns})
	if err != nil {
		s.log.Debug("rpc: websocket accept failed", "remote", r.RemoteAddr, "err", err) // Accept wrote the HTTP error
		return
	}
	ws.SetReadLimit(s.maxRequest(claims))

	p := &Peer{claims: claims, remote: r.RemoteAddr}
	var recheck func(context.Context) *Error
	if claims != nil {
		recheck = func(ctx context.Context) *Error { return s.recheck(ctx, claims) }
	}
	p.c = newWSConn(r.Context(), ws, connConfig{
		d:       s.d,
		level:   s.level(claims),
		recheck: recheck,
		values: func(ctx context.Context) context.Context {
			if claims != nil {
				ctx = WithClaims(ctx, claims)
			}
			return context.WithValue(ctx, peerKey{}, p)
		},
		errs:         s.cfg.Errors,
		log:          s.log,
		maxInflight:  int64(s.cfg.MaxInflight),
		maxBatch:     s.cfg.MaxBatch,
		writeTimeout: s.cfg.WriteTimeout,
		pingInterval: max(s.cfg.PingInterval, 0),
		subBuffer:    DefaultSubscriptionBuffer,
	})

	s.mu.Lock()
	if s.closed { // Close ran while we were upgrading
		s.mu.Unlock()
		_ = p.c.close()
		return
	}
	s.peers[p] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.peers, p)
		s.mu.Unlock()
	}()

	p.c.start()
	for _, h := range hooks {
		go h(p.c.hctx, p)
	}
	<-p.c.done
}

// serveBody serves an HTTP body (or a WebSocket batch): one request or a
// batch, run sequentially; streams are refused. It returns the HTTP status
// and the payload (empty when only notifications were sent). Statuses: 200
// when a method was reached (result or error), 400 for -32600 and -32700,
// 404 for -32601; with lotus, as go-jsonrpc (so Lotus clients parse our
// errors), 500 for -32700 and -32601.
func serveBody(ctx context.Context, d *dispatcher, body []byte, maxBatch int, level Perm, lotus bool) (int, []byte) {
	elems, batch, e := decodeMessage(body, maxBatch)
	if e != nil {
		return httpStatus(e.Code, lotus), appendError(nil, nullJSON, e)
	}
	if !batch {
		out, code := serveOne(ctx, d, &elems[0], level)
		return httpStatus(code, lotus), out
	}
	out := []byte{'['}
	for i := range elems {
		if r := &elems[i].req; r.Method == "" && (r.Result != nil || r.Error != nil) {
			// A response inside a batch is not ours to answer; replying with
			// an error could start an endless exchange between two peers
			// that both answer what they cannot parse.
			continue
		}
		resp, _ := serveOne(ctx, d, &elems[i], level)
		if resp == nil {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, resp...)
	}
	if len(out) == 1 {
		return http.StatusOK, nil // all notifications: nothing to send
	}
	return http.StatusOK, append(out, ']')
}

// serveOne runs one element without stream support; resp is nil for a
// notification, code is the error code sent (0 on success).
func serveOne(ctx context.Context, d *dispatcher, in *inbound, level Perm) (resp []byte, code int) {
	if in.err != nil {
		return appendError(nil, in.req.responseID(), in.err), in.err.Code
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // also stops a producer started by a stream-returning handler
	res, e := d.call(ctx, &in.req, level)
	if in.req.isNotification() {
		return nil, 0
	}
	if e == nil {
		if _, isStream := res.(*Stream); isStream {
			e = &Error{Code: CodeWebSocketRequired, Message: fmt.Sprintf("rpc: %s returns a channel; call it over a websocket, not in a batch", in.req.Method)}
		} else {
			msg, rerr := d.appendResultValue(appendResultHead(nil, in.req.ID), in.req.Method, res)
			if rerr == nil {
				return append(msg, '}'), 0
			}
			e = rerr
		}
	}
	return appendError(nil, in.req.ID, e), e.Code
}

func httpStatus(code int, lotus bool) int {
	switch {
	case code == CodeInvalidRequest:
		return http.StatusBadRequest
	case lotus && (code == CodeParseError || code == CodeMethodNotFound):
		return http.StatusInternalServerError
	case code == CodeParseError:
		return http.StatusBadRequest
	case code == CodeMethodNotFound:
		return http.StatusNotFound
	}
	return http.StatusOK
}

var _ http.Handler = (*Server)(nil)
