package commit

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

// TestCrashAfterPushBeforeRecord: the node accepted the message but the
// manager died before recording the push. On restart the message is signed
// again (deterministic signer: same CID), pushed with the same nonce, and
// the mpool recognises it — one transaction, no second nonce.
func TestCrashAfterPushBeforeRecord(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize = 2 })
	ids := e.submitPreCommit(2, 5)
	e.chain.pushHook = func(*types.SignedMessage) (bool, error) {
		return true, errors.New("lotus: call outcome unknown: connection reset")
	}
	e.tick()
	e.tick()
	b := e.batches(store.BatchPreCommit)[0]
	if b.Message.State != store.MsgSigned || e.chain.pushes != 1 {
		t.Fatalf("before crash: %+v pushes %d", b.Message, e.chain.pushes)
	}
	stored := *b.Message
	e.chain.pushHook = nil
	e.restart()
	e.settle(1)
	b2, _ := e.st.GetBatch(e.ctx, b.ID)
	if b2.State != store.BatchLanded || b2.Message.ID != stored.ID || b2.Message.Nonce != stored.Nonce ||
		!bytes.Equal(b2.Message.Unsigned, stored.Unsigned) || b2.Message.SignedCID != stored.SignedCID {
		t.Fatalf("after restart: %+v\nstored %+v", b2.Message, stored)
	}
	if len(e.chain.executed) != 1 || e.chain.executed[0].Cid().String() != stored.SignedCID {
		t.Fatalf("executed %d messages", len(e.chain.executed))
	}
	for _, id := range ids {
		if !e.landed(id, store.BatchPreCommit) {
			t.Fatalf("sector %s lost", id)
		}
	}
	e.checkNonces()
}

// TestCrashAfterSignBeforePush: the signed CID was recorded, the push never
// happened. After the restart the same bytes are signed and pushed.
func TestCrashAfterSignBeforePush(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize = 1 })
	e.submitPreCommit(1, 5)
	e.chain.pushHook = func(*types.SignedMessage) (bool, error) {
		return false, errors.New("lotus: transport error: dial refused")
	}
	e.tick()
	e.tick()
	b := e.batches(store.BatchPreCommit)[0]
	if b.Message.State != store.MsgSigned {
		t.Fatalf("state %s", b.Message.State)
	}
	stored := *b.Message
	e.chain.pushHook = nil
	e.restart()
	e.settle(1)
	b2, _ := e.st.GetBatch(e.ctx, b.ID)
	if b2.State != store.BatchLanded || b2.Message.SignedCID != stored.SignedCID || b2.Message.Nonce != stored.Nonce {
		t.Fatalf("after restart %+v", b2.Message)
	}
	e.checkNonces()
}

// TestCrashBeforeSigning: the unsigned bytes were stored, nothing signed.
// The restarted pipeline signs exactly those bytes.
func TestCrashBeforeSigning(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize = 1 })
	e.signer.unavailable = true
	e.submitPreCommit(1, 5)
	e.tick()
	b := e.batches(store.BatchPreCommit)[0]
	stored := *b.Message
	// Things change before the restart: a new head and a new base fee. The
	// stored message must still be used as it is.
	e.chain.height += 50
	e.chain.baseFee = types.NewInt(150)
	e.restart()
	e.settle(1)
	b2, _ := e.st.GetBatch(e.ctx, b.ID)
	if b2.State != store.BatchLanded || !bytes.Equal(b2.Message.Unsigned, stored.Unsigned) || b2.Message.Nonce != stored.Nonce {
		t.Fatalf("after restart %+v", b2.Message)
	}
	if n := len(e.batches(store.BatchPreCommit)); n != 1 {
		t.Fatalf("%d batches, want 1", n)
	}
}

// TestCrashAfterReserveBeforeBytes: a nonce was reserved but the manager
// died before storing the message. The restart builds it with that nonce.
func TestCrashAfterReserveBeforeBytes(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) {
		tn.Batching.PreCommitBatchSize = 1
		tn.Fees.MaxPreCommitFee = "1000000000"
	})
	e.submitPreCommit(1, 5)
	e.chain.baseFee = types.NewInt(100_000) // above the fee cap: held before reserving
	e.tick()
	b := e.batches(store.BatchPreCommit)[0]
	m, err := e.st.ReserveNonce(e.ctx, b.ID, address.Format(e.from, address.Mainnet), 0, e.clock.Now())
	if err != nil || m.Unsigned != nil || m.State != store.MsgPending {
		t.Fatalf("reservation %+v, %v: want a fresh one without bytes", m, err)
	}
	e.chain.baseFee = types.NewInt(100)
	e.restart()
	e.settle(1)
	b2, _ := e.st.GetBatch(e.ctx, b.ID)
	if b2.State != store.BatchLanded || b2.Message.ID != m.ID || b2.Message.Nonce != m.Nonce {
		t.Fatalf("after restart %+v, reserved %+v", b2.Message, m)
	}
}

// TestNonceConsumedElsewhere: another message took the reserved nonce
// before ours was pushed. Only then is the batch rebuilt, with a new nonce.
func TestNonceConsumedElsewhere(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize = 1 })
	ids := e.submitPreCommit(1, 5)
	e.signer.unavailable = true
	e.tick()
	first := *e.batches(store.BatchPreCommit)[0].Message
	e.chain.consumeNonce(e.from) // e.g. the operator sent a message with nonce 0
	e.signer.mu.Lock()
	e.signer.unavailable = false
	e.signer.mu.Unlock()
	e.settle(2)
	if !e.landed(ids[0], store.BatchPreCommit) {
		t.Fatal("sector not landed")
	}
	old, _ := e.st.GetMessage(e.ctx, first.ID)
	if old.State != store.MsgFailed || !strings.Contains(old.Error, "consumed by another message") {
		t.Fatalf("old message %+v", old)
	}
	s := e.sector(ids[0])
	b, _ := e.st.GetBatch(e.ctx, s.PreCommitBatch)
	if b.Message.Nonce != 1 {
		t.Fatalf("new nonce %d, want 1", b.Message.Nonce)
	}
}

// TestRepushAfterDrop: a pushed message that never shows up is pushed again
// with the same bytes after RepushAfter.
func TestRepushAfterDrop(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize = 1 })
	e.submitPreCommit(1, 5)
	e.tick()
	e.tick()
	b := e.batches(store.BatchPreCommit)[0]
	e.chain.mu.Lock()
	e.chain.mpool = map[address.Address]map[uint64]*types.SignedMessage{} // node restarted, mpool lost
	e.chain.mu.Unlock()
	e.chain.mine()
	e.tick()
	if e.chain.pushes != 1 {
		t.Fatalf("re-pushed too early: %d pushes", e.chain.pushes)
	}
	e.clock.Add(time.Hour)
	e.restart() // and the manager restarted too: re-sign, same CID
	e.tick()
	e.tick()
	if e.chain.pushes != 2 {
		t.Fatalf("%d pushes, want 2", e.chain.pushes)
	}
	e.settle(1)
	b2, _ := e.st.GetBatch(e.ctx, b.ID)
	if b2.State != store.BatchLanded || b2.Message.SignedCID != b.Message.SignedCID {
		t.Fatalf("after re-push %+v", b2.Message)
	}
}

// TestCrashMidSplit: the manager dies while isolating a batch that failed
// on chain, in either window. (a) In the post-failure precheck, before the
// receipt is recorded: the batch keeps its sectors, and the restarted
// pipeline follows the message again and isolates the poison. (b) After
// the receipt is recorded (the store released the sectors) but before
// regrouping: the released sectors are adopted again and the poison is
// isolated anew. Either way no sector is lost.
func TestCrashMidSplit(t *testing.T) {
	for _, window := range []string{"precheck", "after-receipt"} {
		t.Run(window, func(t *testing.T) {
			e := newEnv(t, nil)
			ids := e.submitPreCommit(4, 5)
			e.chain.poison[ids[1]] = true
			e.tick()
			e.tick()
			e.chain.mine()
			e.chain.height += e.cfg.Confidence
			switch window {
			case "precheck":
				ctx, cancel := context.WithCancel(e.ctx)
				e.chain.onPreCommitInfo = cancel // dies in the post-failure precheck
				if err := e.p.Tick(ctx); err == nil {
					t.Fatal("tick survived the crash")
				}
				e.chain.onPreCommitInfo = nil
				sent := e.batches(store.BatchPreCommit, store.BatchSent)
				if len(sent) != 1 || len(sent[0].Sectors) != 4 {
					t.Fatalf("after the crash: sent batches %+v, want the failed one unrecorded with its 4 sectors", sent)
				}
			case "after-receipt":
				// What the pipeline records before it regroups.
				sent := e.batches(store.BatchPreCommit, store.BatchSent)
				if len(sent) != 1 || sent[0].Message == nil {
					t.Fatalf("sent batches %+v", sent)
				}
				if _, err := e.st.MarkMessageLanded(e.ctx, sent[0].Message.ID, int64(types.ErrIllegalArgument), e.clock.Now()); err != nil {
					t.Fatal(err)
				}
				for _, id := range ids {
					if s := e.sector(id); s.PreCommitBatch != 0 || s.Phase != store.PhaseActive {
						t.Fatalf("sector %s after crash: batch %d phase %s", id, s.PreCommitBatch, s.Phase)
					}
				}
			}
			e.restart()
			e.settle(6) // isolated from the receipt, or adopted into a full batch again, then bisected
			for i, id := range ids {
				s := e.sector(id)
				if i == 1 {
					if s.Phase != store.PhaseAborted {
						t.Fatalf("poisoned sector %s: %s", id, s.Phase)
					}
					continue
				}
				if !e.landed(id, store.BatchPreCommit) {
					t.Fatalf("sector %s lost (phase %s)", id, s.Phase)
				}
			}
			e.checkNonces()
		})
	}
}

// TestReservedBatchKeepsNonceWithoutGap: a batch whose nonce was reserved
// (then the manager died) loses a member to the operator, but a later
// batch already holds the next nonce. Releasing it would leave a gap, so
// store.ReleaseBatch refuses (ErrNonceGap) and the batch is sent as it is:
// both nonces are used, in order.
func TestReservedBatchKeepsNonceWithoutGap(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) {
		tn.Batching.PreCommitBatchSize = 2
		tn.Fees.MaxPreCommitFee = "100000000" // per sector: 2e8 for a batch
	})
	ids := e.submitPreCommit(4, 5)
	e.chain.baseFee = types.NewInt(1_000) // above the cap: both batches held before reserving
	e.tick()
	bs := e.batches(store.BatchPreCommit, store.BatchClosed)
	if len(bs) != 2 {
		t.Fatalf("closed batches %+v", bs)
	}
	from := address.Format(e.from, address.Mainnet)
	m1, err := e.st.ReserveNonce(e.ctx, bs[0].ID, from, 0, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	m2, err := e.st.ReserveNonce(e.ctx, bs[1].ID, from, 0, e.clock.Now())
	if err != nil || m2.Nonce != m1.Nonce+1 || m1.Unsigned != nil || m2.Unsigned != nil {
		t.Fatalf("reservations %+v, %+v, %v", m1, m2, err)
	}
	if err := e.st.AbortSector(e.ctx, bs[0].Sectors[0], "operator", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.chain.baseFee = types.NewInt(100)
	e.restart()
	e.settle(2)
	for i, b := range bs {
		got, _ := e.st.GetBatch(e.ctx, b.ID)
		want := []store.Message{m1, m2}[i]
		if got.State != store.BatchLanded || got.Message.ID != want.ID || got.Message.Nonce != want.Nonce || len(got.Sectors) != 2 {
			t.Fatalf("batch %d after restart: %s %+v, want landed with nonce %d and 2 sectors", b.ID, got.State, got.Message, want.Nonce)
		}
	}
	for _, id := range ids[1:] {
		if s := e.sector(id); s.Phase != store.PhaseActive {
			t.Fatalf("sector %s: %s", id, s.Phase)
		}
	}
	e.checkNonces()
}
