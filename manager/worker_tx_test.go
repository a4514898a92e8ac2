package manager

import (
	"testing"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/store"
)

// TestWorkerCallsOneTransaction walks a sector through the worker API and
// counts the store's write transactions per call: one for each call that
// changes something, none for a poll (answered from the cache, the lease
// still fresh), a ping (heartbeats are written together now and then) or a
// state report (queued, written with the sector's next writing call). A CC
// sector's ticket is stored with its pieces, so AssignTicket reads; the
// seed is stored with the proof, so WaitSeed reads.
func TestWorkerCallsOneTransaction(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1)
	w := workerCtx("w1")
	calls := 0
	step := func(name string, want uint64, fn func() error) {
		t.Helper()
		calls++
		before := s.st.WriteTransactions()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := s.st.WriteTransactions() - before; got != want {
			t.Errorf("%s: %d write transactions, want %d", name, got, want)
		}
	}
	var a *api.AllocatedSector
	step("AllocateSector", 1, func() (err error) {
		a, err = s.AllocateSector(w, api.AllocateSpec{Worker: "w1", Thread: "t0"})
		return err
	})
	id, sid := a.ID, toStoreID(a.ID)
	step("AcquirePieces", 1, func() error { _, err := s.AcquirePieces(w, id); return err })
	var tk api.Ticket
	step("AssignTicket", 0, func() (err error) { tk, err = s.AssignTicket(w, id); return err })
	step("SubmitPreCommit", 1, func() error {
		r, err := s.SubmitPreCommit(w, id, testPreCommitInfo(t, tk, 1), false)
		if err == nil && r.Result != api.SubmitAccepted {
			t.Fatalf("precommit: %+v", r)
		}
		return err
	})
	step("PollPreCommitState (read)", 0, func() error { _, err := s.PollPreCommitState(w, id); return err })
	step("PollPreCommitState (cached)", 0, func() error { _, err := s.PollPreCommitState(w, id); return err })
	pipelineStep(t, s, sid, store.BatchPreCommit, store.BatchLanded)
	e.chain.mu.Lock()
	e.chain.precommit[id.Number] = 10_060
	e.chain.mu.Unlock()
	e.chain.setHeight(10_076)
	step("WaitSeed", 0, func() error { _, err := s.WaitSeed(w, id); return err })
	step("SubmitProof", 1, func() error { _, err := s.SubmitProof(w, id, api.ProofInfo{Proof: []byte{1, 2, 3}}, false); return err })
	step("ReportState", 0, func() error {
		_, err := s.ReportState(w, id, api.StateReport{Prev: "Empty", Next: "PiecesAcquired", Event: "PiecesAcquired", CPUSeconds: map[string]float64{"add_piece": 1}})
		return err
	})
	step("WorkerPing", 0, func() error { _, err := s.WorkerPing(w, api.WorkerPing{Worker: "w1"}); return err })
	step("ReportFinalized", 1, func() error { _, err := s.ReportFinalized(w, id, api.FinalizedInfo{Location: "/persist"}); return err })
	// The queued report went into ReportFinalized's transaction, before
	// the finalize line; the seed went in with the proof.
	hist, err := s.st.SectorHistory(t.Context(), sid)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(hist); n < 2 || hist[n-2].Next != "PiecesAcquired" || hist[n-1].Event != "store:finalized" {
		t.Errorf("history does not end with the queued report, then the finalize: %+v", hist)
	}
	if sec, err := s.st.GetSector(t.Context(), sid); err != nil || sec.Seed == nil || sec.Ticket == nil {
		t.Errorf("ticket and seed not stored: %+v, %v", sec, err)
	}
	b := mustAllocate(t, s, "w1", "t1")
	step("ReportAborted", 1, func() error { _, err := s.ReportAborted(w, b.ID, "test"); return err })
	if calls != 12 {
		t.Fatalf("%d calls checked", calls)
	}
}
