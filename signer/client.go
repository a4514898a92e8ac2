package signer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/api/rpcapi"
	"github.com/sealant/sealant/rpc"
)

// Endpoint is one manager the signer connects out to.
type Endpoint struct {
	// URL is the manager's WebSocket RPC endpoint (wss://host/rpc/v0).
	URL string
	// Token is the tenant's signer-role token.
	Token string
	// Tenant, when set, is the tenant the token must belong to: a welcome
	// naming another tenant closes the connection, and requests naming
	// another tenant are refused.
	Tenant string
	// TLS configures wss:// (for example a private CA); nil: system roots.
	TLS *tls.Config
}

// Backoff is the reconnect schedule: the delay starts at Min, doubles
// after each failed attempt up to Max, with ±20 % jitter so that many
// signers do not reconnect in lockstep after a manager restart. A
// connection that stayed up for Reset restarts the schedule.
type Backoff struct {
	Min, Max, Reset time.Duration
}

// DefaultBackoff is used when Run is given a zero Backoff.
var DefaultBackoff = Backoff{Min: 500 * time.Millisecond, Max: 30 * time.Second, Reset: time.Minute}

func (b Backoff) next(d time.Duration) time.Duration {
	if d <= 0 {
		return b.Min
	}
	d *= 2
	if d > b.Max {
		d = b.Max
	}
	return d
}

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// Status is a snapshot of one endpoint's connection.
type Status struct {
	URL       string            `json:"url"`
	Connected bool              `json:"connected"`
	Welcome   api.SignerWelcome `json:"welcome"`
	LastError string            `json:"last_error,omitempty"`
	Attempts  int               `json:"attempts"`
}

// Runner keeps connections to managers.
type Runner struct {
	s       *Signer
	backoff Backoff

	mu     sync.Mutex
	status map[string]*Status
}

// NewRunner returns a Runner for s (backoff zero: DefaultBackoff).
func NewRunner(s *Signer, b Backoff) *Runner {
	if b.Min <= 0 {
		b = DefaultBackoff
	}
	if b.Max < b.Min {
		b.Max = b.Min
	}
	return &Runner{s: s, backoff: b, status: map[string]*Status{}}
}

// Status returns the state of every endpoint.
func (r *Runner) Status() []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Status, 0, len(r.status))
	for _, st := range r.status {
		out = append(out, *st)
	}
	return out
}

// Run connects to every endpoint and keeps the connections up until ctx
// ends. It returns ctx's error.
func (r *Runner) Run(ctx context.Context, eps []Endpoint) error {
	if len(eps) == 0 {
		return errors.New("signer: no manager endpoints configured")
	}
	var wg sync.WaitGroup
	for _, ep := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.keep(ctx, ep)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

func (r *Runner) setStatus(url string, f func(*Status)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.status[url]
	if st == nil {
		st = &Status{URL: url}
		r.status[url] = st
	}
	f(st)
}

// keep is the reconnect loop for one endpoint.
func (r *Runner) keep(ctx context.Context, ep Endpoint) {
	var delay time.Duration
	for ctx.Err() == nil {
		start := time.Now()
		err := r.session(ctx, ep)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) >= r.backoff.Reset {
			delay = 0
		}
		delay = r.backoff.next(delay)
		msg := "connection closed"
		if err != nil {
			msg = err.Error()
		}
		r.setStatus(ep.URL, func(st *Status) { st.Connected = false; st.LastError = msg })
		r.s.log.Warn("manager connection down; reconnecting", "manager", ep.URL, "err", msg, "in", delay.Round(time.Millisecond))
		t := time.NewTimer(jitter(delay))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// session runs one connection: dial, hello (during which the manager has
// the signer prove its addresses), then serve sign requests until the
// connection or ctx ends.
func (r *Runner) session(ctx context.Context, ep Endpoint) error {
	r.setStatus(ep.URL, func(st *Status) { st.Attempts++ })
	conn := Conn{Manager: ep.URL, Tenant: ep.Tenant}
	// Requests over the connection's rate, or refused by the transport
	// because too many are in flight, are not evaluated; they are counted
	// and audited in aggregate (one entry per reason and second).
	limit := newBucket(r.s.rate, time.Now())
	var tally refusalTally
	rateReason := fmt.Sprintf(reasonRateLimited, r.s.rate.PerSecond, r.s.rate.Burst)
	flushDone := make(chan struct{})
	flushStop := make(chan struct{})
	go func() {
		defer close(flushDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.s.flushRefusals(conn, ep.Tenant, &tally)
			case <-flushStop:
				r.s.flushRefusals(conn, ep.Tenant, &tally)
				return
			}
		}
	}()
	defer func() { close(flushStop); <-flushDone }()
	opts := []rpc.DialOption{
		rpc.WithToken(ep.Token),
		rpc.WithLogger(r.s.log),
		rpc.WithErrorRegistry(rpcapi.Errors),
		rpc.WithOverloadHook(func(string) { tally.add(reasonOverloaded, time.Now()) }),
	}
	served := connSigner{s: r.s, conn: conn, limit: limit, tally: &tally, rateReason: rateReason}
	for _, m := range rpcapi.SignerMethods(served) {
		opts = append(opts, rpc.WithHandler(m.Name, m.Handler))
	}
	if ep.TLS != nil {
		opts = append(opts, rpc.WithTLSConfig(ep.TLS))
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	c, err := rpc.Dial(dctx, ep.URL, opts...)
	cancel()
	if err != nil {
		return fmt.Errorf("signer: dial %s: %w", ep.URL, err)
	}
	defer c.Close()
	hello := api.SignerHello{Name: r.s.name, Version: Version, Addresses: r.s.Addresses()}
	hctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	welcome, err := (&rpcapi.SignerHubClient{C: c}).SignerHello(hctx, hello)
	cancel()
	if err != nil {
		return fmt.Errorf("signer: hello to %s: %w", ep.URL, err)
	}
	if ep.Tenant != "" && welcome.Tenant != ep.Tenant {
		return fmt.Errorf("signer: %s welcomed us as tenant %q, configured for %q", ep.URL, welcome.Tenant, ep.Tenant)
	}
	_ = r.s.audit.Write(AuditEntry{Time: r.s.now().UTC(), Event: EventConnect, Manager: ep.URL,
		Tenant: welcome.Tenant, Addresses: hello.Addresses})
	r.s.log.Info("connected to manager", "manager", ep.URL, "tenant", welcome.Tenant, "miner", welcome.Miner,
		"addresses", len(hello.Addresses))
	r.setStatus(ep.URL, func(st *Status) { st.Connected = true; st.Welcome = welcome; st.LastError = "" })
	select {
	case <-ctx.Done():
	case <-c.Done():
	}
	_ = r.s.audit.Write(AuditEntry{Time: r.s.now().UTC(), Event: EventDisconnect, Manager: ep.URL, Tenant: welcome.Tenant})
	return nil
}

// connSigner is the signer API (api.SignerAPI) served to one manager
// over the connection the signer dialled: requests over the connection's
// rate are refused unevaluated (and tallied for the audit log), the
// others go to the signer's policy. A refusal is api.ErrSignRefused's code
// with the reason as the message.
type connSigner struct {
	s          *Signer
	conn       Conn
	limit      *bucket
	tally      *refusalTally
	rateReason string
}

// ProveAddresses implements api.SignerAPI.
func (c connSigner) ProveAddresses(_ context.Context, challenge api.HexBytes) ([]api.AddressProof, error) {
	return c.s.ProveAddresses(c.conn, challenge)
}

// Sign implements api.SignerAPI.
func (c connSigner) Sign(ctx context.Context, req api.SignRequest) (api.SignResponse, error) {
	if !c.limit.allow(time.Now()) {
		c.tally.add(c.rateReason, time.Now())
		return api.SignResponse{}, rpc.Errorf(api.CodeSignRefused, "%s", c.rateReason)
	}
	resp, err := c.s.Sign(ctx, c.conn, req)
	var ref *Refusal
	if errors.As(err, &ref) {
		return resp, rpc.Errorf(api.CodeSignRefused, "%s", ref.Reason)
	}
	return resp, err
}

var _ api.SignerAPI = connSigner{}
