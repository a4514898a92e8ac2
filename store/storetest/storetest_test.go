package storetest

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/store"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func b32(v byte) []byte { return bytes.Repeat([]byte{v}, 32) }

// TestFixtures walks an interactive and an NI-PoRep sector through the
// fixtures and checks the state each leaves, and that Holder refuses a
// worker that does not hold the sector.
func TestFixtures(t *testing.T) {
	st, err := store.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "m.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ni := store.Tenant{ID: "ni", Miner: 2000, ProofType: abi.StackedDrg2KiBV1_2_Feat_NiPoRep, Weight: 1}
	for _, tn := range []store.Tenant{{ID: "acme", Miner: 1000, ProofType: abi.StackedDrg2KiBV1_1, Weight: 1}, ni} {
		if _, err := st.CreateTenant(t.Context(), tn, t0); err != nil {
			t.Fatal(err)
		}
	}
	alloc := func(worker, tenant string) store.SectorID {
		a, err := st.AllocateSector(t.Context(), worker, store.AllocateFilter{Tenants: []string{tenant}}, t0, store.AllocatePolicy{})
		if err != nil {
			t.Fatal(err)
		}
		return a.Sector.ID
	}

	id := alloc("w/t0", "acme")
	if _, _, err := st.WorkerRandomness(t.Context(), id, Holder("w/t1", t0), false, &store.Ticket{Value: b32(1), Epoch: 10}); !errors.Is(err, store.ErrNotLeaseHolder) {
		t.Fatalf("another worker's call: %v", err)
	}
	tk := Ticket(t, st, id, "w/t0", store.Ticket{Value: b32(1), Epoch: 10}, t0)
	if again := Ticket(t, st, id, "w/t0", store.Ticket{Value: b32(2), Epoch: 11}, t0); again.Epoch != tk.Epoch {
		t.Fatalf("second ticket %+v replaced the first %+v", again, tk)
	}
	pc := PreCommit(t, st, id, "w/t0", store.Commitments{PreCommitInfo: store.PreCommitInfo{CommR: b32(3), CommD: b32(4), Ticket: tk}}, t0)
	seed := store.Ticket{Value: b32(5), Epoch: 20}
	pr := Prove(t, st, id, "w/t0", store.ProofSubmission{Proof: []byte("proof"), Seed: &seed}, t0)
	Finalize(t, st, id, "w/t0", "/deliveries", t0)
	sec, err := st.GetSector(t.Context(), id)
	if err != nil || sec.Phase != store.PhaseFinalized || sec.Ticket == nil || sec.Seed == nil || sec.Seed.Epoch != 20 || !sec.HasProof ||
		pc.Batch == 0 || sec.LastPreCommitBatch != pc.Batch || pr.Batch == 0 || sec.LastProveCommitBatch != pr.Batch {
		t.Fatalf("sector %+v (precommit %+v, proof %+v), %v", sec, pc, pr, err)
	}
	if d, err := st.GetDelivery(t.Context(), id); err != nil || d.Target != "/deliveries" {
		t.Fatalf("delivery %+v, %v", d, err)
	}

	n := alloc("w/t2", "ni")
	ntk := Ticket(t, st, n, "w/t2", store.Ticket{Value: b32(6), Epoch: 30}, t0)
	c := store.Commitments{PreCommitInfo: store.PreCommitInfo{CommR: b32(7), CommD: b32(8), Ticket: ntk}}
	if out := Prove(t, st, n, "w/t2", store.ProofSubmission{Proof: []byte("ni proof"), NI: &c}, t0); out.Batch == 0 {
		t.Fatalf("NI proof not queued: %+v", out)
	}
	if sec, err := st.GetSector(t.Context(), n); err != nil || !bytes.Equal(sec.CommR, b32(7)) || !sec.HasProof || sec.PreCommitBatch != 0 {
		t.Fatalf("NI sector %+v, %v", sec, err)
	}
}
