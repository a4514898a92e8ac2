package rpc

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Client calls a JSON-RPC server over HTTP (http://, https://) or a
// WebSocket (ws://, wss://). An HTTP client is stateless: each call is one
// POST. A WebSocket client holds one connection; it also serves the methods
// given with WithHandler to the server, and supports Subscribe. It does not
// reconnect: when Done is closed every call fails with ErrConnClosed, and
// the owner dials again (with its own backoff) and re-subscribes — only the
// owner knows what state must be re-established (e.g. a signer announcing
// its keys again). A Client is safe for concurrent use.
type Client struct {
	url         string
	ws          *wsConn
	http        *http.Client
	header      http.Header
	errs        *ErrorRegistry
	callTimeout time.Duration
	maxResponse int64
	nextID      atomic.Int64
}

// DialOption configures Dial.
type DialOption func(*dialConfig)

type dialConfig struct {
	token        string
	header       http.Header
	tls          *tls.Config
	httpClient   *http.Client
	callTimeout  time.Duration
	maxMessage   int64
	handlers     methodTable
	nHandlers    int
	errs         *ErrorRegistry
	log          *slog.Logger
	pingInterval time.Duration
	writeTimeout time.Duration
	subBuffer    int
	maxInflight  int64
	onOverload   func(method string)
}

// WithToken sends "Authorization: Bearer <token>" (HTTP requests and the
// WebSocket handshake).
func WithToken(token string) DialOption { return func(c *dialConfig) { c.token = token } }

// WithHeader adds headers to every HTTP request and to the handshake.
func WithHeader(h http.Header) DialOption {
	return func(c *dialConfig) {
		for k, vs := range h {
			for _, v := range vs {
				c.header.Add(k, v)
			}
		}
	}
}

// WithTLSConfig sets the TLS configuration for https:// and wss:// (for
// example a private CA or a client certificate). Ignored with WithHTTPClient.
func WithTLSConfig(cfg *tls.Config) DialOption { return func(c *dialConfig) { c.tls = cfg } }

// WithHTTPClient replaces the HTTP client used for calls and the handshake.
func WithHTTPClient(hc *http.Client) DialOption { return func(c *dialConfig) { c.httpClient = hc } }

// WithCallTimeout bounds calls whose context has no deadline.
func WithCallTimeout(d time.Duration) DialOption { return func(c *dialConfig) { c.callTimeout = d } }

// WithMaxMessageSize bounds a response (or any WebSocket message) in bytes;
// default DefaultMaxMessageSize.
func WithMaxMessageSize(n int64) DialOption { return func(c *dialConfig) { c.maxMessage = n } }

// WithHandler serves method to the server over the WebSocket (reverse
// calls). The server authenticated itself by being the one dialled (use
// wss:// with a verified certificate), so these methods need no permission.
// Only valid with ws:// and wss://.
func WithHandler(method string, h Handler) DialOption {
	return func(c *dialConfig) {
		c.handlers.register(method, PermNone, h)
		c.nHandlers++
	}
}

// WithMaxInflight bounds the WebSocket requests from the server served at
// once (default DefaultMaxInflight); excess requests get CodeOverloaded.
func WithMaxInflight(n int) DialOption { return func(c *dialConfig) { c.maxInflight = int64(n) } }

// WithOverloadHook calls f with the method of every server request refused
// because the in-flight limit was reached ("" for a batch), so a service
// can account for them (the signer audits them). f runs on the read loop
// and must not block.
func WithOverloadHook(f func(method string)) DialOption {
	return func(c *dialConfig) { c.onOverload = f }
}

// WithErrorRegistry sets the registry that maps error codes back to Go
// errors (default DefaultErrors).
func WithErrorRegistry(r *ErrorRegistry) DialOption { return func(c *dialConfig) { c.errs = r } }

// WithLogger sets the logger for reverse-call failures (default slog.Default()).
func WithLogger(l *slog.Logger) DialOption { return func(c *dialConfig) { c.log = l } }

// WithPingInterval sets the WebSocket keep-alive period (default
// DefaultPingInterval; negative disables).
func WithPingInterval(d time.Duration) DialOption { return func(c *dialConfig) { c.pingInterval = d } }

// WithSubscriptionBuffer sets how many unread values a subscription may
// hold (default DefaultSubscriptionBuffer).
func WithSubscriptionBuffer(n int) DialOption { return func(c *dialConfig) { c.subBuffer = n } }

// Dial returns a client for rawURL. For http(s) nothing is sent until the
// first call. For ws(s) the handshake happens now under ctx (which bounds
// only the handshake, not the connection); a rejected token gives an error
// wrapping ErrUnauthenticated.
func Dial(ctx context.Context, rawURL string, opts ...DialOption) (*Client, error) {
	cfg := dialConfig{header: http.Header{}}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxMessage <= 0 {
		cfg.maxMessage = DefaultMaxMessageSize
	}
	if cfg.errs == nil {
		cfg.errs = DefaultErrors
	}
	if cfg.log == nil {
		cfg.log = slog.Default()
	}
	if cfg.pingInterval == 0 {
		cfg.pingInterval = DefaultPingInterval
	}
	if cfg.writeTimeout == 0 {
		cfg.writeTimeout = DefaultWriteTimeout
	}
	if cfg.subBuffer <= 0 {
		cfg.subBuffer = DefaultSubscriptionBuffer
	}
	if cfg.token != "" {
		cfg.header.Set("Authorization", "Bearer "+cfg.token)
	}
	hc := cfg.httpClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = cfg.tls
		hc = &http.Client{Transport: tr}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("rpc: dial: %w", err)
	}
	c := &Client{url: rawURL, http: hc, header: cfg.header, errs: cfg.errs, callTimeout: cfg.callTimeout, maxResponse: cfg.maxMessage}
	switch u.Scheme {
	case "http", "https":
		if cfg.nHandlers > 0 {
			return nil, fmt.Errorf("rpc: dial %s: reverse handlers need a ws:// or wss:// url", rawURL)
		}
		return c, nil
	case "ws", "wss":
	default:
		return nil, fmt.Errorf("rpc: dial %s: unsupported scheme %q", rawURL, u.Scheme)
	}

	ws, resp, err := websocket.Dial(ctx, rawURL, &websocket.DialOptions{HTTPClient: hc, HTTPHeader: cfg.header})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return nil, fmt.Errorf("rpc: dial %s: %w", rawURL, ErrUnauthenticated)
		}
		return nil, fmt.Errorf("rpc: dial %s: %w", rawURL, err)
	}
	ws.SetReadLimit(cfg.maxMessage)
	d := &dispatcher{errs: cfg.errs, log: cfg.log}
	d.table.m = cfg.handlers.m
	c.ws = newWSConn(context.Background(), ws, connConfig{
		d:            d,
		level:        PermNone,
		errs:         cfg.errs,
		log:          cfg.log,
		maxInflight:  cmp.Or(cfg.maxInflight, DefaultMaxInflight),
		maxBatch:     DefaultMaxBatch,
		writeTimeout: cfg.writeTimeout,
		pingInterval: max(cfg.pingInterval, 0),
		subBuffer:    cfg.subBuffer,
		onOverload:   cfg.onOverload,
	})
	c.ws.start()
	return c, nil
}

// Call calls method with positional params and decodes the result into
// result (nil discards it). A server error is returned as a wrapped *Error;
// errors.Is matches the transport sentinels (ErrPermissionDenied, …) and
// anything registered in the client's ErrorRegistry. Over a WebSocket, a
// ctx that ends before the response makes the client send xrpc.cancel.
// Retrying is safe only if the method is idempotent.
func (c *Client) Call(ctx context.Context, method string, result any, params ...any) error {
	if c.callTimeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.callTimeout)
			defer cancel()
		}
	}
	if c.ws != nil {
		return c.ws.call(ctx, method, result, params, nil)
	}
	return c.httpCall(ctx, method, result, params)
}

// Notify sends a notification: no response is awaited and server errors
// are not reported.
func (c *Client) Notify(ctx context.Context, method string, params ...any) error {
	if c.ws != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.ws.notify(method, params); err != nil {
			return fmt.Errorf("rpc: notify %s: %w", method, err)
		}
		return nil
	}
	body, err := encodeRequest(nil, nil, method, params)
	if err != nil {
		return err
	}
	resp, err := c.post(ctx, body)
	if err != nil {
		return fmt.Errorf("rpc: notify %s: %w", method, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("rpc: notify %s: http status %s", method, resp.Status)
	}
	return nil
}

// Subscribe calls a channel-returning method (a *Stream handler, or Lotus
// ChainNotify) and returns the subscription delivering its values. It needs
// a WebSocket client; over HTTP it fails with ErrWebSocketRequired.
func (c *Client) Subscribe(ctx context.Context, method string, params ...any) (*Subscription, error) {
	if c.ws == nil {
		return nil, fmt.Errorf("rpc: %s: %w", method, ErrWebSocketRequired)
	}
	return c.ws.subscribe(ctx, method, params)
}

// Done is closed when a WebSocket client's connection is gone; it is nil
// (never ready) for an HTTP client.
func (c *Client) Done() <-chan struct{} {
	if c.ws == nil {
		return nil
	}
	return c.ws.done
}

// Close closes the WebSocket connection; for an HTTP client it releases
// idle connections.
func (c *Client) Close() error {
	if c.ws != nil {
		return c.ws.close()
	}
	c.http.CloseIdleConnections()
	return nil
}

func (c *Client) post(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = c.header.Clone()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return c.http.Do(req)
}

func (c *Client) httpCall(ctx context.Context, method string, result any, params []any) error {
	id := strconv.AppendInt(nil, c.nextID.Add(1), 10)
	body, err := encodeRequest(nil, id, method, params)
	if err != nil {
		return err
	}
	resp, err := c.post(ctx, body)
	if err != nil {
		return fmt.Errorf("rpc: %s: %w", method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxResponse+1))
	if err != nil {
		return fmt.Errorf("rpc: %s: read response: %w", method, err)
	}
	if int64(len(data)) > c.maxResponse {
		return fmt.Errorf("rpc: %s: response larger than %d bytes", method, c.maxResponse)
	}
	var f frame
	if json.Unmarshal(data, &f) != nil || (f.Result == nil && f.Error == nil) {
		if resp.StatusCode == http.StatusUnauthorized {
			return fmt.Errorf("rpc: %s: %w (http %s)", method, ErrUnauthenticated, resp.Status)
		}
		return fmt.Errorf("rpc: %s: not a json-rpc response (http %s)", method, resp.Status)
	}
	if f.Error == nil && !bytes.Equal(f.ID, id) {
		return fmt.Errorf("rpc: %s: response id %s does not match request id %s", method, f.ID, id)
	}
	return finishCall(method, &f, result, c.errs)
}
