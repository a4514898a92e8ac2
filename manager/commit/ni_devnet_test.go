package commit

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

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

// TestDevnetNI runs an NI-PoRep tenant's batch against the devnet: three
// NI sectors really sealed with a chain ticket, one of them with a tampered
// proof, go to ProveCommitSectorsNI with no PreCommit. Gas estimation
// executes the message and fails it (the aggregate does not verify), so the
// batch is bisected before a nonce is spent until the bad sector is alone:
// the two good sectors activate in the tenant's proving deadline, the bad
// one is failed. Every message is method 36 and no PreCommit is sent.
func TestDevnetNI(t *testing.T) {
	if testing.Short() {
		t.Skip("seals 2KiB sectors on an in-process devnet")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h := newDevnetHarness(ctx, t)
	st, api, maddr, mid, worker, signer, clock, log := h.st, h.api, h.maddr, h.mid, h.worker, h.signer, h.clock, h.log
	step := func(n int) { t.Helper(); h.step(ctx, t, n) }
	// Per-sector mode: an NI tenant still batches (PolicyFor).
	_, err := st.CreateTenant(ctx, store.Tenant{ID: "sp1", Miner: mid, ProofType: abi.StackedDrg2KiBV1_2_Feat_NiPoRep, Weight: 1,
		ExpirationDays: 540, Senders: []string{worker.String()},
		Batching: store.Batching{PreCommitBatchSize: 4, ProveCommitMode: store.ProvePerSector, ProveCommitBatchSize: 3, ProveCommitMaxWait: time.Hour}}, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{Params: DevnetParams(), Confidence: 1, MaxMessageBytes: devnet.DefaultMaxMessageSize, Now: clock.Now},
		st, api, signer, log)
	if err != nil {
		t.Fatal(err)
	}
	step(5)
	head, _ := api.ChainHead(ctx)
	ticketEpoch := head.Height - 1
	entropy, _ := rand.SealEntropyForID(mid)
	ticket, err := api.StateGetRandomnessFromTickets(ctx, rand.TagSealRandomness, ticketEpoch, entropy, head.Key())
	if err != nil {
		t.Fatal(err)
	}
	var ids []store.SectorID
	pc := t.TempDir()
	for i := range 3 {
		w := "w/t" + string(rune('a'+i))
		a, err := st.AllocateSector(ctx, w, store.AllocateFilter{}, clock.Now(), store.AllocatePolicy{})
		if err != nil {
			t.Fatal(err)
		}
		id := a.Sector.ID
		ids = append(ids, id)
		if a.Sector.ProofType != abi.StackedDrg2KiBV1_2_Feat_NiPoRep {
			t.Fatalf("allocated proof %v", a.Sector.ProofType)
		}
		sdir := t.TempDir()
		rec, err := porep.Seal(ctx, porep.SealRequest{Proof: a.Sector.ProofType, Miner: mid, Sector: id.Number, Ticket: ticket,
			Dir: sdir, ParentCacheDir: pc, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		out, err := porep.C1(ctx, sdir, [32]byte{})
		if err != nil {
			t.Fatal(err)
		}
		c1, _ := json.Marshal(out)
		proof, err := c2.Devnet.ProveC2(ctx, c1, mid, id.Number)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			proof[len(proof)/3] ^= 1 // tampered
		}
		// An NI-PoRep sector has no PreCommit: its commitments come with
		// its proof, which queues it for the ProveCommit batch.
		tk := storetest.Ticket(t, st, id, w, store.Ticket{Value: ticket[:], Epoch: int64(ticketEpoch)}, clock.Now())
		ni := store.Commitments{PreCommitInfo: store.PreCommitInfo{CommR: rec.CommR[:], CommD: rec.CommD[:], Ticket: tk}}
		storetest.Prove(t, st, id, w, store.ProofSubmission{Proof: proof, NI: &ni}, clock.Now())
	}
	active := func(id store.SectorID) bool {
		si, err := api.StateSectorGetInfo(ctx, maddr, id.Number, types.EmptyTSK)
		return err == nil && si != nil
	}
	for range 60 {
		if err := p.Tick(ctx); err != nil {
			t.Fatalf("tick: %v", err)
		}
		p.waitSigning()
		s1, _ := st.GetSector(ctx, ids[1])
		if active(ids[0]) && active(ids[2]) && s1.Phase == store.PhaseAborted {
			break
		}
		step(1)
	}
	for _, i := range []int{0, 2} {
		si, err := api.StateSectorGetInfo(ctx, maddr, ids[i].Number, types.EmptyTSK)
		if err != nil || si == nil {
			sec, _ := st.GetSector(ctx, ids[i])
			b, _ := st.GetBatch(ctx, sec.ProveCommitBatch)
			bs, _ := p.BatchStatus(sec.ProveCommitBatch)
			t.Fatalf("NI sector %s not active: %v; batch %+v status %+v", ids[i], err, b, bs)
		}
		if si.SealProof != int64(abi.StackedDrg2KiBV1_2_Feat_NiPoRep) {
			t.Fatalf("sector %s proof %d", ids[i], si.SealProof)
		}
		if pci, _ := api.StateSectorPreCommitInfo(ctx, maddr, ids[i].Number, types.EmptyTSK); pci != nil {
			t.Fatalf("NI sector %s has a pre-commit", ids[i])
		}
	}
	if s, _ := st.GetSector(ctx, ids[1]); s.Phase != store.PhaseAborted || !strings.Contains(s.AbortReason, "aggregate seal verify failed") {
		t.Fatalf("tampered NI sector: %s %q", s.Phase, s.AbortReason)
	}
	if len(h.signed()) == 0 {
		t.Fatal("nothing signed")
	}
	for _, m := range h.signed() {
		if m != miner.MethodProveCommitSectorsNI {
			t.Fatalf("signed method %d, want only 36", m)
		}
	}
	t.Logf("signed %d ProveCommitSectorsNI messages for 3 NI sectors", len(h.signed()))
}
