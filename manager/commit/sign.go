package commit

import (
	"context"
	"errors"
	"fmt"

	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

// Signing: the signer route of a tenant, the asynchronous request behind
// ActSign, and what this process knows about it (signFacts).

// signerFor picks the tenant's signing route.
func (p *Pipeline) signerFor(t store.Tenant) Signer {
	if t.SigningRoute == store.LotusWalletRoute {
		return p.cfg.WalletSigner
	}
	return p.signer
}

// startSign starts an asynchronous signing request for m through the
// tenant's signing route, forgetting a failed earlier one. The result is
// verified against the sender before it is kept, and wakes the pipeline;
// the next pass finds it (signFacts).
func (p *Pipeline) startSign(ctx context.Context, t store.Tenant, b store.Batch, m store.Message) error {
	msg, err := types.DecodeMessage(m.Unsigned)
	if err != nil {
		return fmt.Errorf("commit: stored message %d: %w", m.ID, err)
	}
	signer := p.signerFor(t)
	if signer == nil {
		return fmt.Errorf("commit: no signer for signing route %q: %w", t.SigningRoute, ErrSignerUnavailable)
	}
	pur, _ := purposeOf(msg)
	p.mu.Lock()
	delete(p.results, m.ID)
	p.signing[m.ID] = true
	p.mu.Unlock()
	p.setStatus(b.ID, "waiting for the signer", true)
	p.signWG.Add(1)
	go func() {
		defer p.signWG.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.SignTimeout)
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		res := signResult{}
		sig, err := signer.Sign(sctx, SignRequest{Tenant: t.ID, From: msg.From, Message: msg, Purpose: pur})
		if err == nil {
			res.sm = &types.SignedMessage{Message: *msg, Signature: sig}
			err = verifySigned(res.sm)
		}
		if err != nil {
			res = signResult{err: err}
		}
		res.at = p.cfg.Now()
		p.mu.Lock()
		delete(p.signing, m.ID)
		p.results[m.ID] = res
		p.mu.Unlock()
		p.Wake(t.ID, b.Kind)
	}()
	return nil
}

// signFacts reports what this process knows about signing m, and returns
// the signed message it holds. A successful result of a finished request
// becomes the held signature here.
func (p *Pipeline) signFacts(t store.Tenant, b store.Batch, m store.Message) (SignFacts, *types.SignedMessage) {
	f := SignFacts{RetryBackoff: p.cfg.RetryBackoff}
	p.mu.Lock()
	sm := p.signed[m.ID]
	res, done := p.results[m.ID]
	fresh := sm == nil && done && res.err == nil
	if fresh {
		sm, p.signed[m.ID] = res.sm, res.sm
		delete(p.results, m.ID)
	}
	f.InFlight = p.signing[m.ID]
	_, noted := p.altCID[m.ID]
	p.mu.Unlock()
	if fresh {
		p.setStatus(b.ID, "", false)
	}
	f.Have = sm != nil
	if f.Have && m.SignedCID != "" && !noted {
		f.AltCID = sm.Cid().String() != m.SignedCID
	}
	if !f.Have && done && res.err != nil {
		f.Failed, f.FailedAt, f.Err = true, res.at, res.err.Error()
		f.Refused = !errors.Is(res.err, ErrSignerUnavailable)
	}
	if p.signerFor(t) == nil {
		f.NoSigner = fmt.Sprintf("no signer configured for signing route %q", t.SigningRoute)
	}
	return f, sm
}
