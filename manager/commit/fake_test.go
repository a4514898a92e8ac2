package commit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/store"
)

// fakeChain is a small, deterministic model of a Lotus node with one miner:
// an mpool that enforces nonces and signatures as Lotus does, a miner actor
// that executes PreCommitSectorBatch2 (all-or-nothing) and
// ProveCommitSectors3 (per-sector results), and receipts found by
// StateSearchMsg. Tests step it explicitly with mine.
type fakeChain struct {
	mu      sync.Mutex
	params  Params
	height  types.ChainEpoch
	baseFee types.BigInt
	deposit types.BigInt // per sector
	pledge  types.BigInt // per sector
	avail   types.BigInt
	worker  address.Address // key address behind f0100

	allocated  map[store.SectorID]bool
	precommits map[store.SectorID]*lotus.SectorPreCommitOnChainInfo
	proven     map[store.SectorID]bool
	// poison sectors fail at execution (pre-commit: the whole message;
	// prove: a FailCode); estimateSeesPoison makes gas estimation fail too.
	poison             map[store.SectorID]bool
	estimateSeesPoison bool
	failExit           types.ExitCode // every executed message fails with it
	estimateErr        error

	nonces   map[address.Address]uint64
	mpool    map[address.Address]map[uint64]*types.SignedMessage
	receipts map[cid.Cid]*types.MsgLookup
	known    map[cid.Cid]bool // messages the node has seen (pushed)
	executed []*types.SignedMessage
	pushes   int
	// pushHook runs first in MpoolPush; a non-nil error is returned after
	// the message was (if accept) added to the mpool.
	pushHook func(sm *types.SignedMessage) (accept bool, err error)
	// valueSeen and pledgeDurations record what messages carried / asked.
	pledgeDurations []types.ChainEpoch
	// onPreCommitInfo, if set, runs in StateSectorPreCommitInfo (tests use
	// it to kill the manager at that point).
	onPreCommitInfo func()
}

func newFakeChain(worker address.Address) *fakeChain {
	return &fakeChain{
		params: DevnetParams(), height: 1000, baseFee: types.NewInt(100),
		deposit: types.NewInt(1_000_000), pledge: types.NewInt(3_000_000), avail: types.NewInt(0),
		worker:    worker,
		allocated: map[store.SectorID]bool{}, precommits: map[store.SectorID]*lotus.SectorPreCommitOnChainInfo{},
		proven: map[store.SectorID]bool{}, poison: map[store.SectorID]bool{},
		nonces: map[address.Address]uint64{}, mpool: map[address.Address]map[uint64]*types.SignedMessage{},
		receipts: map[cid.Cid]*types.MsgLookup{}, known: map[cid.Cid]bool{},
	}
}

func (f *fakeChain) ChainHead(context.Context) (*lotus.TipSet, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &lotus.TipSet{Height: f.height, Blocks: []lotus.BlockHeader{{Height: f.height, ParentBaseFee: f.baseFee}}}, nil
}

func (f *fakeChain) StateMinerInfo(_ context.Context, maddr address.Address, _ types.TipSetKey) (*lotus.MinerInfo, error) {
	return &lotus.MinerInfo{Owner: address.NewIDAddress(100), Worker: address.NewIDAddress(100), SectorSize: 2048}, nil
}

func (f *fakeChain) StateAccountKey(_ context.Context, a address.Address, _ types.TipSetKey) (address.Address, error) {
	if a == address.NewIDAddress(100) {
		return f.worker, nil
	}
	return address.Undef, errors.New("actor not found")
}

func (f *fakeChain) StateMinerSectorAllocated(_ context.Context, maddr address.Address, n uint64, _ types.TipSetKey) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.allocated[f.id(maddr, n)], nil
}

func (f *fakeChain) id(maddr address.Address, n uint64) store.SectorID {
	m, _ := address.IDOf(maddr)
	return store.SectorID{Miner: m, Number: n}
}

func (f *fakeChain) StateSectorPreCommitInfo(ctx context.Context, maddr address.Address, n uint64, _ types.TipSetKey) (*lotus.SectorPreCommitOnChainInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.onPreCommitInfo != nil {
		f.onPreCommitInfo()
		return nil, ctx.Err()
	}
	pc := f.precommits[f.id(maddr, n)]
	if pc == nil {
		return nil, nil
	}
	cp := *pc
	return &cp, nil
}

func (f *fakeChain) StateSectorGetInfo(_ context.Context, maddr address.Address, n uint64, _ types.TipSetKey) (*lotus.SectorOnChainInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.proven[f.id(maddr, n)] {
		return nil, nil
	}
	return &lotus.SectorOnChainInfo{SectorNumber: n}, nil
}

func (f *fakeChain) StateMinerAvailableBalance(context.Context, address.Address, types.TipSetKey) (types.BigInt, error) {
	return f.avail, nil
}

func (f *fakeChain) StateMinerPreCommitDepositForPower(_ context.Context, _ address.Address, pci lotus.SectorPreCommitInfo, _ types.TipSetKey) (types.BigInt, error) {
	if !abi.RegisteredSealProof(pci.SealProof).Valid() {
		return types.Zero(), fmt.Errorf("unknown seal proof %d", pci.SealProof)
	}
	return f.deposit, nil
}

func (f *fakeChain) StateMinerInitialPledgeForSector(_ context.Context, d types.ChainEpoch, size, _ uint64, _ types.TipSetKey) (types.BigInt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pledgeDurations = append(f.pledgeDurations, d)
	return f.pledge, nil
}

func (f *fakeChain) GasEstimateMessageGas(_ context.Context, msg *types.Message, spec *lotus.MessageSendSpec, _ types.TipSetKey) (*types.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.estimateErr != nil {
		return nil, f.estimateErr
	}
	ids, err := f.members(msg)
	if err != nil {
		return nil, fmt.Errorf("estimating gas used: message execution failed: exit ErrSerialization(21): %v", err)
	}
	if f.estimateSeesPoison && msg.Method == miner.MethodPreCommitSectorBatch2 {
		for _, id := range ids {
			if f.poison[id] {
				return nil, errors.New("estimating gas used: message execution failed: exit ErrIllegalArgument(16)")
			}
		}
	}
	out := *msg
	out.GasLimit = 1_000_000 + 100_000*int64(len(ids))
	out.GasFeeCap = f.baseFee.Mul(types.NewInt(2)).Add(types.NewInt(1000))
	out.GasPremium = types.NewInt(1000)
	if spec != nil && spec.MaxFee.Sign() > 0 {
		if lim := spec.MaxFee.Div(types.NewInt(out.GasLimit)); out.GasFeeCap.Cmp(lim) > 0 {
			out.GasFeeCap = lim
		}
	}
	return &out, nil
}

// members decodes the sectors a miner message names.
func (f *fakeChain) members(msg *types.Message) ([]store.SectorID, error) {
	m, _ := address.IDOf(msg.To)
	p, err := miner.DecodeParams(msg.Method, msg.Params)
	if err != nil {
		return nil, err
	}
	var out []store.SectorID
	switch p := p.(type) {
	case *miner.PreCommitSectorBatchParams2:
		for _, s := range p.Sectors {
			out = append(out, store.SectorID{Miner: m, Number: uint64(s.SectorNumber)})
		}
	case *miner.ProveCommitSectors3Params:
		for _, a := range p.SectorActivations {
			out = append(out, store.SectorID{Miner: m, Number: uint64(a.SectorNumber)})
		}
	}
	return out, nil
}

func (f *fakeChain) MpoolGetNonce(_ context.Context, a address.Address) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nonces[a]
	for f.mpool[a][n] != nil {
		n++
	}
	return n, nil
}

func (f *fakeChain) MpoolPush(_ context.Context, sm *types.SignedMessage) (cid.Cid, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pushes++
	if err := sigs.VerifyMessage(sm); err != nil {
		return cid.Undef, fmt.Errorf("mpool: invalid signature: %w", err)
	}
	var hookErr error
	if f.pushHook != nil {
		accept, err := f.pushHook(sm)
		if !accept {
			return cid.Undef, err
		}
		hookErr = err
	}
	from, n := sm.Message.From, sm.Message.Nonce
	if n < f.nonces[from] {
		return cid.Undef, fmt.Errorf("minimum expected nonce is %d: message nonce too low", f.nonces[from])
	}
	if old := f.mpool[from][n]; old != nil {
		if old.Cid() == sm.Cid() {
			return cid.Undef, fmt.Errorf("message from %s with nonce %d already in mpool", from, n)
		}
		return cid.Undef, errors.New("replace by fee has too low GasPremium")
	}
	if f.mpool[from] == nil {
		f.mpool[from] = map[uint64]*types.SignedMessage{}
	}
	f.mpool[from][n] = sm
	f.known[sm.Cid()] = true
	if hookErr != nil {
		return cid.Undef, hookErr
	}
	return sm.Cid(), nil
}

func (f *fakeChain) StateSearchMsg(_ context.Context, _ types.TipSetKey, c cid.Cid, _ types.ChainEpoch, _ bool) (*types.MsgLookup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ml := f.receipts[c]; ml != nil && ml.Height <= f.height {
		cp := *ml
		return &cp, nil
	}
	if !f.known[c] {
		// Lotus loads the message first and fails for one it never saw.
		return nil, fmt.Errorf("failed to load message: ipld: could not find %s", c)
	}
	return nil, nil
}

// consumeNonce simulates a message sent from outside the pipeline.
func (f *fakeChain) consumeNonce(a address.Address) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.mpool[a], f.nonces[a])
	f.nonces[a]++
}

// mine executes every executable mpool message at the current height,
// in nonce order per sender, then advances the head by one epoch.
func (f *fakeChain) mine() {
	f.mu.Lock()
	defer f.mu.Unlock()
	senders := make([]address.Address, 0, len(f.mpool))
	for a := range f.mpool {
		senders = append(senders, a)
	}
	sort.Slice(senders, func(i, j int) bool { return senders[i].String() < senders[j].String() })
	for _, a := range senders {
		for {
			sm := f.mpool[a][f.nonces[a]]
			if sm == nil {
				break
			}
			delete(f.mpool[a], f.nonces[a])
			f.nonces[a]++
			code, ret := f.apply(&sm.Message)
			f.executed = append(f.executed, sm)
			f.receipts[sm.Cid()] = &types.MsgLookup{Message: sm.Cid(), Receipt: types.MessageReceipt{ExitCode: code, Return: ret}, Height: f.height + 1}
		}
	}
	f.height++
}

func (f *fakeChain) apply(msg *types.Message) (types.ExitCode, []byte) {
	if f.failExit != 0 {
		return f.failExit, nil
	}
	m, _ := address.IDOf(msg.To)
	p, err := miner.DecodeParams(msg.Method, msg.Params)
	if err != nil {
		return types.ErrSerialization, nil
	}
	switch p := p.(type) {
	case *miner.PreCommitSectorBatchParams2:
		for _, s := range p.Sectors {
			id := store.SectorID{Miner: m, Number: uint64(s.SectorNumber)}
			if f.poison[id] || f.allocated[id] || f.height-s.SealRandEpoch > f.params.MaxPreCommitRandomnessLookback {
				return types.ErrIllegalArgument, nil
			}
		}
		need := f.deposit.Mul(types.NewInt(int64(len(p.Sectors))))
		if msg.Value.Add(f.avail).Cmp(need) < 0 {
			return types.ErrInsufficientFunds, nil
		}
		f.avail = f.avail.Add(msg.Value).Sub(need)
		for _, s := range p.Sectors {
			id := store.SectorID{Miner: m, Number: uint64(s.SectorNumber)}
			f.allocated[id] = true
			f.precommits[id] = &lotus.SectorPreCommitOnChainInfo{Info: lotus.SectorPreCommitInfo{
				SealProof: miner.RegisteredSealProof(int64(s.SealProof)), SectorNumber: s.SectorNumber, SealedCID: s.SealedCID, SealRandEpoch: s.SealRandEpoch,
				DealIDs: s.DealIDs, Expiration: s.Expiration, UnsealedCid: s.UnsealedCid}, PreCommitDeposit: f.deposit, PreCommitEpoch: f.height}
		}
		return types.Ok, nil
	case *miner.ProveCommitSectors3Params:
		ret := &miner.BatchReturn{}
		for i, a := range p.SectorActivations {
			id := store.SectorID{Miner: m, Number: uint64(a.SectorNumber)}
			pc := f.precommits[id]
			var code types.ExitCode
			switch {
			case pc == nil:
				code = types.ErrNotFound
			case f.height <= pc.PreCommitEpoch+f.params.PreCommitChallengeDelay:
				code = types.ErrForbidden
			case f.poison[id] || len(p.SectorProofs[i]) == 0:
				code = types.ErrIllegalArgument
			}
			if code != 0 {
				ret.FailCodes = append(ret.FailCodes, miner.FailCode{Idx: uint64(i), Code: code})
				continue
			}
			ret.SuccessCount++
			delete(f.precommits, id)
			f.proven[id] = true
		}
		if ret.SuccessCount == 0 {
			return types.ErrIllegalArgument, nil
		}
		var buf bytes.Buffer
		if err := ret.MarshalCBOR(&buf); err != nil {
			panic(err)
		}
		return types.Ok, buf.Bytes()
	}
	return types.ErrUnhandledMessage, nil
}

// executedAt returns the executed messages of a sender by nonce.
func (f *fakeChain) executedBy(a address.Address) map[uint64][]*types.SignedMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[uint64][]*types.SignedMessage{}
	for _, sm := range f.executed {
		if sm.Message.From == a {
			out[sm.Message.Nonce] = append(out[sm.Message.Nonce], sm)
		}
	}
	return out
}

// fakeSigner signs with a secp256k1 key like an SP's `sealant signer`.
type fakeSigner struct {
	mu          sync.Mutex
	priv        []byte
	unavailable bool
	refuse      error
	calls       int
	gate        chan struct{} // when non-nil, Sign blocks until it is closed
	purposes    []Purpose
}

func (s *fakeSigner) Sign(ctx context.Context, req SignRequest) (types.Signature, error) {
	msg := req.Message
	s.mu.Lock()
	s.calls++
	pur := req.Purpose
	s.purposes = append(s.purposes, pur)
	if pur.Kind == "" || len(pur.Sectors) == 0 {
		s.mu.Unlock()
		return types.Signature{}, errors.New("fake signer: request carries no purpose")
	}
	gate, unavailable, refuse := s.gate, s.unavailable, s.refuse
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return types.Signature{}, fmt.Errorf("fake signer: %w: %w", ErrSignerUnavailable, ctx.Err())
		}
	}
	if unavailable {
		return types.Signature{}, fmt.Errorf("fake hub: tenant %s has no signer connected: %w", req.Tenant, ErrSignerUnavailable)
	}
	if refuse != nil {
		return types.Signature{}, refuse
	}
	data, err := msg.SigningBytes()
	if err != nil {
		return types.Signature{}, err
	}
	return sigs.Sign(types.SigTypeSecp256k1, s.priv, data)
}
