package commit

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/devnet"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/c2"
	"github.com/sealant/sealant/proofs/porep"
	"github.com/sealant/sealant/store"
	"github.com/sealant/sealant/store/storetest"
)

// TestDevnetEndToEnd runs the pipeline against Sealant's devnet over the
// Lotus JSON-RPC API (the real *lotus.Client), with blocks stepped by the
// test:
//
//   - an outside message from the worker key takes nonce 0 and pre-commits
//     one of the store's sector numbers with another CommR: the precheck
//     fails that sector before sending, and the batch uses nonce 1;
//   - three sectors (one really sealed, two with made-up commitments) land in
//     one PreCommitSectorBatch2 with the deposit as Value;
//   - after the seed, the sealed sector's devnet proof and a garbage proof go
//     in one ProveCommitSectors3: the sealed sector activates, the other is
//     failed from the receipt's FailCodes.
//
// It seals a 2KiB sector, so it is skipped with -short.
func TestDevnetEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("seals a 2KiB sector on an in-process devnet")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h := newDevnetHarness(ctx, t)
	st, api, maddr, mid, worker, signer, clock, log := h.st, h.api, h.maddr, h.mid, h.worker, h.signer, h.clock, h.log
	step := func(n int) { t.Helper(); h.step(ctx, t, n) }
	_, err := st.CreateTenant(ctx, store.Tenant{ID: "sp1", Miner: mid, ProofType: abi.StackedDrg2KiBV1_1, Weight: 1,
		ExpirationDays: 540, Senders: []string{worker.String()},
		Batching: store.Batching{PreCommitBatchSize: 4, PreCommitMaxWait: time.Hour,
			ProveCommitMode: store.ProveAggregate, ProveCommitBatchSize: 2, ProveCommitMaxWait: time.Hour}}, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{Params: DevnetParams(), Confidence: 1, MaxMessageBytes: devnet.DefaultMaxMessageSize, Now: clock.Now},
		st, api, signer, log)
	if err != nil {
		t.Fatal(err)
	}

	// Four sectors; sector 0 is really sealed with a chain ticket.
	step(5)
	head, err := api.ChainHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ticketEpoch := head.Height - 1
	entropy, _ := rand.SealEntropyForID(mid)
	ticket, err := api.StateGetRandomnessFromTickets(ctx, rand.TagSealRandomness, ticketEpoch, entropy, head.Key())
	if err != nil {
		t.Fatal(err)
	}
	var ids []store.SectorID
	workers := map[store.SectorID]string{}
	for i := range 4 {
		w := "w/t" + string(rune('a'+i))
		a, err := st.AllocateSector(ctx, w, store.AllocateFilter{}, clock.Now(), store.AllocatePolicy{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.Sector.ID)
		workers[a.Sector.ID] = w
	}
	sdir := t.TempDir()
	rec, err := porep.Seal(ctx, porep.SealRequest{Proof: abi.StackedDrg2KiBV1_1, Miner: mid, Sector: ids[0].Number, Ticket: ticket,
		Dir: sdir, ParentCacheDir: t.TempDir(), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	commR := [][]byte{rec.CommR[:], comm(1, 0x07), comm(2, 0x09), comm(3, 0x0b)}
	for i, id := range ids {
		tk := storetest.Ticket(t, st, id, workers[id], store.Ticket{Value: ticket[:], Epoch: int64(ticketEpoch)}, clock.Now())
		storetest.PreCommit(t, st, id, workers[id], store.Commitments{
			PreCommitInfo: store.PreCommitInfo{CommR: commR[i], CommD: rec.CommD[:], Ticket: tk}}, clock.Now())
	}

	// Someone else uses the worker key: nonce 0, and sector 3's number.
	dep, err := api.StateMinerPreCommitDepositForPower(ctx, maddr, lotus.SectorPreCommitInfo{SealProof: 5, SealedCID: miner.SealedCID(fr32(0x05))}, types.EmptyTSK)
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := Expiration(DevnetParams(), head.Height, ticketEpoch, 540)
	outside, _ := miner.EncodeParams(&miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{{
		SealProof: miner.RegisteredSealProofStackedDrg2KiBV1_1, SectorNumber: miner.SectorNumber(ids[3].Number), SealedCID: miner.SealedCID(fr32(0x05)),
		SealRandEpoch: ticketEpoch, DealIDs: []miner.DealID{}, Expiration: exp}}})
	om, err := api.GasEstimateMessageGas(ctx, newMessage(worker, mid, miner.MethodPreCommitSectorBatch2, outside, dep), nil, types.EmptyTSK)
	if err != nil {
		t.Fatal(err)
	}
	osig, _ := signer.Sign(ctx, SignRequest{From: worker, Message: om})
	if _, err := api.MpoolPush(ctx, &types.SignedMessage{Message: *om, Signature: osig}); err != nil {
		t.Fatal(err)
	}
	step(2)

	run := func(done func() bool) {
		t.Helper()
		for range 40 {
			if err := p.Tick(ctx); err != nil {
				t.Fatalf("tick: %v", err)
			}
			p.waitSigning()
			if done() {
				return
			}
			step(1)
		}
		t.Fatal("pipeline did not finish")
	}
	landed := func(id store.SectorID, kind store.BatchKind) bool {
		s, err := st.GetSector(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		bid := s.PreCommitBatch
		if kind == store.BatchProveCommit {
			bid = s.ProveCommitBatch
		}
		if bid == 0 {
			return false
		}
		b, err := st.GetBatch(ctx, bid)
		return err == nil && b.State == store.BatchLanded
	}
	run(func() bool {
		s3, _ := st.GetSector(ctx, ids[3])
		return landed(ids[0], store.BatchPreCommit) && landed(ids[1], store.BatchPreCommit) && landed(ids[2], store.BatchPreCommit) &&
			s3.Phase == store.PhaseAborted
	})
	for _, id := range ids[:3] {
		if !landed(id, store.BatchPreCommit) {
			t.Fatalf("sector %s not pre-committed", id)
		}
		pc, err := api.StateSectorPreCommitInfo(ctx, maddr, id.Number, types.EmptyTSK)
		if err != nil || pc == nil {
			t.Fatalf("sector %s not on chain: %v", id, err)
		}
	}
	if s, _ := st.GetSector(ctx, ids[3]); s.Phase != store.PhaseAborted || !strings.Contains(s.AbortReason, "already allocated") {
		t.Fatalf("sector with a taken number: %s %q", s.Phase, s.AbortReason)
	}
	s0, _ := st.GetSector(ctx, ids[0])
	b0, _ := st.GetBatch(ctx, s0.PreCommitBatch)
	if b0.Message.Nonce != 1 || len(b0.Sectors) != 3 {
		t.Fatalf("pre-commit batch %+v nonce %d", b0.Sectors, b0.Message.Nonce)
	}

	// Seed, C1, devnet proof for sector 0; garbage for sector 1.
	pc, _ := api.StateSectorPreCommitInfo(ctx, maddr, ids[0].Number, types.EmptyTSK)
	seedEpoch := pc.PreCommitEpoch + DevnetParams().PreCommitChallengeDelay
	for {
		hd, _ := api.ChainHead(ctx)
		if hd.Height > seedEpoch {
			break
		}
		step(1)
	}
	hd, _ := api.ChainHead(ctx)
	seed, err := api.StateGetRandomnessFromBeacon(ctx, rand.TagInteractiveSealChallengeSeed, seedEpoch, entropy, hd.Key())
	if err != nil {
		t.Fatal(err)
	}
	out, err := porep.C1(ctx, sdir, seed)
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := json.Marshal(out)
	proof, err := c2.Devnet.ProveC2(ctx, c1, mid, ids[0].Number)
	if err != nil {
		t.Fatal(err)
	}
	for i, pr := range [][]byte{proof, []byte("not a proof")} {
		// The seed the manager draws and stores with the proof.
		storetest.Prove(t, st, ids[i], workers[ids[i]], store.ProofSubmission{Proof: pr, Seed: &store.Ticket{Value: seed[:], Epoch: int64(seedEpoch)}}, clock.Now())
	}
	run(func() bool { return landed(ids[0], store.BatchProveCommit) })
	si, err := api.StateSectorGetInfo(ctx, maddr, ids[0].Number, types.EmptyTSK)
	if err != nil || si == nil {
		t.Fatalf("sealed sector not active on chain: %v", err)
	}
	if s, _ := st.GetSector(ctx, ids[1]); s.Phase != store.PhaseAborted || !strings.Contains(s.AbortReason, "did not activate") {
		t.Fatalf("sector with a bad proof: %s %q", s.Phase, s.AbortReason)
	}
	if s, _ := st.GetSector(ctx, ids[2]); s.Phase != store.PhaseActive || s.ProveCommitBatch != 0 {
		t.Fatalf("sector without a proof: %+v", s)
	}
	t.Logf("devnet proof %d bytes; pre-commit nonce %d; head %d", len(proof), b0.Message.Nonce, hd.Height)
}

func fr32(b byte) [32]byte {
	var x [32]byte
	for i := range x {
		x[i] = b
	}
	x[31] &= 0x0f
	return x
}
