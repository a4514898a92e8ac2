package devnet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/devnet/state"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/rpc"
)

// NetworkVersion is what StateNetworkVersion reports: the devnet implements
// the nv28 (actors v18) sealing path.
const NetworkVersion = 28

// APIVersion is Lotus's v1 full-node API version (2.3.0).
const APIVersion = 0x020300

// args decodes positional params into ptrs; missing trailing params keep
// their zero value (an empty TipSetKey means the head).
func args(params []json.RawMessage, ptrs ...any) error {
	if len(params) > len(ptrs) {
		return fmt.Errorf("%w: expected at most %d params, got %d", rpc.ErrInvalidParams, len(ptrs), len(params))
	}
	for i, p := range params {
		if err := json.Unmarshal(p, ptrs[i]); err != nil {
			return fmt.Errorf("%w: param %d: %v", rpc.ErrInvalidParams, i, err)
		}
	}
	return nil
}

type handler func(ctx context.Context, n *Node, params []json.RawMessage) (any, error)

// methods is the served API: every method chain/lotus's client calls, plus
// ChainNotify's companions a Lotus tool expects (MpoolBatchPush,
// StateMinerAllocated, WalletHas/WalletList, AuthNew).
var methods = map[string]struct {
	perm rpc.Perm
	h    handler
}{
	"Filecoin.Version":                             {rpc.PermRead, apiVersion},
	"Filecoin.ChainHead":                           {rpc.PermRead, apiChainHead},
	"Filecoin.ChainGetTipSet":                      {rpc.PermRead, apiChainGetTipSet},
	"Filecoin.ChainGetTipSetByHeight":              {rpc.PermRead, apiChainGetTipSetByHeight},
	"Filecoin.ChainNotify":                         {rpc.PermRead, apiChainNotify},
	"Filecoin.StateNetworkVersion":                 {rpc.PermRead, apiStateNetworkVersion},
	"Filecoin.StateMinerInfo":                      {rpc.PermRead, apiStateMinerInfo},
	"Filecoin.StateLookupID":                       {rpc.PermRead, apiStateLookupID},
	"Filecoin.StateAccountKey":                     {rpc.PermRead, apiStateAccountKey},
	"Filecoin.StateGetRandomnessFromTickets":       {rpc.PermRead, apiRandTickets},
	"Filecoin.StateGetRandomnessFromBeacon":        {rpc.PermRead, apiRandBeacon},
	"Filecoin.StateGetRandomnessDigestFromTickets": {rpc.PermRead, apiDigestTickets},
	"Filecoin.StateGetRandomnessDigestFromBeacon":  {rpc.PermRead, apiDigestBeacon},
	"Filecoin.StateSectorPreCommitInfo":            {rpc.PermRead, apiStateSectorPreCommitInfo},
	"Filecoin.StateSectorGetInfo":                  {rpc.PermRead, apiStateSectorGetInfo},
	"Filecoin.StateMinerSectorAllocated":           {rpc.PermRead, apiStateMinerSectorAllocated},
	"Filecoin.StateMinerAllocated":                 {rpc.PermRead, apiStateMinerAllocated},
	"Filecoin.StateMinerPreCommitDepositForPower":  {rpc.PermRead, apiPreCommitDeposit},
	"Filecoin.StateMinerInitialPledgeForSector":    {rpc.PermRead, apiInitialPledge},
	"Filecoin.StateMinerAvailableBalance":          {rpc.PermRead, apiAvailableBalance},
	"Filecoin.StateMinerProvingDeadline":           {rpc.PermRead, apiProvingDeadline},
	"Filecoin.StateMinerPartitions":                {rpc.PermRead, apiPartitions},
	"Filecoin.StateSearchMsg":                      {rpc.PermRead, apiStateSearchMsg},
	"Filecoin.StateWaitMsg":                        {rpc.PermRead, apiStateWaitMsg},
	"Filecoin.WalletBalance":                       {rpc.PermRead, apiWalletBalance},
	"Filecoin.MpoolGetNonce":                       {rpc.PermRead, apiMpoolGetNonce},
	"Filecoin.GasEstimateMessageGas":               {rpc.PermRead, apiGasEstimate},
	"Filecoin.MpoolPush":                           {rpc.PermWrite, apiMpoolPush},
	"Filecoin.MpoolBatchPush":                      {rpc.PermWrite, apiMpoolBatchPush},
	"Filecoin.WalletHas":                           {rpc.PermWrite, apiWalletHas},
	"Filecoin.WalletList":                          {rpc.PermWrite, apiWalletList},
	"Filecoin.WalletSign":                          {rpc.PermSign, apiWalletSign},
	"Filecoin.AuthNew":                             {rpc.PermAdmin, apiAuthNew},
	// For third-party clients (api_state.go).
	"Filecoin.StateNetworkName":            {rpc.PermRead, apiStateNetworkName},
	"Filecoin.StateMinerPower":             {rpc.PermRead, apiStateMinerPower},
	"Filecoin.StateLookupRobustAddress":    {rpc.PermRead, apiStateLookupRobustAddress},
	"Filecoin.StateReadState":              {rpc.PermRead, apiStateReadState},
	"Filecoin.FilecoinAddressToEthAddress": {rpc.PermRead, apiFilecoinAddressToEthAddress},
}

// Methods lists the served method names (for docs and tests).
func Methods() []string {
	out := make([]string, 0, len(methods))
	for m := range methods {
		out = append(out, m)
	}
	return out
}

func (n *Node) newRPC() (*rpc.Server, error) {
	srv, err := rpc.NewServer(rpc.ServerConfig{
		Secret:          n.secret,
		AnonymousPerm:   rpc.PermRead, // as Lotus
		ExposeErrors:    true,         // Lotus clients match on error text
		LotusHTTPStatus: true,         // 500 for parse errors and unknown methods, as Lotus
		MaxRequestSize:  int64(n.cfg.MaxMessageSize) * 2,
		// Lotus clients push messages without a token (anonymous read
		// callers may MpoolPush on a public devnet, as on Lotus).
		MaxAnonymousRequestSize: int64(n.cfg.MaxMessageSize) * 2,
		Logger:                  n.log,
	})
	if err != nil {
		return nil, err
	}
	for name, m := range methods {
		h := m.h
		srv.Register(name, m.perm, func(ctx context.Context, params []json.RawMessage) (any, error) {
			return h(ctx, n, params)
		})
	}
	return srv, nil
}

// tipsetHeight resolves tsk (empty = head). Callers hold n.mu (read).
func (n *Node) tipsetHeight(tsk types.TipSetKey) (int64, error) {
	head := int64(len(n.headers) - 1)
	if tsk.IsEmpty() {
		return head, nil
	}
	cids := tsk.Cids()
	if len(cids) != 1 {
		return 0, fmt.Errorf("devnet: tipset %s not found (devnet tipsets have one block)", tsk)
	}
	for h := head; h >= 0; h-- {
		if n.tsCids[h].Equals(cids[0]) {
			return h, nil
		}
	}
	return 0, fmt.Errorf("devnet: tipset %s not found", tsk)
}

// withState runs f with the state to query at tsk.
func withState[R any](ctx context.Context, n *Node, tsk types.TipSetKey, f func(st *state.State, h int64) (R, error)) (R, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	var zero R
	h, err := n.tipsetHeight(tsk)
	if err != nil {
		return zero, err
	}
	st, err := n.stateAt(ctx, h)
	if err != nil {
		return zero, err
	}
	return f(st, h)
}

// withMiner is withState for methods about one miner actor: it resolves a
// at tsk and fails as st.Miner does when a is not a miner.
func withMiner(ctx context.Context, n *Node, a address.Address, tsk types.TipSetKey, f func(m *state.Actor, h int64) (any, error)) (any, error) {
	return withState(ctx, n, tsk, func(st *state.State, h int64) (any, error) {
		m, err := st.Miner(a)
		if err != nil {
			return nil, err
		}
		return f(m, h)
	})
}

func apiVersion(_ context.Context, n *Node, _ []json.RawMessage) (any, error) {
	bd := uint64(n.cfg.BlockTime / time.Second)
	if bd == 0 {
		bd = 1
	}
	return lotus.Version{Version: "sealant-devnet+" + n.gen.NetworkName, APIVersion: APIVersion, BlockDelay: bd, Agent: "sealant-devnet"}, nil
}

// apiChainHead serves the head's JSON encoded once per block: it is the
// most frequently polled method.
func apiChainHead(_ context.Context, n *Node, _ []json.RawMessage) (any, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.headJSON, nil
}

func apiChainGetTipSet(_ context.Context, n *Node, params []json.RawMessage) (any, error) {
	var tsk types.TipSetKey
	if err := args(params, &tsk); err != nil {
		return nil, err
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	h, err := n.tipsetHeight(tsk)
	if err != nil {
		return nil, err
	}
	return n.tipsetLocked(h), nil
}

func apiChainGetTipSetByHeight(_ context.Context, n *Node, params []json.RawMessage) (any, error) {
	var h types.ChainEpoch
	var tsk types.TipSetKey
	if err := args(params, &h, &tsk); err != nil {
		return nil, err
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	from, err := n.tipsetHeight(tsk)
	if err != nil {
		return nil, err
	}
	if h < 0 {
		return nil, fmt.Errorf("looking for tipset with negative height %d", h)
	}
	if int64(h) > from {
		return nil, fmt.Errorf("looking for tipset with height greater than start point")
	}
	return n.tipsetLocked(int64(h)), nil
}

func apiChainNotify(ctx context.Context, n *Node, _ []json.RawMessage) (any, error) {
	if _, ok := rpc.PeerFrom(ctx); !ok {
		return nil, rpc.ErrWebSocketRequired
	}
	ch := make(chan []lotus.HeadChange, 64)
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil, errors.New("devnet: shutting down")
	}
	ch <- []lotus.HeadChange{{Type: lotus.HCCurrent, Val: n.tipsetLocked(int64(len(n.headers) - 1))}}
	id := n.nextSub
	n.nextSub++
	n.subs[id] = ch
	n.mu.Unlock()
	go func() {
		<-ctx.Done()
		n.mu.Lock()
		if _, ok := n.subs[id]; ok {
			delete(n.subs, id)
			close(ch)
		}
		n.mu.Unlock()
	}()
	return rpc.NewStream(ch), nil
}

func apiStateNetworkVersion(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	var tsk types.TipSetKey
	if err := args(params, &tsk); err != nil {
		return nil, err
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	if _, err := n.tipsetHeight(tsk); err != nil {
		return nil, err
	}
	return NetworkVersion, nil
}

func addrTsk(params []json.RawMessage) (address.Address, types.TipSetKey, error) {
	var a address.Address
	var tsk types.TipSetKey
	err := args(params, &a, &tsk)
	return a, tsk, err
}

func apiStateMinerInfo(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	a, tsk, err := addrTsk(params)
	if err != nil {
		return nil, err
	}
	return withMiner(ctx, n, a, tsk, func(m *state.Actor, _ int64) (any, error) {
		return m.Miner.Info(), nil
	})
}

func apiStateLookupID(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	a, tsk, err := addrTsk(params)
	if err != nil {
		return nil, err
	}
	return withState(ctx, n, tsk, func(st *state.State, _ int64) (any, error) { return st.LookupID(a) })
}

func apiStateAccountKey(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	a, tsk, err := addrTsk(params)
	if err != nil {
		return nil, err
	}
	return withState(ctx, n, tsk, func(st *state.State, _ int64) (any, error) { return st.AccountKey(a) })
}

func (n *Node) randomness(params []json.RawMessage, digestOnly, beacon bool) (any, error) {
	var tag int64
	var epoch types.ChainEpoch
	var entropy []byte
	var tsk types.TipSetKey
	var err error
	if digestOnly {
		err = args(params, &epoch, &tsk)
	} else {
		err = args(params, &tag, &epoch, &entropy, &tsk)
	}
	if err != nil {
		return nil, err
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	h, err := n.tipsetHeight(tsk)
	if err != nil {
		return nil, err
	}
	if int64(epoch) > h {
		return nil, fmt.Errorf("devnet: cannot draw randomness from the future: epoch %d after tipset %d", epoch, h)
	}
	if epoch < 0 {
		return nil, fmt.Errorf("devnet: cannot draw randomness from negative epoch %d", epoch)
	}
	hdr := n.headers[epoch]
	base := hdr.Ticket.VRFProof
	if beacon {
		base = hdr.BeaconEntries[0].Data
	}
	if digestOnly {
		d := rand.DigestOf(base)
		return d[:], nil
	}
	r := rand.DrawRandomness(base, rand.DomainSeparationTag(tag), int64(epoch), entropy)
	return r[:], nil
}

func apiRandTickets(_ context.Context, n *Node, p []json.RawMessage) (any, error) {
	return n.randomness(p, false, false)
}
func apiRandBeacon(_ context.Context, n *Node, p []json.RawMessage) (any, error) {
	return n.randomness(p, false, true)
}
func apiDigestTickets(_ context.Context, n *Node, p []json.RawMessage) (any, error) {
	return n.randomness(p, true, false)
}
func apiDigestBeacon(_ context.Context, n *Node, p []json.RawMessage) (any, error) {
	return n.randomness(p, true, true)
}

func minerSector(params []json.RawMessage) (address.Address, uint64, types.TipSetKey, error) {
	var a address.Address
	var s uint64
	var tsk types.TipSetKey
	err := args(params, &a, &s, &tsk)
	return a, s, tsk, err
}

func apiStateSectorPreCommitInfo(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	a, s, tsk, err := minerSector(params)
	if err != nil {
		return nil, err
	}
	return withMiner(ctx, n, a, tsk, func(m *state.Actor, _ int64) (any, error) {
		if pc, ok := m.Miner.PreCommits[s]; ok {
			return pc, nil
		}
		return nil, nil
	})
}

func apiStateSectorGetInfo(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	a, s, tsk, err := minerSector(params)
	if err != nil {
		return nil, err
	}
	return withMiner(ctx, n, a, tsk, func(m *state.Actor, _ int64) (any, error) {
		if si, ok := m.Miner.Sectors[s]; ok {
			return si, nil
		}
		return nil, nil
	})
}

func apiStateMinerSectorAllocated(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	a, s, tsk, err := minerSector(params)
	if err != nil {
		return nil, err
	}
	return withMiner(ctx, n, a, tsk, func(m *state.Actor, _ int64) (any, error) {
		for _, v := range m.Miner.Allocated {
			if v == s {
				return true, nil
			}
		}
		return false, nil
	})
}

func apiStateMinerAllocated(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	a, tsk, err := addrTsk(params)
	if err != nil {
		return nil, err
	}
	return withMiner(ctx, n, a, tsk, func(m *state.Actor, _ int64) (any, error) {
		return lotus.BitFieldFromSet(m.Miner.Allocated)
	})
}

// withHeadroom is Lotus's ×110/100 on deposit and pledge queries.
func withHeadroom(v types.BigInt) types.BigInt {
	return v.Mul(types.NewInt(110)).Div(types.NewInt(100))
}

func apiPreCommitDeposit(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	var a address.Address
	var pci lotus.SectorPreCommitInfo
	var tsk types.TipSetKey
	if err := args(params, &a, &pci, &tsk); err != nil {
		return nil, err
	}
	return withState(ctx, n, tsk, func(st *state.State, _ int64) (any, error) {
		if _, err := st.Miner(a); err != nil {
			return nil, err
		}
		size, err := miner.RegisteredSealProof(pci.SealProof).SectorSize()
		if err != nil {
			return nil, fmt.Errorf("devnet: seal proof %d: %w", pci.SealProof, err)
		}
		return withHeadroom(n.policy.PreCommitDeposit(uint64(size), st.NetworkQAP())), nil
	})
}

func apiInitialPledge(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	var dur types.ChainEpoch
	var size, verified uint64
	var tsk types.TipSetKey
	if err := args(params, &dur, &size, &verified, &tsk); err != nil {
		return nil, err
	}
	if _, err := abi.SealProofForSize(abi.SectorSize(size)); err != nil {
		return nil, fmt.Errorf("devnet: sector size %d: %w", size, err)
	}
	if verified > size {
		return nil, fmt.Errorf("devnet: verified size %d exceeds sector size %d", verified, size)
	}
	return withState(ctx, n, tsk, func(st *state.State, _ int64) (any, error) {
		qap := size - verified + 10*verified // verified space counts 10×
		return withHeadroom(n.policy.InitialPledge(qap, st.NetworkQAP())), nil
	})
}

func apiAvailableBalance(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	a, tsk, err := addrTsk(params)
	if err != nil {
		return nil, err
	}
	return withMiner(ctx, n, a, tsk, func(m *state.Actor, _ int64) (any, error) {
		return state.Available(m), nil
	})
}

func apiProvingDeadline(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	a, tsk, err := addrTsk(params)
	if err != nil {
		return nil, err
	}
	return withMiner(ctx, n, a, tsk, func(m *state.Actor, h int64) (any, error) {
		di := m.Miner.DeadlineInfo(n.policy, h)
		return &di, nil
	})
}

func apiPartitions(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	var a address.Address
	var dl uint64
	var tsk types.TipSetKey
	if err := args(params, &a, &dl, &tsk); err != nil {
		return nil, err
	}
	return withMiner(ctx, n, a, tsk, func(m *state.Actor, _ int64) (any, error) {
		return m.Miner.PartitionsOf(dl)
	})
}

func apiWalletBalance(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	var a address.Address
	if err := args(params, &a); err != nil {
		return nil, err
	}
	return withState(ctx, n, types.EmptyTSK, func(st *state.State, _ int64) (any, error) {
		act, err := st.Lookup(a)
		if err != nil {
			return types.Zero(), nil // Lotus: unknown address has balance 0
		}
		return act.Balance, nil
	})
}

func apiMpoolGetNonce(_ context.Context, n *Node, params []json.RawMessage) (any, error) {
	var a address.Address
	if err := args(params, &a); err != nil {
		return nil, err
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.pool.nextNonce(n.post, a), nil
}

// Gas estimation defaults.
const (
	defaultGasPremium     = 1_000
	gasLimitOverestimate  = 125 // percent, Lotus GasLimitOverestimation 1.25
	estimateSignatureSize = 100 // bytes added to the unsigned message for the signature
)

// apiGasEstimate fills zero gas fields. GasUsed comes from the devnet gas
// model (exact); like Lotus it first executes the message on a copy of the
// current state at the next epoch and fails if the message would fail.
func apiGasEstimate(_ context.Context, n *Node, params []json.RawMessage) (any, error) {
	var msg types.Message
	var spec *lotus.MessageSendSpec
	var tsk types.TipSetKey
	if err := args(params, &msg, &spec, &tsk); err != nil {
		return nil, err
	}
	raw, err := msg.Serialize()
	if err != nil {
		return nil, fmt.Errorf("devnet: gas estimate: %w", err)
	}
	size := len(raw) + estimateSignatureSize
	gas := state.GasFor(&msg, size)
	if msg.GasLimit == 0 {
		msg.GasLimit = gas * gasLimitOverestimate / 100
		if msg.GasLimit > types.BlockGasLimit {
			msg.GasLimit = types.BlockGasLimit
		}
	}
	if msg.GasPremium.Int == nil || msg.GasPremium.Sign() == 0 {
		msg.GasPremium = types.NewInt(defaultGasPremium)
	}
	if msg.GasFeeCap.Int == nil || msg.GasFeeCap.Sign() == 0 {
		msg.GasFeeCap = n.policy.BaseFee.Mul(types.NewInt(2)).Add(msg.GasPremium)
	}
	if spec != nil && spec.MaxFee.Int != nil && spec.MaxFee.Sign() > 0 {
		if maxFee := msg.GasFeeCap.Mul(types.NewInt(msg.GasLimit)); maxFee.Cmp(spec.MaxFee) > 0 {
			msg.GasFeeCap = spec.MaxFee.Div(types.NewInt(msg.GasLimit))
			if msg.GasPremium.Cmp(msg.GasFeeCap) > 0 {
				msg.GasPremium = msg.GasFeeCap
			}
		}
	}
	// Dry run.
	n.mu.RLock()
	sim := n.post.Clone()
	if act, err := sim.Lookup(msg.From); err == nil {
		msg2 := msg
		msg2.Nonce = act.Nonce
		vm := &state.VM{Policy: n.policy, Env: chainEnv{n}, Verifier: n.verifier, Epoch: int64(len(n.headers))}
		res := vm.Apply(sim, &msg2, size)
		n.mu.RUnlock()
		if res.Receipt.ExitCode != types.Ok {
			return nil, fmt.Errorf("message execution failed: exit %d (%s), reason: %s", res.Receipt.ExitCode, res.Receipt.ExitCode, res.Error)
		}
	} else {
		n.mu.RUnlock()
	}
	return &msg, nil
}

func (n *Node) push(ctx context.Context, sm *types.SignedMessage) (cid.Cid, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return cid.Undef, errors.New("devnet: shutting down")
	}
	e, err := n.pool.add(n.post, sm)
	if err != nil {
		return cid.Undef, err
	}
	n.pushed[e.cid] = nonceKey(&sm.Message)
	if err := n.db.addMpool(ctx, e.cid.String(), e.raw); err != nil {
		return cid.Undef, fmt.Errorf("devnet: persist mpool: %w", err)
	}
	return e.cid, nil
}

// Push adds a signed message to the mpool (the Go form of MpoolPush).
func (n *Node) Push(ctx context.Context, sm *types.SignedMessage) (cid.Cid, error) {
	return n.push(ctx, sm)
}

func apiMpoolPush(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	var sm types.SignedMessage
	if err := args(params, &sm); err != nil {
		return nil, err
	}
	return n.push(ctx, &sm)
}

func apiMpoolBatchPush(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	var sms []*types.SignedMessage
	if err := args(params, &sms); err != nil {
		return nil, err
	}
	out := make([]cid.Cid, 0, len(sms))
	for _, sm := range sms {
		c, err := n.push(ctx, sm)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// msgLookup returns the lookup of c visible at height ≤ maxH. With
// allowReplaced, a message that executed in c's place (same sender and
// nonce, e.g. a gas-bumped replacement) counts, as in Lotus; the result's
// Message then names the executed CID.
func (n *Node) msgLookup(c cid.Cid, maxH int64, allowReplaced bool) *types.MsgLookup {
	l, ok := n.lookups[c]
	if !ok && allowReplaced {
		if sn, seen := n.pushed[c]; seen {
			l, ok = n.byNonce[sn]
		}
	}
	if !ok || l.height > maxH {
		return nil
	}
	ml := &types.MsgLookup{Message: l.msg, Receipt: l.receipt, TipSet: types.NewTipSetKey(n.tsCids[l.height]), Height: types.ChainEpoch(l.height)}
	ml.ReturnDec = decodeReturn(l.method, l.receipt)
	return ml
}

// decodeReturn gives ReturnDec for the methods whose returns a sealing
// pipeline reads.
func decodeReturn(method types.MethodNum, r types.MessageReceipt) any {
	if r.ExitCode != types.Ok || len(r.Return) == 0 {
		return nil
	}
	switch method {
	case miner.MethodProveCommitSectors3, miner.MethodProveCommitSectorsNI:
		if br, err := miner.DecodeBatchReturn(r.Return); err == nil {
			return br
		}
	case miner.MethodWithdrawBalance:
		var b types.BigInt
		if err := b.UnmarshalCBOR(bytes.NewReader(r.Return)); err == nil {
			return b
		}
	}
	return nil
}

func apiStateSearchMsg(_ context.Context, n *Node, params []json.RawMessage) (any, error) {
	var tsk types.TipSetKey
	var c cid.Cid
	var limit types.ChainEpoch
	var allowReplaced bool
	if err := args(params, &tsk, &c, &limit, &allowReplaced); err != nil {
		return nil, err
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	h, err := n.tipsetHeight(tsk)
	if err != nil {
		return nil, err
	}
	if ml := n.msgLookup(c, h, allowReplaced); ml != nil && (limit < 0 || limit == 0 || int64(ml.Height) >= h-int64(limit)) {
		return ml, nil
	}
	return nil, nil
}

func apiStateWaitMsg(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	var c cid.Cid
	var confidence uint64
	var limit types.ChainEpoch
	var allowReplaced bool
	if err := args(params, &c, &confidence, &limit, &allowReplaced); err != nil {
		return nil, err
	}
	for {
		n.mu.RLock()
		head := int64(len(n.headers) - 1)
		ml := n.msgLookup(c, head, allowReplaced)
		wake, closed := n.headCh, n.closed
		n.mu.RUnlock()
		if ml != nil && head >= int64(ml.Height)+int64(confidence) {
			return ml, nil
		}
		if closed {
			return nil, errors.New("devnet: shutting down")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wake:
		}
	}
}

func apiWalletHas(_ context.Context, _ *Node, params []json.RawMessage) (any, error) {
	var a address.Address
	if err := args(params, &a); err != nil {
		return nil, err
	}
	return false, nil
}

func apiWalletList(_ context.Context, _ *Node, _ []json.RawMessage) (any, error) {
	return []address.Address{}, nil
}

// apiWalletSign: the devnet node keeps no account keys (they are in the
// owners' key files), so there is nothing to sign with.
func apiWalletSign(_ context.Context, _ *Node, params []json.RawMessage) (any, error) {
	var a address.Address
	var data []byte
	if err := args(params, &a, &data); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("key not found: the devnet node holds no wallet keys; sign %s locally with its key file (DIR/owners/<name>/key.json)", a)
}

func apiAuthNew(_ context.Context, n *Node, params []json.RawMessage) (any, error) {
	var perms []rpc.Perm
	if err := args(params, &perms); err != nil {
		return nil, err
	}
	var strongest rpc.Perm = rpc.PermRead
	for _, p := range perms {
		if !p.Valid() || p == rpc.PermNone {
			return nil, fmt.Errorf("%w: unknown permission %q", rpc.ErrInvalidParams, p)
		}
		if p.Includes(strongest) {
			strongest = p
		}
	}
	tok, err := n.Token(strongest)
	if err != nil {
		return nil, err
	}
	return []byte(tok), nil
}
