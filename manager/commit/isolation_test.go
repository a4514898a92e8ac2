package commit

import (
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/store"
)

// TestPoisonIsolationOnChain: one bad sector in a batch of four fails the
// PreCommitSectorBatch2 on chain (estimation did not see it). The batch is
// bisected until the bad sector is alone; it fails for good with the exit
// code, and the three good sectors land.
func TestPoisonIsolationOnChain(t *testing.T) {
	e := newEnv(t, nil)
	ids := e.submitPreCommit(4, 5)
	e.chain.poison[ids[1]] = true
	e.settle(4)
	for i, id := range ids {
		s := e.sector(id)
		if i == 1 {
			if s.Phase != store.PhaseAborted || !strings.Contains(s.AbortReason, "failed alone") || !strings.Contains(s.AbortReason, "ErrIllegalArgument(16)") {
				t.Fatalf("poisoned sector: phase %s reason %q", s.Phase, s.AbortReason)
			}
			continue
		}
		if !e.landed(id, store.BatchPreCommit) || !e.chain.allocated[id] {
			t.Fatalf("good sector %s did not land (phase %s)", id, s.Phase)
		}
	}
	// 4 → [0,1] [2,3] → [0] [1]: five messages, nonces 0..4 once each.
	if got := len(e.chain.executed); got != 5 {
		t.Fatalf("%d messages executed, want 5", got)
	}
	e.checkNonces()
}

// TestPoisonFoundByPrecheckAfterFailure: the failed batch's precheck names
// the culprit (its number was taken meanwhile), so it fails at once and the
// rest is re-sent as one batch — no bisection.
func TestPoisonFoundByPrecheckAfterFailure(t *testing.T) {
	e := newEnv(t, nil)
	ids := e.submitPreCommit(4, 5)
	e.tick()
	e.tick()                         // pushed
	e.chain.allocated[ids[2]] = true // someone else pre-committed number 2
	e.settle(2)
	s := e.sector(ids[2])
	if s.Phase != store.PhaseAborted || !strings.Contains(s.AbortReason, "already allocated") {
		t.Fatalf("culprit: %s %q", s.Phase, s.AbortReason)
	}
	for _, i := range []int{0, 1, 3} {
		if !e.landed(ids[i], store.BatchPreCommit) {
			t.Fatalf("sector %s not landed", ids[i])
		}
	}
	if got := len(e.chain.executed); got != 2 {
		t.Fatalf("%d messages, want 2 (failed batch + the rest)", got)
	}
}

// TestPoisonFoundByEstimation: gas estimation executes the message, so a
// poisoned batch is split before any nonce is used or gas spent.
func TestPoisonFoundByEstimation(t *testing.T) {
	e := newEnv(t, nil)
	ids := e.submitPreCommit(4, 5)
	e.chain.poison[ids[3]] = true
	e.chain.estimateSeesPoison = true
	e.settle(4)
	if s := e.sector(ids[3]); s.Phase != store.PhaseAborted || !strings.Contains(s.AbortReason, "ErrIllegalArgument(16)") {
		t.Fatalf("poisoned: %s %q", s.Phase, s.AbortReason)
	}
	for _, id := range ids[:3] {
		if !e.landed(id, store.BatchPreCommit) {
			t.Fatalf("sector %s not landed", id)
		}
	}
	for _, sm := range e.chain.executed {
		ms, _ := e.chain.members(&sm.Message)
		for _, id := range ms {
			if id == ids[3] {
				t.Fatal("the poisoned sector was sent on chain")
			}
		}
	}
	e.checkNonces()
}

func TestExpiredTicketFailsBeforeSending(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize = 3 })
	ids := e.submitPreCommit(2, 5)
	old := e.submitPreCommit(1, e.cfg.Params.MaxPreCommitRandomnessLookback+1)[0]
	e.settle(2)
	if s := e.sector(old); s.Phase != store.PhaseAborted || !strings.Contains(s.AbortReason, "ticket epoch") {
		t.Fatalf("expired: %s %q", s.Phase, s.AbortReason)
	}
	for _, id := range ids {
		if !e.landed(id, store.BatchPreCommit) {
			t.Fatalf("sector %s not landed", id)
		}
	}
	if len(e.chain.executed) != 1 {
		t.Fatalf("%d messages, want 1", len(e.chain.executed))
	}
}

// TestProvePartialFailure: with RequireActivationSuccess=false a bad proof
// fails only its sector; the receipt's FailCodes name it.
func TestProvePartialFailure(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize, tn.Batching.ProveCommitBatchSize = 3, 3 })
	ids := e.submitPreCommit(3, 5)
	e.settle(1)
	for _, id := range ids {
		e.submitProof(id, []byte("p"))
	}
	e.chain.poison[ids[0]] = true
	e.chain.height += e.cfg.Params.PreCommitChallengeDelay
	e.settle(1)
	if s := e.sector(ids[0]); s.Phase != store.PhaseAborted || !strings.Contains(s.AbortReason, "did not activate") ||
		!strings.Contains(s.AbortReason, "ErrIllegalArgument(16)") {
		t.Fatalf("bad proof: %s %q", s.Phase, s.AbortReason)
	}
	for _, id := range ids[1:] {
		if !e.chain.proven[id] || !e.landed(id, store.BatchProveCommit) {
			t.Fatalf("sector %s not proven", id)
		}
	}
}

func TestProvePerSectorMode(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) {
		tn.Batching.ProveCommitMode = store.ProvePerSector
		tn.Batching.PreCommitBatchSize = 2
	})
	ids := e.submitPreCommit(2, 5)
	e.settle(1)
	for _, id := range ids {
		e.submitProof(id, []byte("p"))
	}
	e.chain.height += e.cfg.Params.PreCommitChallengeDelay
	e.settle(1)
	pbs := e.batches(store.BatchProveCommit)
	if len(pbs) != 2 || len(pbs[0].Sectors) != 1 || pbs[0].State != store.BatchLanded || pbs[1].State != store.BatchLanded {
		t.Fatalf("per-sector prove batches %+v", pbs)
	}
}

// TestTransientFailureRetriesAfterBackoff: insufficient funds says nothing
// about the sectors; they rejoin batching after RetryBackoff.
func TestTransientFailureRetriesAfterBackoff(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize = 2 })
	ids := e.submitPreCommit(2, 5)
	e.chain.failExit = types.ErrInsufficientFunds
	e.settle(1)
	for _, id := range ids {
		if s := e.sector(id); s.Phase != store.PhaseActive || s.PreCommitBatch != 0 {
			t.Fatalf("sector %s after transient failure: phase %s batch %d", id, s.Phase, s.PreCommitBatch)
		}
	}
	e.chain.failExit = 0
	e.tick()
	if s := e.sector(ids[0]); s.PreCommitBatch != 0 {
		t.Fatal("re-batched before the backoff")
	}
	e.clock.Add(time.Hour)
	e.settle(1)
	for _, id := range ids {
		if !e.landed(id, store.BatchPreCommit) {
			t.Fatalf("sector %s not landed after retry", id)
		}
	}
	e.checkNonces()
}

// TestProveAllFailBisect: when every sector of a ProveCommitSectors3 fails
// the message fails (no BatchReturn); bisection fails each one alone.
func TestProveAllFailBisect(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize, tn.Batching.ProveCommitBatchSize = 2, 2 })
	ids := e.submitPreCommit(2, 5)
	e.settle(1)
	for _, id := range ids {
		e.submitProof(id, []byte("bad"))
		e.chain.poison[id] = true
	}
	e.chain.height += e.cfg.Params.PreCommitChallengeDelay
	e.settle(3)
	for _, id := range ids {
		if s := e.sector(id); s.Phase != store.PhaseAborted || !strings.Contains(s.AbortReason, "provecommit failed alone") {
			t.Fatalf("sector %s: %s %q", id, s.Phase, s.AbortReason)
		}
	}
	if n := len(e.chain.executed); n != 4 { // precommit, prove [0 1], prove [0], prove [1]
		t.Fatalf("%d messages, want 4", n)
	}
	e.checkNonces()
}

// TestReleaseSplitsProofTypes: a ProveCommit batch whose sectors have two
// seal proof types (the tenant changed its proof type while sectors were in
// flight) is released without a message (store.ReleaseBatch; no
// pseudo-sender) and regrouped into one batch per proof type, and every
// sector lands.
func TestReleaseSplitsProofTypes(t *testing.T) {
	e := newEnv(t, nil)
	ids := e.submitPreCommit(2, 5)
	tn := e.tenant
	tn.ProofType = abi.StackedDrg8MiBV1_1
	if _, err := e.st.UpdateTenant(e.ctx, tn, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, e.submitPreCommit(2, 5)...)
	if a, b := e.sector(ids[0]).ProofType, e.sector(ids[3]).ProofType; a == b {
		t.Fatalf("proof types %d and %d, want two", a, b)
	}
	e.settle(1)
	for _, id := range ids {
		if !e.landed(id, store.BatchPreCommit) {
			t.Fatalf("sector %s: pre-commit not landed", id)
		}
		e.submitProof(id, []byte("p"))
	}
	e.chain.height += e.cfg.Params.PreCommitChallengeDelay
	e.settle(2)
	for _, id := range ids {
		if !e.chain.proven[id] || !e.landed(id, store.BatchProveCommit) {
			t.Fatalf("sector %s not proven", id)
		}
	}
	if a, b := e.sector(ids[0]).ProveCommitBatch, e.sector(ids[3]).ProveCommitBatch; a == b {
		t.Fatalf("sectors of two proof types proven in one batch %d", a)
	}
	released := e.batches(store.BatchProveCommit, store.BatchFailed)
	if len(released) != 1 || released[0].Message != nil || len(released[0].Sectors) != 0 {
		t.Fatalf("released batches %+v, want one without a message", released)
	}
	e.checkNonces()
}
