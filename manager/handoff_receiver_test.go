package manager

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/delivery"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/porep"
	"github.com/sealant/sealant/store"
)

// receiverChain is the SP's view of the chain for the receiver: the sealed
// CIDs of proven sectors.
type receiverChain struct {
	mu     sync.Mutex
	sealed map[uint64]lotus.SectorOnChainInfo
}

func (c *receiverChain) StateSectorGetInfo(_ context.Context, _ address.Address, n uint64, _ types.TipSetKey) (*lotus.SectorOnChainInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if si, ok := c.sealed[n]; ok {
		return &si, nil
	}
	return nil, nil
}

func (c *receiverChain) StateSectorPreCommitInfo(context.Context, address.Address, uint64, types.TipSetKey) (*lotus.SectorPreCommitOnChainInfo, error) {
	return nil, nil
}

// TestHandoffRealReceiver runs Architecture 2's handoff end to end against
// a real receiver (package delivery, in process over HTTP) with a really
// sealed 2 KiB sector: the manager pushes the metadata it assembled from
// the worker's reports before the worker transfers, the receiver verifies
// the sector (checksums, p_aux, CommR, chain CommR, TreeR_last, PoSt) and
// imports it, and the manager's record and answer follow the receiver's
// verdict. A second copy of the same sector with a flipped replica byte is
// then rejected, and the manager records the receiver's reason.
func TestHandoffRealReceiver(t *testing.T) {
	if testing.Short() {
		t.Skip("seals a 2 KiB sector")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// The SP's receiver.
	secret := []byte("0123456789abcdef0123456789abcdef-sp")
	rchain := &receiverChain{sealed: map[uint64]lotus.SectorOnChainInfo{}}
	spStore := t.TempDir()
	rcv, err := delivery.NewReceiver(delivery.ReceiverConfig{Root: t.TempDir(), Store: spStore, Secret: secret, Chain: rchain, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	go rcv.Run(ctx)
	srv := httptest.NewServer(rcv.Handler())
	defer srv.Close()
	tok, err := delivery.IssueProviderToken(secret, "provider", 0)
	if err != nil {
		t.Fatal(err)
	}

	// The provider's manager; the real delivery client talks to the SP.
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1, func(tc *api.TenantConfig) { tc.DeliveryTarget = srv.URL + "/#token=" + tok })
	w := workerCtx("w1")
	parents := filepath.Join(t.TempDir(), "parents")
	// sealSector plays a worker: allocate, seal with the manager's ticket,
	// pre-commit, seed, prove (the pipeline played on the store), then
	// finalize with the files as found on disk after damage(dir) ran.
	sealSector := func(thread string, damage func(sealedPath string)) (api.SectorID, []api.LocalFile) {
		t.Helper()
		a := mustAllocate(t, s, "w1", thread)
		id, sid := a.ID, toStoreID(a.ID)
		if _, err := s.AcquirePieces(w, id); err != nil {
			t.Fatal(err)
		}
		tk, err := s.AssignTicket(w, id)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		rec, err := porep.Seal(ctx, porep.SealRequest{Proof: abi.StackedDrg2KiBV1_1, Miner: id.Miner, Sector: id.Number, Ticket: [32]byte(tk.Ticket),
			Dir: filepath.Join(dir, "sector"), ParentCacheDir: parents, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		pc := api.PreCommitInfo{CommR: commp.SealedCID(rec.CommR).String(), CommD: commp.PieceCID(rec.CommD).String(), Ticket: tk,
			CommC: api.Hex32(rec.CommC), CommRLast: api.Hex32(rec.CommRLast)}
		if r, err := s.SubmitPreCommit(w, id, pc, false); err != nil || r.Result != api.SubmitAccepted {
			t.Fatalf("precommit = %+v, %v", r, err)
		}
		pipelineStep(t, s, sid, store.BatchPreCommit, store.BatchLanded)
		e.chain.mu.Lock()
		e.chain.precommit[id.Number] = 10_060
		e.chain.mu.Unlock()
		e.chain.setHeight(10_076)
		if r, err := s.WaitSeed(w, id); err != nil || r.ShouldWait {
			t.Fatalf("seed = %+v, %v", r, err)
		}
		if r, err := s.SubmitProof(w, id, api.ProofInfo{Proof: []byte{1}}, false); err != nil || r.Result != api.SubmitAccepted {
			t.Fatalf("proof = %+v, %v", r, err)
		}
		pipelineStep(t, s, sid, store.BatchProveCommit, store.BatchLanded)
		rchain.mu.Lock()
		rchain.sealed[id.Number] = lotus.SectorOnChainInfo{SectorNumber: id.Number, SealProof: int64(rec.Proof), SealedCID: commp.SealedCID(rec.CommR)}
		rchain.mu.Unlock()
		sealedPath := porep.SealedPath(filepath.Join(dir, "sector"))
		if damage != nil {
			damage(sealedPath)
		}
		files, err := delivery.DescribeFiles(ctx, id, rec.Proof, sealedPath, porep.CachePath(filepath.Join(dir, "sector")))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReportFinalized(w, id, api.FinalizedInfo{Location: dir, Files: delivery.SectorFiles(files)}); err != nil {
			t.Fatal(err)
		}
		return id, files
	}
	id, files := sealSector("t0", nil)
	sid := toStoreID(id)

	// Before the transfer the worker asks for the target: the metadata is
	// at the receiver from then on, and a loop pass does not push again.
	tgt, err := s.DeliveryTarget(w, id)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := rcv.SectorStatus(id); err != nil || st.State != api.DeliveryPending {
		t.Fatalf("receiver after DeliveryTarget = %+v, %v; want pending", st, err)
	}
	e.clock.Advance(handoffStatusInterval) // due for a pass, which must not push
	if n, err := s.PushPendingMetadata(ctx); err != nil || n != 0 {
		t.Fatalf("loop pass = %d pushes, %v; want 0 (already pushed)", n, err)
	}

	client := &delivery.Client{ChunkSize: 1024}
	if err := client.Transfer(ctx, tgt, id, files); err != nil {
		t.Fatalf("transfer: %v", err)
	}
	resp, err := s.ReportDelivery(w, id, api.DeliveryReport{State: api.DeliveryAccepted, Files: delivery.SectorFiles(files)})
	if err != nil || resp.State != api.DeliveryAccepted || !resp.MayCleanUp {
		t.Fatalf("report = %+v, %v", resp, err)
	}
	if in, err := delivery.InStore(spStore, id); err != nil || !in {
		t.Fatalf("sector in the SP's store: %v, %v", in, err)
	}
	d, err := s.st.GetDelivery(ctx, sid)
	if err != nil || d.State != store.DeliveryAccepted {
		t.Fatalf("delivery = %+v, %v", d, err)
	}

	// A replica damaged after sealing (checksums describe the damaged
	// file, so only the receiver's proof checks can tell): the worker's
	// transfer ends in a rejection and the manager records the receiver's
	// reason; nothing may be cleaned up.
	bad, badFiles := sealSector("t1", func(p string) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[100] ^= 0x40
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	})
	tgt, err = s.DeliveryTarget(w, bad)
	if err != nil {
		t.Fatal(err)
	}
	terr := client.Transfer(ctx, tgt, bad, badFiles)
	if !errors.Is(terr, delivery.ErrRejected) {
		t.Fatalf("transfer of a damaged replica: %v, want rejected", terr)
	}
	resp, err = s.ReportDelivery(w, bad, api.DeliveryReport{State: api.DeliveryRejected, Desc: terr.Error()})
	if err != nil || resp.State != api.DeliveryRejected || resp.MayCleanUp {
		t.Fatalf("rejected report = %+v, %v", resp, err)
	}
	rs, err := rcv.SectorStatus(bad)
	if err != nil || rs.State != api.DeliveryRejected {
		t.Fatalf("receiver = %+v, %v", rs, err)
	}
	if d, _ := s.st.GetDelivery(ctx, toStoreID(bad)); d.State != store.DeliveryRejected || d.Reason != receiverReason(*rs) {
		t.Fatalf("delivery = %+v, want rejected with the receiver's reason %q", d, receiverReason(*rs))
	}
	if in, _ := delivery.InStore(spStore, bad); in {
		t.Fatal("a rejected sector reached the SP's store")
	}
}
