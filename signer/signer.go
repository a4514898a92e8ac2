package signer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/types"
)

// Version is reported in SignerHello.
const Version = "sealant-signer/1"

// Refusal is the error Sign returns when the policy (or a precondition such
// as the tenant) refuses a request. Reason goes to the manager verbatim.
type Refusal struct{ Reason string }

// Error implements error.
func (r *Refusal) Error() string { return "signer: refused: " + r.Reason }

// Options configures a Signer.
type Options struct {
	// Name identifies the signer to managers (default "sealant-signer").
	Name   string
	Wallet *Wallet
	Policy *Policy
	// State keeps the daily counters; required.
	State *State
	// Audit receives every decision (nil: no audit log, tests only).
	Audit  *Audit
	Logger *slog.Logger
	Now    func() time.Time
	// RateLimit bounds sign requests per manager connection (zero value:
	// DefaultRateLimit).
	RateLimit RateLimit
}

// Conn describes the connection a request arrived on.
type Conn struct {
	Manager string // the manager URL, for the audit log
	// Tenant is the tenant this connection is configured for; when set,
	// requests naming another tenant are refused.
	Tenant string
}

// Signer decides and signs. It is safe for concurrent use; decisions are
// serialised so that daily caps hold under concurrent requests.
type Signer struct {
	name   string
	wallet *Wallet
	policy *Policy
	state  *State
	audit  *Audit
	log    *slog.Logger
	now    func() time.Time
	rate   RateLimit

	mu sync.Mutex // serialises evaluate → record → sign

	// testHook, when set, runs after the decision is recorded and before
	// the key is used (tests simulate a crash there).
	testHook func(ctx context.Context, cid string) error
}

// New returns a Signer.
func New(o Options) (*Signer, error) {
	if o.Wallet == nil || o.Policy == nil || o.State == nil {
		return nil, errors.New("signer: wallet, policy and state are required")
	}
	if o.Name == "" {
		o.Name = "sealant-signer"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Signer{name: o.Name, wallet: o.Wallet, policy: o.Policy, state: o.State, audit: o.Audit,
		log: o.Logger.With("component", "signer"), now: o.Now, rate: o.RateLimit.withDefaults()}, nil
}

// Name returns the signer's name.
func (s *Signer) Name() string { return s.name }

// Addresses returns the wallet's addresses as strings.
func (s *Signer) Addresses() []string {
	as := s.wallet.Addresses()
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

// ProveAddresses answers a manager's challenge: a signature by every key
// over api.AddressProofBytes(challenge, address), never over the challenge
// itself (see api/signer_ext.go).
func (s *Signer) ProveAddresses(conn Conn, challenge []byte) ([]api.AddressProof, error) {
	if len(challenge) != api.ChallengeSize {
		return nil, fmt.Errorf("signer: challenge is %d bytes, want %d", len(challenge), api.ChallengeSize)
	}
	var out []api.AddressProof
	var names []string
	for _, a := range s.wallet.Addresses() {
		sig, err := s.wallet.sign(a, api.AddressProofBytes(challenge, a.Bytes()))
		if err != nil {
			return nil, err
		}
		out = append(out, api.AddressProof{Address: a.String(), Signature: api.SignatureJSON{Type: int(sig.Type), Data: sig.Data}})
		names = append(names, a.String())
	}
	if err := s.audit.Write(AuditEntry{Time: s.now().UTC(), Event: EventProve, Manager: conn.Manager, Tenant: conn.Tenant, Addresses: names}); err != nil {
		return nil, err
	}
	return out, nil
}

// Evaluate runs the policy on req against today's counters without
// signing or recording anything.
func (s *Signer) Evaluate(req api.SignRequest) Decision {
	return s.policy.Evaluate(toRequest(req), s.wallet, ptr(s.state.Usage(s.now())))
}

func ptr[T any](v T) *T { return &v }

func toRequest(req api.SignRequest) Request {
	return Request{Message: req.Message, Cid: req.Cid, From: req.From, Sectors: req.Sectors}
}

// Sign decides on req and, if allowed, records it against the daily caps,
// signs the message CID bytes and writes the audit entry. A request for a
// CID signed earlier (a manager retrying after a lost connection) is signed
// again without being counted twice; secp256k1 and BLS signatures are
// deterministic, so the manager receives the identical signature. A refusal
// is a *Refusal.
func (s *Signer) Sign(ctx context.Context, conn Conn, req api.SignRequest) (api.SignResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	entry := AuditEntry{Time: now.UTC(), Event: EventSign, Manager: conn.Manager, Tenant: req.Tenant,
		Request: clip(req.ID), Purpose: clip(req.Purpose)}
	if req.Sectors != nil {
		entry.Claimed = clip(formatRanges(req.Sectors))
	}
	refuseWith := func(d Decision) (api.SignResponse, error) {
		entry.Decision, entry.Reason = DecisionRefused, d.Reason
		if d.Summary.Cid != "" {
			entry.Summary = &d.Summary
		}
		s.log.Info("refused", "manager", conn.Manager, "tenant", req.Tenant, "request", entry.Request,
			"cid", d.Summary.Cid, "reason", d.Reason)
		if err := s.audit.Write(entry); err != nil {
			return api.SignResponse{}, err
		}
		return api.SignResponse{}, &Refusal{Reason: d.Reason}
	}
	if err := ctx.Err(); err != nil {
		// Queued behind other requests while the connection ended: the
		// manager will send it again; nothing is evaluated or counted.
		entry.Decision, entry.Reason = DecisionDropped, "connection ended before evaluation"
		_ = s.audit.Write(entry)
		return api.SignResponse{}, fmt.Errorf("signer: request dropped: %w", err)
	}
	if conn.Tenant != "" && req.Tenant != conn.Tenant {
		return refuseWith(Decision{Reason: fmt.Sprintf("request for tenant %q on a connection for tenant %q", clip(req.Tenant), conn.Tenant)})
	}

	// A CID signed before is re-signed without counting it again; the
	// per-message rules still apply.
	again := false
	if m, err := types.DecodeMessage(req.Message); err == nil && s.state.Signed(now, m.Cid().String()) {
		again = true
	}
	var d Decision
	if again {
		d = s.policy.Evaluate(toRequest(req), s.wallet, nil)
	} else {
		d = s.policy.Evaluate(toRequest(req), s.wallet, ptr(s.state.Usage(now)))
	}
	entry.Summary = &d.Summary
	if !d.Allowed {
		return refuseWith(d)
	}
	if !again {
		if err := s.state.Record(now, d.Summary.Cid, d.value, d.fee); err != nil {
			// Fail closed: a signature whose cost is not on disk
			// could let a restart exceed the daily caps.
			return refuseWith(Decision{Reason: "cannot persist the daily counters: " + err.Error(), Summary: d.Summary})
		}
	}
	abandon := func(err error) (api.SignResponse, error) {
		// Counted but not signed: the manager went away. A retry of the
		// same CID is recognised and not counted again.
		entry.Decision, entry.Reason = DecisionAbandoned, "connection ended before signing: "+err.Error()
		_ = s.audit.Write(entry)
		return api.SignResponse{}, fmt.Errorf("signer: request abandoned: %w", err)
	}
	if s.testHook != nil {
		if err := s.testHook(ctx, d.Summary.Cid); err != nil {
			return abandon(err)
		}
	}
	if err := ctx.Err(); err != nil {
		return abandon(err)
	}
	toSign := d.msg.Cid().Bytes() // from our own decoding, never from the request
	sig, err := s.wallet.sign(d.msg.From, toSign)
	if err != nil {
		return api.SignResponse{}, err
	}
	entry.Decision, entry.Reason = DecisionSigned, d.Reason
	if again {
		entry.Decision, entry.Reason = DecisionResigned, "already signed earlier; not counted again"
	}
	// The audit entry is written before the signature leaves: a signature
	// the log does not show is never released.
	if err := s.audit.Write(entry); err != nil {
		return api.SignResponse{}, err
	}
	s.log.Info(entry.Decision, "manager", conn.Manager, "tenant", req.Tenant, "request", entry.Request,
		"cid", d.Summary.Cid, "method", d.Summary.MethodName, "sectors", d.Summary.Sectors)
	return api.SignResponse{Signature: api.SignatureJSON{Type: int(sig.Type), Data: sig.Data}}, nil
}
