package wdpost_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/delivery"
	"github.com/sealant/sealant/devnet"
	"github.com/sealant/sealant/manager/wdpost"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/c2"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/porep"
)

// chainHarness drives a devnet block by block (no free-running clock), so
// every window is hit deterministically.
type chainHarness struct {
	t     *testing.T
	ctx   context.Context
	node  *devnet.Node
	api   *lotus.Client
	maddr address.Address
	mid   uint64
	key   sigs.KeyInfo
	kind  types.SigType
	from  address.Address
}

func (h *chainHarness) step(n int) {
	h.t.Helper()
	for range n {
		if err := h.node.Step(h.ctx); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *chainHarness) head() *lotus.TipSet {
	h.t.Helper()
	ts, err := h.api.ChainHead(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	return ts
}

func (h *chainHarness) Sign(_ context.Context, _ string, from address.Address, msg *types.Message) (types.Signature, error) {
	if from != h.from {
		h.t.Fatalf("asked to sign for %s, the test holds %s", from, h.from)
	}
	sm, err := sigs.SignMessage(h.kind, h.key.PrivateKey, msg)
	if err != nil {
		return types.Signature{}, err
	}
	return sm.Signature, nil
}

// send signs, pushes, mines two blocks and returns the receipt.
func (h *chainHarness) send(method types.MethodNum, p miner.Params, value types.BigInt) *types.MsgLookup {
	h.t.Helper()
	params, err := miner.EncodeParams(p)
	if err != nil {
		h.t.Fatal(err)
	}
	nonce, err := h.api.MpoolGetNonce(h.ctx, h.from)
	if err != nil {
		h.t.Fatal(err)
	}
	msg, err := h.api.GasEstimateMessageGas(h.ctx, &types.Message{To: h.maddr, From: h.from, Nonce: nonce, Value: value,
		Method: method, Params: params}, nil, types.EmptyTSK)
	if err != nil {
		h.t.Fatalf("estimate method %d: %v", method, err)
	}
	sig, _ := h.Sign(h.ctx, "", h.from, msg)
	c, err := h.api.MpoolPush(h.ctx, &types.SignedMessage{Message: *msg, Signature: sig})
	if err != nil {
		h.t.Fatal(err)
	}
	return h.receipt(c)
}

func (h *chainHarness) receipt(c cid.Cid) *types.MsgLookup {
	h.t.Helper()
	for range 10 {
		h.step(1)
		ml, err := h.api.StateSearchMsg(h.ctx, types.EmptyTSK, c, lotus.LookbackNoLimit, true)
		if err != nil {
			h.t.Fatal(err)
		}
		if ml != nil {
			return ml
		}
	}
	h.t.Fatalf("message %s not executed", c)
	return nil
}

// stepToDeadline mines until dl is the current deadline and the head is
// past its open epoch.
func (h *chainHarness) stepToDeadline(dl uint64) *lotus.DeadlineInfo {
	h.t.Helper()
	for range 3000 {
		di, err := h.api.StateMinerProvingDeadline(h.ctx, h.maddr, types.EmptyTSK)
		if err != nil {
			h.t.Fatal(err)
		}
		if di.Index == dl && di.CurrentEpoch > di.Open+2 && di.CurrentEpoch < di.Close-5 {
			return di
		}
		h.step(1)
	}
	h.t.Fatalf("deadline %d never came", dl)
	return nil
}

// stepPast mines until deadline dl is no longer the current one.
func (h *chainHarness) stepPast(dl uint64) {
	h.t.Helper()
	for range 3000 {
		di, err := h.api.StateMinerProvingDeadline(h.ctx, h.maddr, types.EmptyTSK)
		if err != nil {
			h.t.Fatal(err)
		}
		if di.Index != dl {
			return
		}
		h.step(1)
	}
	h.t.Fatalf("deadline %d never closed", dl)
}

func (h *chainHarness) partition(dl uint64) lotus.Partition {
	h.t.Helper()
	ps, err := h.api.StateMinerPartitions(h.ctx, h.maddr, dl, types.EmptyTSK)
	if err != nil || len(ps) != 1 {
		h.t.Fatalf("partitions of %d: %+v %v", dl, ps, err)
	}
	return ps[0]
}

// TestDevnetBothArchitectures seals a real 2KiB sector on the devnet, then
// (Architecture 2) delivers it to a receiver that verifies it against the
// devnet's on-chain CommR and accepts it, and (Architecture 1) proves the
// accepted store's copy with this package: a WindowPoSt accepted by the
// chain, a fault declared by skipping a sector whose files are gone, its
// recovery declared once the files are back, and a clean proof again.
func TestDevnetBothArchitectures(t *testing.T) {
	if testing.Short() {
		t.Skip("seals a 2KiB sector and runs a devnet for two proving periods")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	g := devnet.DefaultGenesis(1)
	g.Policy.PreCommitChallengeDelay = 10
	g.Policy.MaxPreCommitRandomnessLookback = 200
	g.Policy.MaxProveCommitDuration = 300
	g.Policy.ExpiredPreCommitCleanUpDelay = 100000
	if err := devnet.Init(ctx, dir, g); err != nil {
		t.Fatal(err)
	}
	node, err := devnet.New(devnet.Config{Dir: dir, Listen: "127.0.0.1:0", Ticks: make(chan time.Time)})
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	cl, err := lotus.New(lotus.Config{APIInfo: node.APIInfo(), Retry: lotus.RetryPolicy{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	h := &chainHarness{t: t, ctx: ctx, node: node, api: cl}
	if h.maddr, err = address.Parse(node.Miners()["sp1"]); err != nil {
		t.Fatal(err)
	}
	h.mid, _ = address.IDOf(h.maddr)
	ki, err := devnet.LoadOwnerKey(dir, "sp1-worker")
	if err != nil {
		t.Fatal(err)
	}
	h.key = ki
	if h.kind, err = ki.SigType(); err != nil {
		t.Fatal(err)
	}
	if h.from, err = ki.Address(); err != nil {
		t.Fatal(err)
	}
	entropy, _ := rand.SealEntropyForID(h.mid)

	// Seal sector 1 with a chain ticket, pre-commit, prove-commit.
	h.step(5)
	hd := h.head()
	ticketEpoch := hd.Height - 1
	ticket, err := cl.StateGetRandomnessFromTickets(ctx, rand.TagSealRandomness, ticketEpoch, entropy, hd.Key())
	if err != nil {
		t.Fatal(err)
	}
	sdir := t.TempDir()
	rec, err := porep.Seal(ctx, porep.SealRequest{Proof: abi.StackedDrg2KiBV1_1, Miner: h.mid, Sector: 1, Ticket: ticket,
		Dir: sdir, ParentCacheDir: t.TempDir(), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	commR := miner.SealedCID(rec.CommR)
	expiration := hd.Height + 600_000
	dep, err := cl.StateMinerPreCommitDepositForPower(ctx, h.maddr, lotus.SectorPreCommitInfo{SealProof: 5, SealedCID: commR}, types.EmptyTSK)
	if err != nil {
		t.Fatal(err)
	}
	ml := h.send(miner.MethodPreCommitSectorBatch2, &miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{{
		SealProof: miner.RegisteredSealProofStackedDrg2KiBV1_1, SectorNumber: 1, SealedCID: commR, SealRandEpoch: ticketEpoch,
		Expiration: expiration}}}, dep)
	if ml.Receipt.ExitCode != types.Ok {
		t.Fatalf("precommit exit %v", ml.Receipt.ExitCode)
	}
	preCommitMsg := ml.Message
	pc, err := cl.StateSectorPreCommitInfo(ctx, h.maddr, 1, types.EmptyTSK)
	if err != nil || pc == nil {
		t.Fatalf("precommit info %v %v", pc, err)
	}
	seedEpoch := pc.PreCommitEpoch + 10
	for h.head().Height <= seedEpoch {
		h.step(1)
	}
	seed, err := cl.StateGetRandomnessFromBeacon(ctx, rand.TagInteractiveSealChallengeSeed, seedEpoch, entropy, types.EmptyTSK)
	if err != nil {
		t.Fatal(err)
	}
	out, err := porep.C1(ctx, sdir, seed)
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := json.Marshal(out)
	proof, err := c2.Devnet.ProveC2(ctx, c1, h.mid, 1)
	if err != nil {
		t.Fatal(err)
	}
	ip, err := cl.StateMinerInitialPledgeForSector(ctx, expiration-h.head().Height, 2048, 0, types.EmptyTSK)
	if err != nil {
		t.Fatal(err)
	}
	ml = h.send(miner.MethodProveCommitSectors3, &miner.ProveCommitSectors3Params{
		SectorActivations: []miner.SectorActivationManifest{{SectorNumber: 1}}, SectorProofs: [][]byte{proof},
		RequireActivationSuccess: true}, ip)
	if ml.Receipt.ExitCode != types.Ok {
		t.Fatalf("prove exit %v", ml.Receipt.ExitCode)
	}

	// Architecture 2: deliver to the SP's receiver, which checks the
	// devnet's on-chain CommR through the Lotus API.
	id := api.SectorID{Miner: h.mid, Number: 1}
	store := t.TempDir()
	secret := []byte("devnet-receiver-secret-0123456789abcdef")
	r, err := delivery.NewReceiver(delivery.ReceiverConfig{Root: t.TempDir(), Store: store, Secret: secret,
		Miners: []uint64{h.mid}, Chain: cl})
	if err != nil {
		t.Fatal(err)
	}
	go r.Run(ctx)
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	tok, err := delivery.IssueProviderToken(secret, "provider", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	files, err := delivery.DescribeFiles(ctx, id, rec.Proof, porep.SealedPath(sdir), porep.CachePath(sdir))
	if err != nil {
		t.Fatal(err)
	}
	md := api.SectorMetadata{ID: id, ProofType: int64(rec.Proof), CommR: commR.String(), CommD: commp.PieceCID(rec.CommD).String(),
		CommC: api.Hex32(rec.CommC), CommRLast: api.Hex32(rec.CommRLast), Ticket: api.Ticket{Ticket: api.Hex32(ticket), Epoch: int64(ticketEpoch)},
		Seed: api.Seed{Seed: api.Hex32(seed), Epoch: int64(seedEpoch)}, PreCommitMessage: preCommitMsg.String(),
		ProveCommitMessage: ml.Message.String(), Expiration: int64(expiration), Files: delivery.SectorFiles(files)}
	client := &delivery.Client{PollInterval: 10 * time.Millisecond}
	ep := delivery.Endpoint{URL: srv.URL, Token: tok}
	if _, err := client.PushMetadata(ctx, ep, md); err != nil {
		t.Fatal(err)
	}
	if err := client.Transfer(ctx, api.DeliveryTarget{Architecture: api.ArchSPProves, ReceiverURL: srv.URL, Token: tok}, id, files); err != nil {
		t.Fatalf("architecture 2 delivery: %v", err)
	}
	st, err := client.Status(ctx, ep, id)
	if err != nil || st.State != api.DeliveryAccepted {
		t.Fatalf("receiver state %+v %v", st, err)
	}
	for _, c := range st.Checks {
		if c.Name == delivery.CheckChain {
			t.Logf("architecture 2: accepted, %s: %s", c.Name, c.Detail)
		}
	}

	// Architecture 1: prove the stored copy.
	svc, err := wdpost.New(wdpost.Config{Chain: cl, Signer: h, Prover: wdpost.DevnetProver{}},
		wdpost.Tenant{Name: "sp1", Miner: h.mid, Store: wdpost.LayoutStore{Root: store}})
	if err != nil {
		t.Fatal(err)
	}
	var dl uint64 = 1 << 62
	for d := uint64(0); d < 48 && dl == 1<<62; d++ {
		ps, err := cl.StateMinerPartitions(ctx, h.maddr, d, types.EmptyTSK)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) > 0 {
			dl = d
		}
	}
	if dl == 1<<62 {
		t.Fatal("sector 1 is in no deadline")
	}
	submit := func(wantSkipped []uint64) {
		t.Helper()
		n := len(svc.Submissions())
		h.stepToDeadline(dl)
		if err := svc.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		subs := svc.Submissions()
		if len(subs) != n+1 {
			t.Fatalf("%d submissions after the tick, want %d", len(subs), n+1)
		}
		s := subs[n]
		if !slices.Equal(s.Skipped, wantSkipped) {
			t.Fatalf("skipped %v, want %v", s.Skipped, wantSkipped)
		}
		ml := h.receipt(s.Message)
		if ml.Receipt.ExitCode != types.Ok {
			t.Fatalf("SubmitWindowedPoSt exit %v", ml.Receipt.ExitCode)
		}
		// A second tick in the same deadline sends nothing.
		if err := svc.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if len(svc.Submissions()) != n+1 {
			t.Fatal("second submission for the same deadline")
		}
		t.Logf("deadline %d: SubmitWindowedPoSt %s accepted (proven %v, skipped %v)", dl, s.Message, s.Proven, s.Skipped)
	}
	submit(nil)
	if p := h.partition(dl); p.FaultySectors.Count() != 0 {
		t.Fatalf("faulty after a good proof: %+v", p)
	}

	// The stored p_aux goes missing: next period nothing of the deadline
	// can be proven, so nothing is sent (the actor refuses a proof of only
	// skipped sectors) and the partition turns faulty when it closes.
	paux := filepath.Join(store, "cache", id.String(), "p_aux")
	if err := os.Rename(paux, paux+".away"); err != nil {
		t.Fatal(err)
	}
	h.stepPast(dl)
	h.stepToDeadline(dl)
	n := len(svc.Submissions())
	if err := svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if len(svc.Submissions()) != n {
		t.Fatal("submitted a proof for a deadline without provable sectors")
	}
	h.stepPast(dl)
	if p := h.partition(dl); p.FaultySectors.Count() != 1 {
		t.Fatalf("unproven sector not faulty: %+v", p)
	}

	// Files back: the recovery is declared ahead of the deadline's fault
	// cutoff, then the next proof covers the sector again.
	if err := os.Rename(paux+".away", paux); err != nil {
		t.Fatal(err)
	}
	for range 3000 {
		if err := svc.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if len(svc.Recoveries()) > 0 {
			break
		}
		h.step(1)
	}
	recs := svc.Recoveries()
	if len(recs) != 1 || !slices.Equal(recs[0].Sectors, []uint64{1}) || recs[0].Deadline != dl {
		t.Fatalf("recoveries %+v", recs)
	}
	if ml := h.receipt(recs[0].Message); ml.Receipt.ExitCode != types.Ok {
		t.Fatalf("DeclareFaultsRecovered exit %v", ml.Receipt.ExitCode)
	}
	if p := h.partition(dl); p.RecoveringSectors.Count() != 1 {
		t.Fatalf("not recovering: %+v", p)
	}
	submit(nil)
	if p := h.partition(dl); p.FaultySectors.Count() != 0 || p.RecoveringSectors.Count() != 0 {
		t.Fatalf("after the recovery proof: %+v", p)
	}
}
