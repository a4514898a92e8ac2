package walletgw

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/rpc"
)

// errBadWallet marks answers that get a wallet disconnected: a proof
// that does not verify, a malformed or oversized answer, too many
// unsolicited answers or address changes.
var errBadWallet = errors.New("walletgw: wallet misbehaved")

// maxExpired bounds the remembered ids of events whose wait ended
// (timeout, cancellation) so that a late answer is not held against the
// wallet.
const maxExpired = 1024

// session is one open event channel: one venus-wallet connection of one
// tenant. It is the hub's signhub.Remote for that connection.
type session struct {
	g         *Gateway
	ctx       context.Context // the event channel's; ends when the wallet goes
	peer      *rpc.Peer
	tenant    string
	name      string
	channel   uuid.UUID
	signBytes []byte
	queue     chan RequestEvent // to the channel writer
	killOnce  sync.Once

	mu          sync.Mutex
	pending     map[uuid.UUID]chan ResponseEvent
	expired     map[uuid.UUID]bool
	unsolicited int
	changes     []time.Time // recent AddNewAddress/RemoveAddress calls
	addrs       []address.Address
	unproven    []string
	attached    bool
}

func newSession(g *Gateway, ctx context.Context, peer *rpc.Peer, tenant, name string, channel uuid.UUID, policy RegisterPolicy) *session {
	return &session{g: g, ctx: ctx, peer: peer, tenant: tenant, name: name, channel: channel,
		signBytes: slices.Clone(policy.SignBytes), queue: make(chan RequestEvent, 64),
		pending: map[uuid.UUID]chan ResponseEvent{}, expired: map[uuid.UUID]bool{}}
}

// run drives the session: prove the wallet's addresses, tell it its
// channel id, hand it to the hub, and wait for the channel to end. out is
// the event channel's stream; run's writer closes it.
func (s *session) run(out chan<- RequestEvent) {
	go s.write(out)
	defer s.g.forget(s)
	if err := s.connect(); err != nil && s.ctx.Err() == nil {
		s.kill(err.Error())
	}
	<-s.ctx.Done()
	if s.attached {
		s.g.log.Info("venus-wallet disconnected", "tenant", s.tenant, "remote", s.peer.RemoteAddr(), "channel", s.channel)
	}
}

// connect runs the connection protocol up to attaching the wallet to the
// hub.
func (s *session) connect() error {
	addrs, unproven, err := s.handshake()
	if err != nil {
		return err
	}
	payload, err := json.Marshal(ConnectedCompleted{ChannelId: s.channel})
	if err != nil {
		return err
	}
	// InitConnect (not answered) goes out before the hub may route sign
	// requests here, so the wallet knows its channel id first, and the
	// ids drawn from Config.Rand follow the protocol's order.
	id, err := s.g.newUUID()
	if err != nil {
		return err
	}
	if err := s.enqueue(s.ctx, RequestEvent{ID: id, Method: EventInitConnect, Payload: payload}); err != nil {
		return err
	}
	s.mu.Lock()
	s.addrs, s.unproven, s.attached = addrs, unproven, true
	s.mu.Unlock()
	s.g.cfg.Hub.AttachRemote(s.tenant, s, api.SignerStatus{Kind: api.SignerKindVenusWallet, Name: s.name, Unproven: unproven}, addrs)
	s.g.log.Info("venus-wallet connected", "tenant", s.tenant, "remote", s.peer.RemoteAddr(), "channel", s.channel,
		"addresses", len(addrs), "unproven", unproven)
	return nil
}

// write pumps queued events into the stream until the channel ends, then
// closes it (the RPC server then sends xrpc.ch.close if it still can).
func (s *session) write(out chan<- RequestEvent) {
	defer close(out)
	for {
		select {
		case ev := <-s.queue:
			select {
			case out <- ev:
			case <-s.ctx.Done():
				return
			}
		case <-s.ctx.Done():
			return
		}
	}
}

// kill disconnects the wallet (once): the connection is closed, its event
// channel ends, the hub forgets it, and every request waiting on it goes
// back to the hub to be routed again.
func (s *session) kill(reason string) {
	s.killOnce.Do(func() {
		s.g.log.Warn("disconnecting venus-wallet", "tenant", s.tenant, "remote", s.peer.RemoteAddr(), "reason", reason)
		_ = s.peer.Close()
	})
}

func (s *session) closedErr() error {
	return fmt.Errorf("walletgw: venus-wallet %s of tenant %s disconnected: %w", s.peer.RemoteAddr(), s.tenant, rpc.ErrConnClosed)
}

func (s *session) enqueue(ctx context.Context, ev RequestEvent) error {
	select {
	case s.queue <- ev:
		return nil
	case <-s.ctx.Done():
		return s.closedErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// request sends one event and waits for its answer.
func (s *session) request(ctx context.Context, method string, payload []byte) (ResponseEvent, error) {
	if s.ctx.Err() != nil {
		return ResponseEvent{}, s.closedErr()
	}
	id, err := s.g.newUUID()
	if err != nil {
		return ResponseEvent{}, err
	}
	ch := make(chan ResponseEvent, 1)
	s.mu.Lock()
	s.pending[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if _, waiting := s.pending[id]; waiting {
			delete(s.pending, id)
			if len(s.expired) >= maxExpired {
				clear(s.expired)
			}
			s.expired[id] = true
		}
		s.mu.Unlock()
	}()
	if err := s.enqueue(ctx, RequestEvent{ID: id, Method: method, Payload: payload}); err != nil {
		return ResponseEvent{}, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-s.ctx.Done():
		select {
		case r := <-ch: // answered just before the connection went
			return r, nil
		default:
			return ResponseEvent{}, s.closedErr()
		}
	case <-ctx.Done():
		return ResponseEvent{}, ctx.Err()
	}
}

// deliver hands a ResponseWalletEvent to the request waiting for it.
func (s *session) deliver(resp ResponseEvent) error {
	if len(resp.Payload) > s.g.cfg.MaxPayload || len(resp.Error) > s.g.cfg.MaxPayload {
		err := fmt.Errorf("%w: answer of %d bytes (error text %d), at most %d", errBadWallet, len(resp.Payload), len(resp.Error), s.g.cfg.MaxPayload)
		s.kill(err.Error())
		return err
	}
	s.mu.Lock()
	ch, ok := s.pending[resp.ID]
	if ok {
		delete(s.pending, resp.ID)
		s.mu.Unlock()
		ch <- resp // buffered, and only this call removed it
		return nil
	}
	if s.expired[resp.ID] {
		delete(s.expired, resp.ID)
		s.mu.Unlock()
		return nil // a late answer to a request that gave up
	}
	s.unsolicited++
	n := s.unsolicited
	s.mu.Unlock()
	err := rpc.Errorf(rpc.CodeInvalidParams, "walletgw: no event %s is waiting for an answer", resp.ID)
	if n > s.g.cfg.MaxUnsolicited {
		s.kill(fmt.Sprintf("%d answers to events it was not sent", n))
	}
	return err
}

// handshake lists the wallet's addresses and proves each key address, as
// sophon-gateway does on connect. Any failure disconnects the wallet:
// nothing is routed to a wallet that did not prove every key it lists.
func (s *session) handshake() (addrs []address.Address, unproven []string, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.g.cfg.ProveTimeout)
	r, err := s.request(ctx, EventWalletList, nil)
	cancel()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: WalletList: %w", errBadWallet, err)
	}
	if r.Error != "" {
		return nil, nil, fmt.Errorf("%w: WalletList failed in the wallet: %s", errBadWallet, r.Error)
	}
	var list []string
	if err := json.Unmarshal(r.Payload, &list); err != nil {
		return nil, nil, fmt.Errorf("%w: WalletList answer is not a list of addresses: %v", errBadWallet, err)
	}
	keys, unproven, err := s.parseAddresses(list, 0)
	if err != nil {
		return nil, nil, err
	}
	for _, a := range keys {
		if err := s.prove(a); err != nil {
			return nil, nil, err
		}
	}
	return keys, unproven, nil
}

// parseAddresses splits list into key addresses (f1/f3, which the wallet
// must prove) and others (kept as unproven: Sealant sends only key
// senders' messages). have is how many addresses the wallet already has.
func (s *session) parseAddresses(list []string, have int) (keys []address.Address, others []string, err error) {
	if have+len(list) > s.g.cfg.MaxAddresses {
		return nil, nil, fmt.Errorf("%w: %d addresses, at most %d", errBadWallet, have+len(list), s.g.cfg.MaxAddresses)
	}
	seen := map[address.Address]bool{}
	for _, str := range list {
		a, err := address.Parse(str)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: address %q: %v", errBadWallet, str, err)
		}
		if seen[a] {
			continue
		}
		seen[a] = true
		if p := a.Protocol(); p == address.SECP256K1 || p == address.BLS {
			keys = append(keys, a)
		} else {
			others = append(others, a.String())
		}
	}
	return keys, others, nil
}

// prove asks the wallet to sign sha256(R ‖ SignBytes) with a's key under
// MsgMeta{verifyaddress, R} for fresh random R, and checks the signature.
func (s *session) prove(a address.Address) error {
	rnd, err := s.g.random(proofRandSize)
	if err != nil {
		return err
	}
	toSign := ProofDigest(rnd, s.signBytes)
	payload, err := json.Marshal(WalletSignRequest{Signer: a, ToSign: toSign, Meta: MsgMeta{Type: MetaVerifyAddress, Extra: rnd}})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.g.cfg.ProveTimeout)
	defer cancel()
	r, err := s.request(ctx, EventWalletSign, payload)
	if err != nil {
		return fmt.Errorf("%w: proving %s: %w", errBadWallet, a, err)
	}
	if r.Error != "" {
		return fmt.Errorf("%w: the wallet did not prove %s: %s", errBadWallet, a, r.Error)
	}
	if _, err := verifySignature(r.Payload, a, toSign); err != nil {
		return fmt.Errorf("%w: proof of %s: %v", errBadWallet, a, err)
	}
	return nil
}

// ProofDigest is what a verifyaddress request signs: sha256(gateway
// random ‖ wallet SignBytes), as venus-shared's GetSignData.
func ProofDigest(rnd, signBytes []byte) []byte {
	h := sha256.New()
	h.Write(rnd)
	h.Write(signBytes)
	return h.Sum(nil)
}

// verifySignature decodes a wallet's signature answer ({"Type","Data"})
// and verifies it for a over msg.
func verifySignature(payload []byte, a address.Address, msg []byte) (types.Signature, error) {
	var sj api.SignatureJSON
	if err := json.Unmarshal(payload, &sj); err != nil {
		return types.Signature{}, fmt.Errorf("answer is not a signature: %v", err)
	}
	sig := types.Signature{Type: types.SigType(sj.Type), Data: sj.Data}
	if err := sigs.Verify(sig, a, msg); err != nil {
		return types.Signature{}, fmt.Errorf("signature does not verify: %v", err)
	}
	return sig, nil
}

// allowChange counts one AddNewAddress/RemoveAddress call against the
// per-minute budget.
func (s *session) allowChange() bool {
	now := s.g.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := s.changes[:0]
	for _, t := range s.changes {
		if now.Sub(t) < time.Minute {
			keep = append(keep, t)
		}
	}
	s.changes = append(keep, now)
	return len(s.changes) <= s.g.cfg.MaxAddressChanges
}

// addAddresses proves and adds addresses the wallet announces after
// connecting (a key created with `venus-wallet new`). A failed proof
// disconnects the wallet, as on connect.
func (s *session) addAddresses(ctx context.Context, list []string) error {
	if !s.allowChange() {
		err := fmt.Errorf("%w: more than %d address changes a minute", errBadWallet, s.g.cfg.MaxAddressChanges)
		s.kill(err.Error())
		return err
	}
	s.mu.Lock()
	have := len(s.addrs) + len(s.unproven)
	s.mu.Unlock()
	keys, others, err := s.parseAddresses(list, have)
	if err != nil {
		s.kill(err.Error())
		return err
	}
	var fresh []address.Address
	for _, a := range keys {
		s.mu.Lock()
		known := slices.Contains(s.addrs, a)
		s.mu.Unlock()
		if known {
			continue
		}
		if err := s.prove(a); err != nil {
			if ctx.Err() == nil && s.ctx.Err() == nil {
				s.kill(err.Error())
			}
			return err
		}
		fresh = append(fresh, a)
	}
	s.mu.Lock()
	s.addrs = append(s.addrs, fresh...)
	for _, o := range others {
		if !slices.Contains(s.unproven, o) {
			s.unproven = append(s.unproven, o)
		}
	}
	addrs := slices.Clone(s.addrs)
	s.mu.Unlock()
	s.g.cfg.Hub.SetAddresses(s.tenant, s, addrs)
	s.g.log.Info("venus-wallet added addresses", "tenant", s.tenant, "remote", s.peer.RemoteAddr(), "proven", fresh, "unproven", others)
	return nil
}

// removeAddresses withdraws addresses: the hub stops routing them here.
func (s *session) removeAddresses(list []string) error {
	if !s.allowChange() {
		err := fmt.Errorf("%w: more than %d address changes a minute", errBadWallet, s.g.cfg.MaxAddressChanges)
		s.kill(err.Error())
		return err
	}
	if len(list) > s.g.cfg.MaxAddresses {
		return rpc.Errorf(rpc.CodeInvalidParams, "walletgw: %d addresses, at most %d", len(list), s.g.cfg.MaxAddresses)
	}
	drop := map[address.Address]bool{}
	for _, str := range list {
		a, err := address.Parse(str)
		if err != nil {
			return rpc.Errorf(rpc.CodeInvalidParams, "walletgw: address %q: %v", str, err)
		}
		drop[a] = true
	}
	s.mu.Lock()
	s.addrs = slices.DeleteFunc(s.addrs, func(a address.Address) bool { return drop[a] })
	s.unproven = slices.DeleteFunc(s.unproven, func(str string) bool {
		a, err := address.Parse(str)
		return err == nil && drop[a]
	})
	addrs := slices.Clone(s.addrs)
	s.mu.Unlock()
	s.g.cfg.Hub.SetAddresses(s.tenant, s, addrs)
	return nil
}

// Call implements signhub.Remote: the hub's api.MethodSignerSign request
// becomes a WalletSign event with MsgMeta{message, unsigned message CBOR}
// over the message CID bytes. A wallet's error answer (its sign filter,
// a locked wallet, a missing key) is a refusal carrying the wallet's text.
func (s *session) Call(ctx context.Context, method string, result any, params ...any) error {
	if method != api.MethodSignerSign || len(params) != 1 {
		return fmt.Errorf("walletgw: a venus-wallet serves only %s, not %s", api.MethodSignerSign, method)
	}
	req, ok := params[0].(api.SignRequest)
	out, ok2 := result.(*api.SignResponse)
	if !ok || !ok2 {
		return fmt.Errorf("walletgw: %s wants (api.SignRequest) → *api.SignResponse, got %T → %T", method, params[0], result)
	}
	from, err := address.Parse(req.From)
	if err != nil {
		return fmt.Errorf("walletgw: sign request from %q: %w", req.From, err)
	}
	toSign := types.CidOf(req.Message).Bytes()
	payload, err := json.Marshal(WalletSignRequest{Signer: from, ToSign: toSign, Meta: MsgMeta{Type: MetaChainMessage, Extra: req.Message}})
	if err != nil {
		return err
	}
	r, err := s.request(ctx, EventWalletSign, payload)
	if err != nil {
		return err
	}
	if r.Error != "" {
		return &rpc.Error{Code: api.CodeSignRefused, Message: "venus-wallet: " + r.Error}
	}
	sig, err := verifySignature(r.Payload, from, toSign)
	if err != nil {
		err = fmt.Errorf("%w: signature for message %s from %s: %v", errBadWallet, req.Cid, from, err)
		s.kill(err.Error())
		return err
	}
	*out = api.SignResponse{Signature: api.SignatureJSON{Type: int(sig.Type), Data: sig.Data}}
	return nil
}

// Done implements signhub.Remote: closed as soon as the event channel
// ends (the wallet left or was disconnected), so the hub stops routing
// here at once.
func (s *session) Done() <-chan struct{} { return s.ctx.Done() }

// RemoteAddr implements signhub.Remote.
func (s *session) RemoteAddr() string { return s.peer.RemoteAddr() }
