package devnet

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/devnet/state"
)

// BlockMiner is the address in every block's Miner field: the devnet
// produces all blocks itself (there is no election), signing tickets and
// blocks with its own BLS key.
var BlockMiner = address.NewIDAddress(0)

// rawCID identifies devnet objects that Lotus would store as CBOR: a CIDv1
// (raw codec, blake2b-256) of their canonical JSON. Only identity matters.
func rawCID(b []byte) cid.Cid { return state.Root(b) }

// beaconNext is the simulated drand beacon, a hash chain:
//
//	entry(0) = SHA-256("sealant-devnet-beacon" ‖ seed)
//	entry(r) = SHA-256(entry(r−1) ‖ u64_be(r))
//
// with one round per epoch (round = epoch). It is predictable by anyone who
// knows the seed — fine for a devnet, useless for anything else.
func beaconNext(prev []byte, round uint64) []byte {
	h := sha256.New()
	h.Write(prev)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], round)
	h.Write(b[:])
	return h.Sum(nil)
}

func beaconGenesis(seed [32]byte) []byte {
	h := sha256.Sum256(append([]byte("sealant-devnet-beacon"), seed[:]...))
	return h[:]
}

// ticketFor signs the ticket of epoch h: the VRF output is the devnet key's
// BLS signature over DrawRandomness(parent ticket, TicketProduction, h,
// CBOR(BlockMiner)), as a Lotus miner signs its ticket VRF input.
func ticketFor(key []byte, parentVRF []byte, h int64) ([]byte, error) {
	ent, err := rand.SealEntropyForID(0)
	if err != nil {
		return nil, err
	}
	in := rand.DrawRandomness(parentVRF, rand.TagTicketProduction, h, ent)
	sig, err := sigs.Sign(types.SigTypeBLS, key, in[:])
	if err != nil {
		return nil, fmt.Errorf("devnet: sign ticket: %w", err)
	}
	return sig.Data, nil
}

// signBlock sets BlockSig (BLS over the CID of the unsigned header) and
// returns the block CID (over the signed header).
func signBlock(key []byte, hdr *lotus.BlockHeader) (cid.Cid, []byte, error) {
	hdr.BlockSig = nil
	unsigned, err := json.Marshal(hdr)
	if err != nil {
		return cid.Undef, nil, err
	}
	sig, err := sigs.Sign(types.SigTypeBLS, key, rawCID(unsigned).Bytes())
	if err != nil {
		return cid.Undef, nil, fmt.Errorf("devnet: sign block: %w", err)
	}
	hdr.BlockSig = &sig
	signed, err := json.Marshal(hdr)
	if err != nil {
		return cid.Undef, nil, err
	}
	return rawCID(signed), signed, nil
}

// chainEnv serves randomness to the actors from the in-memory headers. It is
// used with n.mu held.
type chainEnv struct{ n *Node }

// TicketRandomness draws from the ticket of the block at epoch.
func (e chainEnv) TicketRandomness(tag rand.DomainSeparationTag, epoch int64, entropy []byte) ([32]byte, error) {
	hdr, err := e.n.headerAt(epoch)
	if err != nil {
		return [32]byte{}, err
	}
	return rand.DrawRandomness(hdr.Ticket.VRFProof, tag, epoch, entropy), nil
}

// BeaconRandomness draws from the beacon entry of the block at epoch.
func (e chainEnv) BeaconRandomness(tag rand.DomainSeparationTag, epoch int64, entropy []byte) ([32]byte, error) {
	hdr, err := e.n.headerAt(epoch)
	if err != nil {
		return [32]byte{}, err
	}
	return rand.DrawRandomness(hdr.BeaconEntries[0].Data, tag, epoch, entropy), nil
}

func (n *Node) headerAt(epoch int64) (*lotus.BlockHeader, error) {
	if epoch < 0 || epoch >= int64(len(n.headers)) {
		return nil, fmt.Errorf("devnet: no tipset at epoch %d (head %d)", epoch, len(n.headers)-1)
	}
	return n.headers[epoch], nil
}

// genesisBlock builds block 0.
func genesisBlock(r *resolved, st *state.State, now time.Time) (*lotus.BlockHeader, cid.Cid, []byte, []byte, error) {
	enc, err := st.Encode()
	if err != nil {
		return nil, cid.Undef, nil, nil, err
	}
	vrf, err := ticketFor(r.DevnetKey, r.Seed[:], 0)
	if err != nil {
		return nil, cid.Undef, nil, nil, err
	}
	empty, _ := json.Marshal([]any{})
	hdr := &lotus.BlockHeader{
		Miner: BlockMiner, Ticket: &lotus.Ticket{VRFProof: vrf},
		ElectionProof: &lotus.ElectionProof{WinCount: 1, VRFProof: vrf},
		BeaconEntries: []lotus.BeaconEntry{{Round: 0, Data: beaconGenesis(r.Seed)}},
		WinPoStProof:  []lotus.PoStProof{}, Parents: []cid.Cid{}, ParentWeight: types.Zero(), Height: 0,
		ParentStateRoot: state.Root(enc), ParentMessageReceipts: rawCID(empty), Messages: rawCID(empty),
		Timestamp: uint64(now.Unix()), ParentBaseFee: r.Policy.BaseFee,
	}
	c, js, err := signBlock(r.DevnetKey, hdr)
	return hdr, c, js, enc, err
}

// produce builds, executes and stores the block of the next epoch.
//
// Execution follows Lotus: the messages included in the block at height h
// are applied with epoch h once the block exists; their receipts go into
// block h+1 (ParentMessageReceipts) and StateWaitMsg reports them at h+1.
// State queries at tipset h read the state before h's messages (its
// ParentStateRoot).
func (n *Node) produce(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	h := int64(len(n.headers))
	parent := n.headers[h-1]
	vrf, err := ticketFor(n.gen.DevnetKey, parent.Ticket.VRFProof, h)
	if err != nil {
		return err
	}
	postEnc, err := n.post.Encode()
	if err != nil {
		return err
	}
	msgs := n.pool.selectFor(n.post)
	rawMsgs := make([][]byte, len(msgs))
	cids := make([]cid.Cid, len(msgs))
	for i, m := range msgs {
		rawMsgs[i], cids[i] = m.raw, m.cid
	}
	msgsJSON, _ := json.Marshal(rawMsgs)
	rcptJSON, _ := json.Marshal(n.pendingReceipts)
	hdr := &lotus.BlockHeader{
		Miner: BlockMiner, Ticket: &lotus.Ticket{VRFProof: vrf},
		ElectionProof: &lotus.ElectionProof{WinCount: 1, VRFProof: vrf},
		BeaconEntries: []lotus.BeaconEntry{{Round: uint64(h), Data: beaconNext(parent.BeaconEntries[0].Data, uint64(h))}},
		WinPoStProof:  []lotus.PoStProof{}, Parents: []cid.Cid{n.tsCids[h-1]}, ParentWeight: types.NewInt(h),
		Height: types.ChainEpoch(h), ParentStateRoot: state.Root(postEnc), ParentMessageReceipts: rawCID(rcptJSON),
		Messages: rawCID(msgsJSON), Timestamp: uint64(n.now().Unix()), ParentBaseFee: n.policy.BaseFee,
	}
	bc, hdrJSON, err := signBlock(n.gen.DevnetKey, hdr)
	if err != nil {
		return err
	}

	// Execute the new block's messages on a copy of the state.
	n.headers = append(n.headers, hdr)
	n.tsCids = append(n.tsCids, bc)
	newPost := n.post.Clone()
	vm := &state.VM{Policy: n.policy, Env: chainEnv{n}, Verifier: n.verifier, Epoch: h}
	receipts := make([]types.MessageReceipt, len(msgs))
	for i, m := range msgs {
		res := vm.Apply(newPost, &m.sm.Message, m.size)
		receipts[i] = res.Receipt
		if res.Error != "" {
			n.log.Debug("message failed", "cid", m.cid, "exit", res.Receipt.ExitCode, "err", res.Error)
		}
	}
	vm.EndOfEpoch(newPost)
	newPostEnc, err := newPost.Encode()
	if err != nil {
		n.headers, n.tsCids = n.headers[:h], n.tsCids[:h]
		return err
	}
	newRcptJSON, _ := json.Marshal(receipts)
	oldPool := n.pool.prune(newPost)
	prune := int64(0)
	if h > int64(n.cfg.StateRetention) {
		prune = h - int64(n.cfg.StateRetention)
	}
	row := tipsetRow{Height: h, Header: hdrJSON, Msgs: msgsJSON, Receipts: rcptJSON, State: postEnc}
	if err := n.db.commit(ctx, row, newPostEnc, newRcptJSON, oldPool, prune); err != nil {
		n.headers, n.tsCids = n.headers[:h], n.tsCids[:h]
		return err
	}
	// Receipts of the parent's messages are now visible.
	for i, m := range n.blockMsgs[h-1] {
		n.addLookup(m, n.pendingReceipts[i], h)
	}
	n.blockMsgs = append(n.blockMsgs, msgs)
	n.cacheState(h, n.post)
	n.post, n.pendingReceipts = newPost, receipts
	n.executed += len(msgs)
	n.notifyHead()
	return nil
}

func (n *Node) addLookup(m *msgEntry, r types.MessageReceipt, h int64) {
	l := &lookup{msg: m.cid, method: m.sm.Message.Method, receipt: r, height: h}
	n.lookups[m.cid] = l
	n.byNonce[nonceKey(&m.sm.Message)] = l
	if u := m.sm.Message.Cid(); !u.Equals(m.cid) {
		n.lookups[u] = l
	}
}

// senderNonce identifies a message slot: a replacement (same From and
// Nonce, higher premium) takes the slot of the message it replaces.
type senderNonce struct {
	from  address.Address
	nonce uint64
}

func nonceKey(m *types.Message) senderNonce { return senderNonce{m.From, m.Nonce} }

// lookup is where an executed message's receipt is.
type lookup struct {
	msg     cid.Cid
	method  types.MethodNum
	receipt types.MessageReceipt
	height  int64 // the tipset carrying the receipt (inclusion + 1)
}

// cacheState keeps recent parent states in memory (older ones are read back
// from SQLite while retained).
func (n *Node) cacheState(h int64, st *state.State) {
	n.states[h] = st
	delete(n.states, h-stateCacheSize)
}

const stateCacheSize = 64

// stateAt returns the state to query at tipset h. Callers hold n.mu (read).
func (n *Node) stateAt(ctx context.Context, h int64) (*state.State, error) {
	if st, ok := n.states[h]; ok {
		return st, nil
	}
	b, err := n.db.stateAt(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("devnet: state at %d: %w", h, err)
	}
	if b == nil {
		return nil, fmt.Errorf("devnet: state at epoch %d is no longer retained (retention %d epochs)", h, n.cfg.StateRetention)
	}
	return state.Decode(b)
}

// notifyHead wakes waiters and ChainNotify subscribers. Callers hold n.mu.
func (n *Node) notifyHead() {
	close(n.headCh)
	n.headCh = make(chan struct{})
	ts := n.tipsetLocked(int64(len(n.headers) - 1))
	n.setHeadJSON(ts)
	for id, ch := range n.subs {
		select {
		case ch <- []lotus.HeadChange{{Type: lotus.HCApply, Val: ts}}:
		default:
			// A subscriber that fell 64 heads behind is dropped (its
			// stream closes; Lotus clients resubscribe).
			close(ch)
			delete(n.subs, id)
		}
	}
}

func (n *Node) setHeadJSON(ts *lotus.TipSet) {
	b, err := json.Marshal(ts)
	if err != nil {
		n.log.Error("encode head", "err", err)
		return
	}
	n.headJSON = b
}

func (n *Node) tipsetLocked(h int64) *lotus.TipSet {
	return &lotus.TipSet{Cids: []cid.Cid{n.tsCids[h]}, Blocks: []lotus.BlockHeader{*n.headers[h]}, Height: types.ChainEpoch(h)}
}
