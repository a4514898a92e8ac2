package devnet

import (
	"errors"
	"fmt"
	"sort"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/devnet/state"
)

// Mpool limits. MaxMessageSize is raised from Lotus's 64 KiB because devnet
// proofs are vanilla proofs (a 2KiB sector's devnet proof is tens of KiB,
// a 32GiB one several MiB); DEVNET ONLY.
const (
	DefaultMaxMessageSize = 32 << 20
	MinGasFeeCap          = 100 // Lotus minimum base fee
	BlockMessageLimit     = 10_000
)

// Mpool rejection reasons (returned by MpoolPush as RPC errors, as Lotus does).
var (
	ErrMsgTooBig     = errors.New("mpool: message too big")
	ErrMsgInvalid    = errors.New("mpool: invalid message")
	ErrBadSignature  = errors.New("mpool: invalid signature")
	ErrNonceTooLow   = errors.New("mpool: message nonce too low")
	ErrNonceGap      = errors.New("mpool: message nonce has too big a gap from expected nonce")
	ErrRBFTooLow     = errors.New("mpool: replace by fee has too low GasPremium")
	ErrNotEnoughFund = errors.New("mpool: not enough funds including pending messages")
)

type msgEntry struct {
	sm   *types.SignedMessage
	cid  cid.Cid // sm.Cid(): what MpoolPush returned
	raw  []byte  // signed CBOR
	size int
}

// mpool holds pending messages per sender and nonce. A sender's pending
// nonces are always contiguous from its state nonce (gaps are refused and
// executed messages are pruned after every block), so the next nonce and
// the funds pending messages need are kept in O(1).
type mpool struct {
	maxSize  int
	bySender map[address.Address]*senderPool
}

type senderPool struct {
	msgs  map[uint64]*msgEntry
	funds types.BigInt // Σ RequiredFunds of msgs
}

func newMpool(maxSize int) *mpool {
	return &mpool{maxSize: maxSize, bySender: map[address.Address]*senderPool{}}
}

func stateNonce(st *state.State, a address.Address) (uint64, types.BigInt) {
	if act, err := st.Lookup(a); err == nil {
		return act.Nonce, act.Balance
	}
	return 0, types.Zero()
}

// nextNonce is the nonce the sender's next message must carry.
func (p *mpool) nextNonce(st *state.State, from address.Address) uint64 {
	n, _ := stateNonce(st, from)
	if sp := p.bySender[from]; sp != nil {
		n += uint64(len(sp.msgs))
	}
	return n
}

// add validates sm against st (the state after the head's messages) and the
// pending messages, then adds it. Checks, in Lotus's spirit: size, message
// validity, gas limits, signature, nonce (no gaps: the devnet is stricter
// than Lotus's 4-message allowance for local pushes), replace-by-fee and
// balance including pending messages.
func (p *mpool) add(st *state.State, sm *types.SignedMessage) (*msgEntry, error) {
	raw, err := sm.Serialize()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMsgInvalid, err)
	}
	if len(raw) > p.maxSize {
		return nil, fmt.Errorf("%w: %d bytes, devnet limit %d", ErrMsgTooBig, len(raw), p.maxSize)
	}
	m := &sm.Message
	// The size check is the devnet's raised limit above, not Lotus's
	// 64 KiB (an NI-PoRep devnet aggregate is ~230 KiB per 2KiB sector).
	if err := m.ValidateLimit(p.maxSize); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMsgInvalid, err)
	}
	if m.GasLimit > types.BlockGasLimit {
		return nil, fmt.Errorf("%w: gas limit %d exceeds block gas limit %d", ErrMsgInvalid, m.GasLimit, int64(types.BlockGasLimit))
	}
	if m.GasFeeCap.Int == nil || m.GasFeeCap.Cmp(types.NewInt(MinGasFeeCap)) < 0 {
		return nil, fmt.Errorf("%w: gas fee cap %s below minimum base fee %d", ErrMsgInvalid, m.GasFeeCap, MinGasFeeCap)
	}
	if p := m.From.Protocol(); p != address.SECP256K1 && p != address.BLS {
		return nil, fmt.Errorf("%w: sender %s must be a key address (f1/f3)", ErrMsgInvalid, m.From)
	}
	if err := sigs.VerifyMessage(sm); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	stNonce, bal := stateNonce(st, m.From)
	if m.Nonce < stNonce {
		return nil, fmt.Errorf("%w: minimum expected nonce is %d, got %d", ErrNonceTooLow, stNonce, m.Nonce)
	}
	sp := p.bySender[m.From]
	if sp == nil {
		sp = &senderPool{msgs: map[uint64]*msgEntry{}, funds: types.Zero()}
	}
	need := sp.funds.Add(m.RequiredFunds())
	old := sp.msgs[m.Nonce]
	switch {
	case old != nil:
		if old.cid.Equals(sm.Cid()) {
			return old, nil // the same message again: idempotent
		}
		// Replace-by-fee: premium ≥ old × 1.10 + 1 (ComputeMinRBF).
		min := old.sm.Message.GasPremium.Mul(types.NewInt(110)).Div(types.NewInt(100)).Add(types.NewInt(1))
		if m.GasPremium.Cmp(min) < 0 {
			return nil, fmt.Errorf("%w: got %s, need at least %s", ErrRBFTooLow, m.GasPremium, min)
		}
		need = need.Sub(old.sm.Message.RequiredFunds())
	case m.Nonce > stNonce+uint64(len(sp.msgs)):
		return nil, fmt.Errorf("%w: expected %d, got %d", ErrNonceGap, stNonce+uint64(len(sp.msgs)), m.Nonce)
	}
	if bal.Cmp(need) < 0 {
		return nil, fmt.Errorf("%w: required %s, balance %s", ErrNotEnoughFund, need, bal)
	}
	e := &msgEntry{sm: sm, cid: sm.Cid(), raw: raw, size: len(raw)}
	sp.msgs[m.Nonce] = e
	sp.funds = need
	p.bySender[m.From] = sp
	return e, nil
}

// selectFor picks messages for the next block: per sender (in address byte
// order, for determinism) the run of consecutive nonces starting at the
// state nonce that the sender's balance covers, within the block gas limit
// and message count.
func (p *mpool) selectFor(st *state.State) []*msgEntry {
	senders := make([]address.Address, 0, len(p.bySender))
	for a := range p.bySender {
		senders = append(senders, a)
	}
	sort.Slice(senders, func(i, j int) bool { return string(senders[i].Bytes()) < string(senders[j].Bytes()) })
	var out []*msgEntry
	var gas int64
	for _, a := range senders {
		sp := p.bySender[a]
		n, bal := stateNonce(st, a)
		spent := types.Zero()
		for e := sp.msgs[n]; e != nil; e = sp.msgs[n] {
			m := &e.sm.Message
			if gas+m.GasLimit > types.BlockGasLimit || len(out) >= BlockMessageLimit {
				return out
			}
			if spent = spent.Add(m.RequiredFunds()); spent.Cmp(bal) > 0 {
				break // wait for funds rather than fail on chain
			}
			gas += m.GasLimit
			out = append(out, e)
			n++
		}
	}
	return out
}

// prune drops messages whose nonce the state has passed (included ones) and
// returns their CIDs.
func (p *mpool) prune(st *state.State) []string {
	var removed []string
	for a, sp := range p.bySender {
		stNonce, _ := stateNonce(st, a)
		for n, e := range sp.msgs {
			if n < stNonce {
				removed = append(removed, e.cid.String())
				sp.funds = sp.funds.Sub(e.sm.Message.RequiredFunds())
				delete(sp.msgs, n)
			}
		}
		if len(sp.msgs) == 0 {
			delete(p.bySender, a)
		}
	}
	return removed
}
