package lotus

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Config configures a Client. Only APIInfo is required.
type Config struct {
	// APIInfo is a FULLNODE_API_INFO value or a bare URL (see ParseAPIInfo).
	APIInfo string
	// Token, when set, overrides the token inside APIInfo.
	Token string
	// TLS applies to https and wss endpoints.
	TLS TLSConfig
	// Retry bounds retries of transport failures.
	Retry RetryPolicy
	// Logger receives retry and subscription diagnostics; nil discards.
	Logger *slog.Logger
	// Transport replaces the HTTP transport (tests, proxies). When set,
	// TLS is ignored: configure the transport instead.
	Transport http.RoundTripper
}

// TLSConfig adjusts certificate verification for https/wss endpoints.
// Certificates are verified against the system roots by default.
type TLSConfig struct {
	// CAFile is a PEM file of extra trusted roots (for a node behind a
	// private CA), added to the system pool.
	CAFile string
	// CAPEM is like CAFile, in memory.
	CAPEM []byte
	// InsecureSkipVerify disables certificate verification entirely. It
	// exists for lab setups only and must be chosen explicitly; it is
	// logged at warn level when the client is created.
	InsecureSkipVerify bool
}

// RetryPolicy bounds retries. Retries happen only on transport failures
// (the request did not get a JSON-RPC answer) and only for idempotent
// methods, or for any method when the connection was never established.
// A JSON-RPC error from the node is final: the node ran the method.
type RetryPolicy struct {
	// Attempts is the total number of tries; 0 means 4, 1 disables retry.
	Attempts int
	// MinBackoff is the first wait; 0 means 250ms. Waits double per try
	// with full jitter.
	MinBackoff time.Duration
	// MaxBackoff caps a single wait; 0 means 8s.
	MaxBackoff time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 4
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = 250 * time.Millisecond
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 8 * time.Second
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = p.MinBackoff
	}
	return p
}

// backoff returns the wait before retry number n (1-based): uniform in
// [0, min(Max, Min·2^(n-1))].
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.MinBackoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// maxResponseBytes caps a response body. Lotus itself accepts 100 MiB
// requests; no method this client calls returns anywhere near that.
const maxResponseBytes = 128 << 20

// Client calls the Lotus v1 full-node API. Plain calls use one HTTP POST
// each (stateless, so retries and concurrent use are simple); channel
// methods (ChainNotify) open a WebSocket per subscription.
//
// A Client is safe for concurrent use by multiple goroutines.
type Client struct {
	info   APIInfo
	hc     *http.Client
	retry  RetryPolicy
	log    *slog.Logger
	nextID atomic.Int64
}

// New validates cfg and returns a client. It does not contact the node.
func New(cfg Config) (*Client, error) {
	info, err := ParseAPIInfo(cfg.APIInfo)
	if err != nil {
		return nil, err
	}
	if cfg.Token != "" {
		info.Token = cfg.Token
	}
	if strings.ContainsAny(info.Token, "\r\n ") {
		return nil, fmt.Errorf("lotus: token contains whitespace: %w", ErrBadAPIInfo)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rt := cfg.Transport
	if rt == nil {
		tc, err := cfg.TLS.clientConfig()
		if err != nil {
			return nil, err
		}
		if tc.InsecureSkipVerify {
			log.Warn("lotus: TLS certificate verification disabled", "endpoint", info.String())
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tc
		rt = tr
	}
	return &Client{
		info:  info,
		hc:    &http.Client{Transport: rt},
		retry: cfg.Retry.withDefaults(),
		log:   log,
	}, nil
}

func (t TLSConfig) clientConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify}
	pem := t.CAPEM
	if t.CAFile != "" {
		b, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("lotus: read CA file: %w", err)
		}
		pem = append(bytes.Clone(pem), b...)
	}
	if len(pem) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("lotus: CA bundle holds no PEM certificate: %w", ErrBadAPIInfo)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// Endpoint returns the parsed endpoint (with its token).
func (c *Client) Endpoint() APIInfo { return c.info }

// Idempotent reports whether calling method twice has the same effect as
// calling it once, which is what allows a retry after an ambiguous
// transport failure. Reads (Chain*, State*, Gas*, MpoolGetNonce,
// WalletBalance, WalletHas, WalletList, Version) are idempotent, and so is
// WalletSign (signing changes no state). Everything else, notably MpoolPush
// and MpoolPushMessage, is treated as non-idempotent.
func Idempotent(method string) bool {
	m, ok := strings.CutPrefix(method, "Filecoin.")
	if !ok {
		return false
	}
	switch {
	case strings.HasPrefix(m, "Chain"), strings.HasPrefix(m, "State"), strings.HasPrefix(m, "Gas"):
		return true
	}
	switch m {
	case "MpoolGetNonce", "WalletBalance", "WalletHas", "WalletList", "WalletSign", "Version":
		return true
	}
	return false
}

type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      int64  `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *RPCError       `json:"error"`
}

// Call invokes method (the full name, e.g. "Filecoin.ChainHead") with
// positional params and decodes the result into result (a pointer, or nil
// to discard it). A JSON null result leaves *result untouched, so pass a
// pointer to a nil pointer to detect it.
//
// Errors: *RPCError (wrapped) when the node answered with an error; a
// transport failure wraps ErrTransport, or ErrOutcomeUnknown for a
// non-idempotent method that may have been delivered. Retries follow
// RetryPolicy and are never applied to RPC errors.
func (c *Client) Call(ctx context.Context, method string, result any, params ...any) error {
	if params == nil {
		params = []any{} // go-jsonrpc wants an array, never null
	}
	id := c.nextID.Add(1)
	body, err := json.Marshal(request{JSONRPC: "2.0", ID: id, Method: method, Params: params})
	if err != nil {
		return fmt.Errorf("lotus: %s: encode params: %w", method, err)
	}
	idempotent := Idempotent(method)
	for attempt := 1; ; attempt++ {
		raw, err := c.post(ctx, body)
		if err == nil {
			return decodeResponse(method, id, raw, result)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("lotus: %s: %w", method, ctx.Err())
		}
		if errors.Is(err, ErrBadResponse) {
			// The node answered (and, for a write, acted); only the answer
			// was unusable, so neither a retry nor "unknown" fits.
			return fmt.Errorf("lotus: %s: %w", method, err)
		}
		switch {
		case !transient(err):
			// Auth failures, plain HTTP errors and certificate problems do
			// not improve with time.
			var he *HTTPError
			if errors.Is(err, ErrUnauthorized) || errors.As(err, &he) {
				return fmt.Errorf("lotus: %s: %w", method, err)
			}
			return fmt.Errorf("lotus: %s: %w: %w", method, ErrTransport, err)
		case !idempotent && !neverSent(err):
			// The node may have acted on it; repeating is the caller's call.
			return fmt.Errorf("lotus: %s: %w: %w", method, ErrOutcomeUnknown, err)
		case attempt >= c.retry.Attempts:
			return fmt.Errorf("lotus: %s after %d attempt(s): %w: %w", method, attempt, ErrTransport, err)
		}
		wait := c.retry.backoff(attempt)
		c.log.Debug("lotus: retrying after transport error", "method", method, "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("lotus: %s: %w", method, ctx.Err())
		case <-t.C:
		}
	}
}

// post sends one request and returns the body of a response that carries
// JSON-RPC content (HTTP 200, or 4xx/5xx with a JSON-RPC error body).
func (c *Client) post(ctx context.Context, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.info.HTTPURL(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.info.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.info.Token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxResponseBytes {
		return nil, fmt.Errorf("response larger than %d bytes: %w", maxResponseBytes, ErrBadResponse)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return raw, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%w (http %d)", ErrUnauthorized, resp.StatusCode)
	}
	// go-jsonrpc answers parse errors and unknown methods with 4xx/5xx and
	// a JSON-RPC error body; surface those as RPC errors.
	var probe response
	if json.Unmarshal(raw, &probe) == nil && probe.Error != nil {
		return raw, nil
	}
	snippet := string(raw)
	if len(snippet) > 256 {
		snippet = snippet[:256]
	}
	return nil, &HTTPError{StatusCode: resp.StatusCode, Body: strings.TrimSpace(snippet)}
}

func decodeResponse(method string, id int64, raw []byte, result any) error {
	var resp response
	if err := json.Unmarshal(raw, &resp); err != nil {
		return fmt.Errorf("lotus: %s: %v: %w", method, err, ErrBadResponse)
	}
	if resp.Error != nil {
		return fmt.Errorf("lotus: %s: %w", method, resp.Error)
	}
	if got := string(bytes.TrimSpace(resp.ID)); got != strconv.FormatInt(id, 10) {
		return fmt.Errorf("lotus: %s: response id %s, want %d: %w", method, got, id, ErrBadResponse)
	}
	if result == nil || len(resp.Result) == 0 || string(resp.Result) == "null" {
		return nil
	}
	if err := json.Unmarshal(resp.Result, result); err != nil {
		return fmt.Errorf("lotus: %s: decode result: %v: %w", method, err, ErrBadResponse)
	}
	return nil
}

// transient reports whether err is a failure worth retrying: network
// errors and gateway statuses. Certificate errors, auth failures and
// malformed responses are permanent.
func transient(err error) bool {
	if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrBadResponse) {
		return false
	}
	var (
		he   *HTTPError
		cert *tls.CertificateVerificationError
		uae  x509.UnknownAuthorityError
		hne  x509.HostnameError
		cie  x509.CertificateInvalidError
	)
	if errors.As(err, &cert) || errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie) {
		return false
	}
	if errors.As(err, &he) {
		switch he.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusTooManyRequests:
			return true
		}
		return false
	}
	return true
}

// neverSent reports whether err proves the request never left this host:
// the TCP connection could not be established (refused, unreachable, DNS
// failure). Only then may a non-idempotent call be retried.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// Close releases idle HTTP connections. Subscriptions are ended by
// cancelling their contexts. The client remains usable afterwards.
func (c *Client) Close() { c.hc.CloseIdleConnections() }
