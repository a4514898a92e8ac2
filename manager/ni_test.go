package manager

import (
	"context"
	"testing"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/store"
)

// TestWorkerLifecycleNI drives an NI-PoRep tenant's sector through the
// worker API: CC only, no PreCommit, no seed; the proof carries the
// commitments and goes straight to a ProveCommit (NI) batch.
func TestWorkerLifecycleNI(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "ni", 1000, 1, func(tc *api.TenantConfig) { tc.ProofType = 15 })
	w := workerCtx("w1")
	a := mustAllocate(t, s, "w1", "t0")
	if a.ProofType != 15 {
		t.Fatalf("allocation = %+v, want proof 15", a)
	}
	id := a.ID
	sid := toStoreID(id)
	pieces, err := s.AcquirePieces(w, id)
	if err != nil || len(pieces) != 0 {
		t.Fatalf("AcquirePieces = %v, %v; NI sectors are CC", pieces, err)
	}
	tk, err := s.AssignTicket(w, id)
	if err != nil {
		t.Fatal(err)
	}
	proof := []byte{1, 2, 3}
	if r, _ := s.SubmitProof(w, id, api.ProofInfo{Proof: proof}, false); r.Result != api.SubmitRejected {
		t.Fatalf("NI proof without commitments = %+v, want rejected", r)
	}
	pc := testPreCommitInfo(t, tk, 1)
	for i, want := range []api.SubmitResult{api.SubmitAccepted, api.SubmitDuplicate} {
		r, err := s.SubmitProof(w, id, api.ProofInfo{Proof: proof, NI: &pc}, false)
		if err != nil || r.Result != want {
			t.Fatalf("NI proof %d = %+v, %v; want %v", i, r, err, want)
		}
	}
	other := testPreCommitInfo(t, tk, 7)
	if r, _ := s.SubmitProof(w, id, api.ProofInfo{Proof: proof, NI: &other}, false); r.Result != api.SubmitMismatched {
		t.Fatalf("NI proof with other commitments = %+v, want mismatched", r)
	}
	sec, err := s.st.GetSector(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	if sec.PreCommitBatch != 0 || sec.ProveCommitBatch == 0 || len(sec.CommR) != 32 || sec.Seed != nil {
		t.Fatalf("NI sector in store: precommit batch %d, provecommit batch %d, comm_r %d bytes, seed %v",
			sec.PreCommitBatch, sec.ProveCommitBatch, len(sec.CommR), sec.Seed)
	}
	pipelineStep(t, s, sid, store.BatchProveCommit, store.BatchLanded)
	e.chain.active[0] = true
	if r, _ := s.PollProofState(w, id); r.State != api.OnChainLanded {
		t.Fatalf("NI proof landed = %+v", r)
	}
}
