package signhub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/api/rpcapi"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/manager/commit"
	"github.com/sealant/sealant/rpc"
)

// Request is one signing request: who signs what, and why. Purpose and
// Sectors describe the request to the signer (api.SignRequest.Purpose and
// Sectors, e.g. "precommit-batch" and the batch's sector numbers); the
// signer shows them in its audit log and refuses a message whose decoded
// sectors differ from the ones claimed. Both may be empty.
type Request struct {
	Tenant  string
	From    address.Address
	Message *types.Message
	Purpose string
	Sectors []uint64
}

// Sign asks a connected signer of tenant that holds from to sign msg, with
// no stated purpose; see SignRequest.
func (h *Hub) Sign(ctx context.Context, tenant string, from address.Address, msg *types.Message) (types.Signature, error) {
	return h.SignRequest(ctx, Request{Tenant: tenant, From: from, Message: msg})
}

// SignRequest asks a connected signer of r.Tenant that holds r.From to sign
// r.Message, and returns the signature after verifying it against r.From
// over the message CID bytes.
//
// When no signer holding from is connected the request waits (the tenant
// shows Waiting) up to Config.WaitTimeout, then fails with ErrNoSigner.
// When the serving signer's connection drops mid-call the same request (same
// id, same bytes) is sent again to the next signer that connects: a signer
// recognises the message CID it already signed, and secp256k1/BLS
// signatures are deterministic, so a retried request yields the same
// signature and Sign still returns exactly once. A policy refusal is final
// (*RefusedError, wrapping ErrRefused). ErrNoSigner, ErrClosed and a signer
// that does not answer within CallTimeout wrap commit.ErrSignerUnavailable.
func (h *Hub) SignRequest(ctx context.Context, r Request) (types.Signature, error) {
	tenant, from, msg := r.Tenant, r.From, r.Message
	if msg == nil {
		return types.Signature{}, fmt.Errorf("%w: nil message", ErrInvalid)
	}
	if p := from.Protocol(); from.Empty() || (p != address.SECP256K1 && p != address.BLS) {
		return types.Signature{}, fmt.Errorf("%w: from %s is not an f1/f3 key address (resolve ID addresses with StateAccountKey)", ErrInvalid, from)
	}
	if msg.From != from {
		return types.Signature{}, fmt.Errorf("%w: message sender %s differs from signing address %s", ErrInvalid, msg.From, from)
	}
	data, err := msg.Serialize()
	if err != nil {
		return types.Signature{}, fmt.Errorf("%w: encode message: %v", ErrInvalid, err)
	}
	c := types.CidOf(data)
	req := api.SignRequest{Tenant: tenant, From: from.String(), Message: data, Cid: c.String(),
		Purpose: r.Purpose, Sectors: append([]uint64(nil), r.Sectors...)}

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return types.Signature{}, ErrClosed
	}
	req.ID = h.newIDLocked("sign")
	p := &pending{info: PendingSign{ID: req.ID, Tenant: tenant, From: req.From, Cid: req.Cid,
		Purpose: req.Purpose, Sectors: req.Sectors, Since: h.cfg.Now()}}
	h.tenantLocked(tenant).pending[req.ID] = p
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		if ts := h.tenants[tenant]; ts != nil {
			delete(ts.pending, req.ID)
			h.gcLocked(tenant)
		}
		h.mu.Unlock()
	}()

	for {
		c, err := h.waitSigner(ctx, tenant, from, p)
		if err != nil {
			return types.Signature{}, err
		}
		sig, retry, err := h.callSigner(ctx, c, from, req, p)
		if !retry {
			return sig, err
		}
		h.log.Warn("signer connection lost during sign; waiting for a signer to retry",
			"tenant", tenant, "request", req.ID, "cid", req.Cid, "signer", c.info.Name, "err", err)
	}
}

// waitSigner returns a connected signer of tenant holding from with a free
// call slot, waiting for one to connect up to WaitTimeout.
func (h *Hub) waitSigner(ctx context.Context, tenant string, from address.Address, p *pending) (*conn, error) {
	timer := time.NewTimer(h.cfg.WaitTimeout)
	defer timer.Stop()
	for {
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			return nil, ErrClosed
		}
		c := h.pickLocked(tenant, from)
		changed := h.changed
		p.info.WaitingForSigner = c == nil
		if c != nil {
			p.info.Signer = c.info.Name
			p.info.Attempts++
		}
		h.mu.Unlock()
		if c != nil {
			// Take a call slot; a busy signer queues the request here.
			select {
			case c.slots <- struct{}{}:
				return c, nil
			case <-c.peer.Done():
				continue // it went away while we queued; pick again
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		select {
		case <-changed:
		case <-timer.C:
			return nil, fmt.Errorf("%w: tenant %q has no connected signer holding %s (waited %s)",
				ErrNoSigner, tenant, from, h.cfg.WaitTimeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// pickLocked chooses the least busy connected signer holding from.
func (h *Hub) pickLocked(tenant string, from address.Address) *conn {
	ts := h.tenants[tenant]
	if ts == nil {
		return nil
	}
	var best *conn
	for _, c := range ts.conns {
		if !c.addrs[from] {
			continue
		}
		select {
		case <-c.peer.Done():
			continue // closed, detach not run yet
		default:
		}
		if best == nil || len(c.slots) < len(best.slots) ||
			(len(c.slots) == len(best.slots) && c.info.ID < best.info.ID) {
			best = c
		}
	}
	return best
}

// callSigner sends req to c (holding one of its slots) and interprets the
// answer. retry is true only when the connection was lost before an answer
// arrived.
func (h *Hub) callSigner(ctx context.Context, c *conn, from address.Address, req api.SignRequest, p *pending) (sig types.Signature, retry bool, err error) {
	defer func() { <-c.slots }()
	cctx, cancel := context.WithTimeout(ctx, h.cfg.CallTimeout)
	defer cancel()
	resp, err := (&rpcapi.SignerClient{C: c.peer}).Sign(cctx, req)
	if err != nil {
		var rerr *rpc.Error
		switch {
		case errors.As(err, &rerr) && rerr.Code == api.CodeSignRefused:
			h.count(c, false)
			h.log.Info("signer refused", "tenant", req.Tenant, "request", req.ID, "cid", req.Cid,
				"signer", c.info.Name, "reason", rerr.Message)
			return types.Signature{}, false, &RefusedError{Signer: c.info.Name, Reason: rerr.Message}
		case ctx.Err() != nil:
			return types.Signature{}, false, ctx.Err()
		case errors.Is(err, rpc.ErrConnClosed) || isDone(c.peer):
			return types.Signature{}, true, err
		case errors.As(err, &rerr) && rerr.Code == rpc.CodeCanceled:
			// The signer abandoned the call (it is shutting down): not a
			// decision, so the request goes to the next signer.
			return types.Signature{}, true, err
		case cctx.Err() != nil:
			return types.Signature{}, false, fmt.Errorf("%w: signer %q did not answer within %s: %w",
				ErrSignerFailed, c.info.Name, h.cfg.CallTimeout, commit.ErrSignerUnavailable)
		}
		return types.Signature{}, false, fmt.Errorf("%w: signer %q: %v", ErrSignerFailed, c.info.Name, err)
	}
	sig = types.Signature{Type: types.SigType(resp.Signature.Type), Data: resp.Signature.Data}
	toSign := types.CidOf(req.Message).Bytes()
	if err := sigs.Verify(sig, from, toSign); err != nil {
		h.log.Error("signer returned a signature that does not verify", "tenant", req.Tenant,
			"request", req.ID, "signer", c.info.Name, "from", req.From)
		return types.Signature{}, false, fmt.Errorf("%w: signer %q for %s: %v", ErrBadSignature, c.info.Name, from, err)
	}
	h.count(c, true)
	return sig, false, nil
}

func (h *Hub) count(c *conn, signed bool) {
	h.mu.Lock()
	if signed {
		c.info.Signed++
	} else {
		c.info.Refused++
	}
	h.mu.Unlock()
}

// CommitSigner is the commit pipeline's Signer over a hub: the request's
// purpose goes to the signer, and "no signer connected" or a signer that
// failed becomes commit.ErrSignerUnavailable, so the batch shows that it
// waits for the SP's signer instead of failing.
type CommitSigner struct{ Hub *Hub }

// Sign forwards req to the hub.
func (s CommitSigner) Sign(ctx context.Context, req commit.SignRequest) (types.Signature, error) {
	sig, err := s.Hub.SignRequest(ctx, Request{Tenant: req.Tenant, From: req.From, Message: req.Message,
		Purpose: req.Purpose.Kind, Sectors: req.Purpose.Sectors})
	if errors.Is(err, ErrNoSigner) || errors.Is(err, ErrSignerFailed) {
		return sig, fmt.Errorf("%w: %w", commit.ErrSignerUnavailable, err)
	}
	return sig, err
}

var _ commit.Signer = CommitSigner{}

func isDone(p peerConn) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}
