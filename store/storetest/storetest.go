// Package storetest has fixtures for tests: put a sector in a given state
// through the worker calls.
//
// Each fixture is one call a sealing worker makes to the manager (pieces,
// ticket, PreCommit, proof, finalize) and writes what the manager writes
// for it: the store's one-transaction worker call (store/calls.go), with
// the lease check the manager makes. So a test's sector is in a state the
// manager can produce, batch membership included (a submission queues the
// sector for its tenant's batch, as in production). A fixture fails the
// test when the store does not accept the call.
package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sealant/sealant/store"
)

// Holder is the claim the manager makes for a call of workerID at now: its
// Check refuses a sector workerID does not hold (store.ErrNotLeaseHolder).
// It renews no lease (TTL 0).
func Holder(workerID string, now time.Time) store.Holder {
	return store.Holder{Now: now, Check: func(sec store.Sector) error {
		if sec.WorkerID != workerID {
			return fmt.Errorf("storetest: sector %s is held by %q, not %q: %w", sec.ID, sec.WorkerID, workerID, store.ErrNotLeaseHolder)
		}
		return nil
	}}
}

// Ticket is the worker's AssignTicket: it stores t as the sector's ticket
// unless one is stored already, and returns the stored one.
func Ticket(tb testing.TB, st *store.Store, id store.SectorID, workerID string, t store.Ticket, now time.Time) store.Ticket {
	tb.Helper()
	got, ok, err := st.WorkerRandomness(tb.Context(), id, Holder(workerID, now), false, &t)
	if err != nil || !ok {
		tb.Fatalf("storetest: assign ticket to sector %s: stored %v, %v", id, ok, err)
	}
	return got
}

// PreCommit is the worker's SubmitPreCommit: it stores c's commitments,
// which queues the sector for its tenant's PreCommit batch. The sector's
// ticket must be stored (Ticket) and equal c's. It fails tb unless the
// submission is accepted.
func PreCommit(tb testing.TB, st *store.Store, id store.SectorID, workerID string, c store.Commitments, now time.Time) store.Outcome {
	tb.Helper()
	out, err := st.WorkerSubmitPreCommit(tb.Context(), id, Holder(workerID, now), c, false)
	accepted(tb, "precommit", id, out, err)
	return out
}

// accepted fails tb unless a submission was accepted.
func accepted(tb testing.TB, what string, id store.SectorID, out store.Outcome, err error) {
	tb.Helper()
	if err != nil || out.Result != store.SubmitAccepted {
		tb.Fatalf("storetest: submit %s of sector %s: %v %q, %v", what, id, out.Result, out.Reason, err)
	}
}

// Prove is the worker's SubmitProof: it stores p's proof, which queues the
// sector for its tenant's ProveCommit batch. For an interactive sector p
// carries the seed the manager drew from the chain (Seed); an NI-PoRep
// sector's carries its commitments (NI) instead, and its ticket must be
// stored (Ticket). It fails tb unless the submission is accepted.
func Prove(tb testing.TB, st *store.Store, id store.SectorID, workerID string, p store.ProofSubmission, now time.Time) store.Outcome {
	tb.Helper()
	out, err := st.WorkerSubmitProof(tb.Context(), id, Holder(workerID, now), p, false)
	accepted(tb, "proof", id, out, err)
	return out
}

// Finalize is the worker's ReportFinalized: the sector is finalized (its
// lease ends) and its delivery opened, to the tenant's delivery target or,
// when the tenant has none, to target. It records no files.
func Finalize(tb testing.TB, st *store.Store, id store.SectorID, workerID, target string, now time.Time) {
	tb.Helper()
	if _, _, err := st.WorkerFinalize(tb.Context(), id, Holder(workerID, now), "", "", target); err != nil {
		tb.Fatalf("storetest: finalize sector %s: %v", id, err)
	}
}
