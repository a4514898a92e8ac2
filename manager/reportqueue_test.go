package manager

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/store"
)

// reportSteps are consecutive worker states a test reports.
var reportSteps = [][2]string{
	{"Allocated", "PiecesAcquired"}, {"PiecesAcquired", "PiecesAdded"}, {"PiecesAdded", "TreeDBuilt"},
	{"TreeDBuilt", "TicketAssigned"}, {"TicketAssigned", "PC1Done"},
}

// queueEnv is an env whose flusher waits long enough for a test to see
// what is queued.
func queueEnv(t *testing.T) *env {
	e := newEnv(t)
	e.reportFlush = time.Hour
	return e
}

func report(s *Service, worker string, id api.SectorID, step [2]string) error {
	_, err := s.ReportState(workerCtx(worker), id, api.StateReport{Prev: step[0], Next: step[1], Event: "e:" + step[1],
		CPUSeconds: map[string]float64{"pc1": 1}})
	return err
}

func historyNexts(t *testing.T, s *Service, id api.SectorID) []string {
	t.Helper()
	h, err := s.st.SectorHistory(t.Context(), toStoreID(id))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range h {
		if e.Event != "store:allocated" {
			out = append(out, e.Next)
		}
	}
	return out
}

// TestQueuedReportsFlush: reports of many sectors cost no transaction when
// made and one when flushed, and arrive in order, each once, with their
// CPU metering; a resend of a queued report is not queued again.
func TestQueuedReportsFlush(t *testing.T) {
	s := queueEnv(t).open()
	mustTenant(t, s, "acme", 1000, 1)
	var ids []api.SectorID
	for i := range 5 {
		ids = append(ids, mustAllocate(t, s, "w1", fmt.Sprintf("t%d", i)).ID)
	}
	before := s.st.WriteTransactions()
	for _, id := range ids {
		for _, step := range reportSteps {
			if err := report(s, "w1", id, step); err != nil {
				t.Fatal(err)
			}
		}
		if err := report(s, "w1", id, reportSteps[len(reportSteps)-1]); err != nil { // resend
			t.Fatal(err)
		}
	}
	if got := s.st.WriteTransactions() - before; got != 0 {
		t.Fatalf("%d write transactions before the flush, want 0", got)
	}
	s.reports.mu.Lock()
	queued := s.reports.n
	s.reports.mu.Unlock()
	if want := len(ids) * len(reportSteps); queued != want {
		t.Fatalf("%d reports queued, want %d (a resend of a queued report is not queued)", queued, want)
	}
	if err := s.reports.flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := s.st.WriteTransactions() - before; got != 1 {
		t.Errorf("flush: %d write transactions, want 1 (SQLite: one transaction for all)", got)
	}
	for _, id := range ids {
		got := historyNexts(t, s, id)
		if len(got) != len(reportSteps) {
			t.Fatalf("sector %v history %v", id, got)
		}
		for i, step := range reportSteps {
			if got[i] != step[1] {
				t.Errorf("sector %v history %v, want the reports in order", id, got)
			}
		}
		sec, err := s.st.GetSector(t.Context(), toStoreID(id))
		if err != nil || sec.State != "PC1Done" {
			t.Errorf("sector %v state %q, %v", id, sec.State, err)
		}
	}
	u, err := s.Usage(adminCtx(), api.UsageRequest{Tenant: "acme"})
	if err != nil || len(u) != 1 {
		t.Fatalf("usage %+v, %v", u, err)
	}
	if want := float64(len(ids) * len(reportSteps)); u[0].CPUSeconds["pc1"] != want {
		t.Errorf("metered %v CPU seconds, want %v (one per report, resends not billed)", u[0].CPUSeconds, want)
	}
}

// TestQueuedReportRules: a queued report is checked against the state the
// reports queued before it leave, refused reports are not queued, an
// aborted sector answers the abort, and Close writes what is queued.
func TestQueuedReportRules(t *testing.T) {
	e := queueEnv(t)
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1)
	a := mustAllocate(t, s, "w1", "t0")
	b := mustAllocate(t, s, "w1", "t1")
	for _, step := range reportSteps[:3] {
		if err := report(s, "w1", a.ID, step); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		worker string
		id     api.SectorID
		step   [2]string
		want   error
	}{
		{"stale: behind the queued state", "w1", a.ID, [2]string{"Allocated", "PiecesAcquired"}, ErrConflict},
		{"unknown state", "w1", a.ID, [2]string{"TreeDBuilt", "Pwned"}, ErrInvalid},
		{"another worker's sector", "w2", a.ID, [2]string{"TreeDBuilt", "TicketAssigned"}, ErrNotLeaseHolder},
		{"fits the queued state", "w1", a.ID, [2]string{"TreeDBuilt", "TicketAssigned"}, nil},
		{"possible resend (next is the known state)", "w1", a.ID, [2]string{"Allocated", "TicketAssigned"}, nil},
	}
	for _, c := range cases {
		if err := report(s, c.worker, c.id, c.step); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// A possible resend is not refused for coming from behind, but its
	// names and failure level must still be valid.
	if _, err := s.ReportState(workerCtx("w1"), a.ID, api.StateReport{Prev: "Allocated", Next: "TicketAssigned", Event: "e",
		Failure: &api.Failure{Level: "catastrophic"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad failure level on a possible resend: %v, want ErrInvalid", err)
	}
	if _, err := s.AbortSector(adminCtx(), b.ID, "operator"); err != nil {
		t.Fatal(err)
	}
	r, err := s.ReportState(workerCtx("w1"), b.ID, api.StateReport{Prev: "Allocated", Next: "PiecesAcquired", Event: "e"})
	if err != nil || r.AbortReason == "" {
		t.Errorf("report on an aborted sector: %+v, %v; want the abort", r, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := e.open()
	if got := historyNexts(t, s2, a.ID); len(got) != 4 || got[3] != "TicketAssigned" {
		t.Errorf("history after Close %v, want the 4 accepted reports", got)
	}
}

// TestQueuedReportsBounded: a sector's queue never holds
// maxQueuedPerSector reports; the report that fills it writes the queue.
func TestQueuedReportsBounded(t *testing.T) {
	s := queueEnv(t).open()
	mustTenant(t, s, "acme", 1000, 1)
	a := mustAllocate(t, s, "w1", "t0")
	const n = maxQueuedPerSector*2 + 1
	for i := range n {
		step := [2]string{"Paused", "PC1Done"}
		switch {
		case i == 0:
			step = [2]string{"Allocated", "Paused"}
		case i%2 == 0:
			step = [2]string{"PC1Done", "Paused"}
		}
		if err := report(s, "w1", a.ID, step); err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
		s.reports.mu.Lock()
		q := len(s.reports.pending[toStoreID(a.ID)])
		s.reports.mu.Unlock()
		if q >= maxQueuedPerSector {
			t.Fatalf("report %d: %d queued", i, q)
		}
	}
	if got := historyNexts(t, s, a.ID); len(got) < 2*maxQueuedPerSector {
		t.Errorf("%d reports written by the reporting calls, want %d", len(got), 2*maxQueuedPerSector)
	}
}

// TestQueuedReportsRetried: reports a failed call took are written later,
// once, whether or not the failed call's transaction kept them. The
// reports pause and resume the sector, so written again they would fit
// and be recorded twice: only the Retry mark keeps them single.
func TestQueuedReportsRetried(t *testing.T) {
	s := queueEnv(t).open()
	mustTenant(t, s, "acme", 1000, 1)
	a := mustAllocate(t, s, "w1", "t0")
	sid := toStoreID(a.ID)
	for _, step := range [][2]string{{"Allocated", "Paused"}, {"Paused", "Allocated"}} {
		if err := report(s, "w1", a.ID, step); err != nil {
			t.Fatal(err)
		}
	}
	// Written by a call, then put back as if the call had failed after
	// its group kept the writes.
	h, err := s.holderFor(workerCtx("w1"), sid)
	if err != nil || len(h.Reports) != 2 {
		t.Fatalf("holder took %d reports, %v", len(h.Reports), err)
	}
	if _, err := s.st.WorkerAcquirePieces(t.Context(), sid, h, nil); err != nil {
		t.Fatal(err)
	}
	s.settle(sid, h, store.ErrConflict)
	if err := s.reports.flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := historyNexts(t, s, a.ID); len(got) != 2 {
		t.Errorf("history %v: the retried reports were written twice or not at all", got)
	}
}

// TestQueuedReportsInFlight: while a flush writes a sector's reports, a
// call that would take them waits for the write to end (here its context
// ends first), then gets what was queued after them.
func TestQueuedReportsInFlight(t *testing.T) {
	s := queueEnv(t).open()
	mustTenant(t, s, "acme", 1000, 1)
	a := mustAllocate(t, s, "w1", "t0")
	sid := toStoreID(a.ID)
	if err := report(s, "w1", a.ID, reportSteps[0]); err != nil {
		t.Fatal(err)
	}
	batch, done := s.reports.begin(nil)
	if len(batch) != 1 {
		t.Fatalf("%d sectors in flight", len(batch))
	}
	if err := report(s, "w1", a.ID, reportSteps[1]); err != nil {
		t.Fatal(err)
	}
	if last, ok := s.reports.last(sid); !ok || last.Report.Next != reportSteps[1][1] {
		t.Fatalf("last report %+v, %v", last, ok)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.reports.take(ctx, sid); !errors.Is(err, context.Canceled) {
		t.Fatalf("take while in flight: %v, want it to wait", err)
	}
	if _, _, err := s.st.WriteReports(t.Context(), batch, time.Hour); err != nil {
		t.Fatal(err)
	}
	s.reports.end(batch, nil, done)
	rs, err := s.reports.take(t.Context(), sid)
	if err != nil || len(rs) != 1 || rs[0].Report.Next != reportSteps[1][1] {
		t.Fatalf("after the flight: %d reports, %v", len(rs), err)
	}
}

// TestSubmitProofSeedUnavailable: a proof whose seed this manager cannot
// draw yet (its chain has not settled it) is to be retried (ErrNoChain),
// not refused, which would pause the sector.
func TestSubmitProofSeedUnavailable(t *testing.T) {
	e := queueEnv(t)
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1)
	a := mustAllocate(t, s, "w1", "t0")
	w := workerCtx("w1")
	_, err := s.SubmitProof(w, a.ID, api.ProofInfo{Proof: []byte{1}}, false)
	if !errors.Is(err, ErrNoChain) {
		t.Fatalf("proof before the seed is settled: %v, want ErrNoChain", err)
	}
}
