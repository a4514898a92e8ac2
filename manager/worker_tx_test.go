package manager

import (
	"testing"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/store"
)

// TestWorkerCallsOneTransaction walks a sector through the worker API and
// counts the store's write transactions per call: one for each call that
// changes something, none for a poll (answered from the cache, the lease
// still fresh) or a ping (heartbeats are written together now and then).
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
	step("AssignTicket", 1, func() (err error) { tk, err = s.AssignTicket(w, id); return err })
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
	step("WaitSeed", 1, func() error { _, err := s.WaitSeed(w, id); return err })
	step("SubmitProof", 1, func() error { _, err := s.SubmitProof(w, id, api.ProofInfo{Proof: []byte{1, 2, 3}}, false); return err })
	step("ReportState", 1, func() error {
		_, err := s.ReportState(w, id, api.StateReport{Prev: "Empty", Next: "PiecesAcquired", Event: "PiecesAcquired", CPUSeconds: map[string]float64{"add_piece": 1}})
		return err
	})
	step("WorkerPing", 0, func() error { _, err := s.WorkerPing(w, api.WorkerPing{Worker: "w1"}); return err })
	step("ReportFinalized", 1, func() error { _, err := s.ReportFinalized(w, id, api.FinalizedInfo{Location: "/persist"}); return err })
	b := mustAllocate(t, s, "w1", "t1")
	step("ReportAborted", 1, func() error { _, err := s.ReportAborted(w, b.ID, "test"); return err })
	if calls != 12 {
		t.Fatalf("%d calls checked", calls)
	}
}
