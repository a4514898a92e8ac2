package commit

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

// TestPipelineHappyPath takes four sectors through one PreCommitSectorBatch2
// and one ProveCommitSectors3 and checks the messages field by field.
func TestPipelineHappyPath(t *testing.T) {
	e := newEnv(t, nil)
	ids := e.submitPreCommit(4, 5)
	e.tick() // close (full: the submissions queued the sectors), prepare, start signing
	bs := e.batches(store.BatchPreCommit)
	if len(bs) != 1 || bs[0].State != store.BatchClosed || len(bs[0].Sectors) != 4 || bs[0].Message == nil {
		t.Fatalf("after first tick: %+v", bs)
	}
	m := bs[0].Message
	if m.State != store.MsgPending || m.Nonce != 0 || m.From != address.Format(e.from, address.Mainnet) || len(m.Unsigned) == 0 {
		t.Fatalf("message %+v", m)
	}
	msg, err := types.DecodeMessage(m.Unsigned)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Method != miner.MethodPreCommitSectorBatch2 || msg.To != address.NewIDAddress(1000) || msg.From != e.from {
		t.Fatalf("message header %+v", msg)
	}
	if want := e.chain.deposit.Mul(types.NewInt(4)); msg.Value.Cmp(want) != 0 {
		t.Fatalf("value %s, want 4 deposits %s", msg.Value, want)
	}
	params, err := miner.DecodeParams(msg.Method, msg.Params)
	if err != nil {
		t.Fatal(err)
	}
	pp := params.(*miner.PreCommitSectorBatchParams2)
	head := e.chain.height
	for i, s := range pp.Sectors {
		sec := e.sector(ids[i])
		wantR, _ := miner.CommR(s.SealedCID)
		if uint64(s.SectorNumber) != ids[i].Number || !bytes.Equal(wantR[:], sec.CommR) || s.SealRandEpoch != types.ChainEpoch(sec.Ticket.Epoch) ||
			s.SealProof != miner.RegisteredSealProof(e.tenant.ProofType) || len(s.DealIDs) != 0 || s.UnsealedCid != nil {
			t.Fatalf("sector %d params %+v", i, s)
		}
		if s.Expiration != head+540*EpochsInDay {
			t.Fatalf("expiration %d, want head+540 days %d", s.Expiration, head+540*EpochsInDay)
		}
	}

	e.tick() // signature arrived: record, push
	if b, _ := e.st.GetBatch(e.ctx, bs[0].ID); b.State != store.BatchSent || b.Message.State != store.MsgPushed || b.Message.SignedCID == "" {
		t.Fatalf("after push: %+v %+v", b, b.Message)
	}
	e.chain.mine()
	e.tick() // found, but not yet Confidence deep
	if b, _ := e.st.GetBatch(e.ctx, bs[0].ID); b.State != store.BatchSent {
		t.Fatalf("recorded before confidence: %s", b.State)
	}
	e.chain.height += e.cfg.Confidence
	e.tick()
	for _, id := range ids {
		if !e.landed(id, store.BatchPreCommit) {
			t.Fatalf("sector %s pre-commit not landed", id)
		}
	}

	// Prove: proofs arrive, the challenge delay passes, one batch goes.
	for _, id := range ids {
		e.submitProof(id, []byte("proof-"+id.String()))
	}
	e.tick()
	if bs := e.batches(store.BatchProveCommit); len(bs) != 1 || bs[0].Message != nil {
		t.Fatalf("prove batch must wait for the challenge delay: %+v", bs)
	} else if st, ok := e.p.BatchStatus(bs[0].ID); !ok || !strings.Contains(st.Reason, "too early") {
		t.Fatalf("status %+v", st)
	}
	e.chain.height += e.cfg.Params.PreCommitChallengeDelay
	e.settle(1)
	pbs := e.batches(store.BatchProveCommit)
	if len(pbs) != 1 || pbs[0].State != store.BatchLanded {
		t.Fatalf("prove batch %+v", pbs)
	}
	pmsg, _ := types.DecodeMessage(pbs[0].Message.Unsigned)
	pparams, err := miner.DecodeParams(pmsg.Method, pmsg.Params)
	if err != nil {
		t.Fatal(err)
	}
	pcs := pparams.(*miner.ProveCommitSectors3Params)
	if pmsg.Method != miner.MethodProveCommitSectors3 || len(pcs.SectorActivations) != 4 || len(pcs.SectorProofs) != 4 ||
		len(pcs.AggregateProof) != 0 || pcs.AggregateProofType != nil || pcs.RequireActivationSuccess || !pcs.RequireNotificationSuccess {
		t.Fatalf("prove params %+v", pcs)
	}
	if got := e.signer.purposes; len(got) != 2 || got[0].Kind != "precommit-batch" || got[1].Kind != "provecommit-batch" ||
		len(got[1].Sectors) != 4 || got[1].Sectors[3] != ids[3].Number {
		t.Fatalf("sign purposes %+v", got)
	}
	if string(pcs.SectorProofs[2]) != "proof-"+ids[2].String() {
		t.Fatalf("proof order: %q", pcs.SectorProofs[2])
	}
	// Value = Σ (pledge − deposit).
	if want := e.chain.pledge.Sub(e.chain.deposit).Mul(types.NewInt(4)); pmsg.Value.Cmp(want) != 0 {
		t.Fatalf("prove value %s, want %s", pmsg.Value, want)
	}
	if pmsg.Nonce != 1 {
		t.Fatalf("prove nonce %d, want 1", pmsg.Nonce)
	}
	for _, id := range ids {
		if !e.landed(id, store.BatchProveCommit) || !e.chain.proven[id] {
			t.Fatalf("sector %s not proven", id)
		}
	}
	e.checkNonces()
}

func TestBatchWaitsForSizeOrMaxWait(t *testing.T) {
	e := newEnv(t, nil)
	e.submitPreCommit(2, 5)
	e.tick()
	bs := e.batches(store.BatchPreCommit)
	if len(bs) != 1 || bs[0].State != store.BatchOpen || len(bs[0].Sectors) != 2 {
		t.Fatalf("batch must stay open: %+v", bs)
	}
	e.clock.Add(59 * time.Minute)
	e.tick()
	if bs := e.batches(store.BatchPreCommit); bs[0].State != store.BatchOpen {
		t.Fatal("closed before max wait")
	}
	e.clock.Add(time.Minute)
	e.settle(1)
	if bs := e.batches(store.BatchPreCommit); bs[0].State != store.BatchLanded || len(bs[0].Sectors) != 2 {
		t.Fatalf("batch after max wait: %+v", bs[0])
	}
}

func TestBatchClosesBeforeTicketDeadline(t *testing.T) {
	e := newEnv(t, nil)
	// Ticket so old that the lookback deadline is inside the slack.
	e.submitPreCommit(1, e.cfg.Params.MaxPreCommitRandomnessLookback-e.cfg.Params.Slack+1)
	e.tick()
	if bs := e.batches(store.BatchPreCommit); len(bs) != 1 || bs[0].State == store.BatchOpen {
		t.Fatalf("a sector near its deadline must not wait for the batch: %+v", bs)
	}
}

func TestSignerUnavailable(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize = 1 })
	e.signer.unavailable = true
	e.submitPreCommit(1, 5)
	e.tick()
	e.tick()
	bs := e.batches(store.BatchPreCommit)
	if len(bs) != 1 || bs[0].State != store.BatchClosed || bs[0].Message == nil || bs[0].Message.State != store.MsgPending {
		t.Fatalf("batch %+v", bs)
	}
	st, ok := e.p.BatchStatus(bs[0].ID)
	if !ok || !st.WaitingForSigner || !strings.Contains(st.Reason, "no signer connected") {
		t.Fatalf("status %+v", st)
	}
	if e.chain.pushes != 0 {
		t.Fatal("pushed without a signature")
	}
	nonce := bs[0].Message.Nonce
	// The signer connects: same message, same nonce, no second reservation.
	e.signer.mu.Lock()
	e.signer.unavailable = false
	e.signer.mu.Unlock()
	e.settle(1)
	b, _ := e.st.GetBatch(e.ctx, bs[0].ID)
	if b.State != store.BatchLanded || b.Message.Nonce != nonce {
		t.Fatalf("after signer came back: %+v", b)
	}
	if _, ok := e.p.BatchStatus(bs[0].ID); ok {
		t.Fatal("status must clear once landed")
	}
}

func TestSignerInFlightIsWaitingForSigner(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize = 1 })
	gate := make(chan struct{})
	e.signer.gate = gate
	e.submitPreCommit(1, 5)
	if err := e.p.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
	bs := e.batches(store.BatchPreCommit)
	if st, ok := e.p.BatchStatus(bs[0].ID); !ok || !st.WaitingForSigner {
		t.Fatalf("status while signing: %+v", st)
	}
	// A second tick while the request is in flight must not start another.
	if err := e.p.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
	close(gate)
	e.p.waitSigning()
	if e.signer.calls != 1 {
		t.Fatalf("signer called %d times, want 1", e.signer.calls)
	}
	e.settle(1)
	if b, _ := e.st.GetBatch(e.ctx, bs[0].ID); b.State != store.BatchLanded {
		t.Fatalf("batch %s", b.State)
	}
}

func TestSignerRefusalIsVisible(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize = 1 })
	e.signer.refuse = errors.New("policy: method 28 not allowed")
	e.submitPreCommit(1, 5)
	e.tick()
	e.tick()
	bs := e.batches(store.BatchPreCommit)
	st, _ := e.p.BatchStatus(bs[0].ID)
	if st.WaitingForSigner || !strings.Contains(st.Reason, "method 28 not allowed") {
		t.Fatalf("status %+v", st)
	}
	// Not asked again before RetryBackoff: a human approver is not flooded.
	e.tick()
	e.tick()
	if e.signer.calls != 1 {
		t.Fatalf("signer asked %d times within the backoff", e.signer.calls)
	}
	e.signer.mu.Lock()
	e.signer.refuse = nil // the SP changed its policy
	e.signer.mu.Unlock()
	e.clock.Add(e.cfg.RetryBackoff)
	e.settle(1)
	if b, _ := e.st.GetBatch(e.ctx, bs[0].ID); b.State != store.BatchLanded || e.signer.calls != 2 {
		t.Fatalf("after backoff: %s, %d calls", b.State, e.signer.calls)
	}
}

func TestSignerReturningBadSignatureIsRejected(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize = 1 })
	other := bytes.Repeat([]byte{0x17}, 32)
	e.signer.priv = other // signs with a key that is not the sender's
	e.submitPreCommit(1, 5)
	e.tick()
	e.tick()
	bs := e.batches(store.BatchPreCommit)
	st, _ := e.p.BatchStatus(bs[0].ID)
	if !strings.Contains(st.Reason, "invalid signature") || bs[0].Message.State != store.MsgPending || e.chain.pushes != 0 {
		t.Fatalf("status %+v message %+v pushes %d", st, bs[0].Message, e.chain.pushes)
	}
}

func TestFeeAboveCapHoldsBatch(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) {
		tn.Batching.PreCommitBatchSize = 2
		tn.Fees.MaxPreCommitFee = "100000000" // per sector: 2e8 for the batch
	})
	e.chain.baseFee = types.NewInt(1_000) // 2e8 / 1.2e6 gas ≈ 166 < 1000
	e.submitPreCommit(2, 5)
	e.tick()
	bs := e.batches(store.BatchPreCommit)
	if len(bs) != 1 || bs[0].State != store.BatchClosed || bs[0].Message != nil {
		t.Fatalf("a capped batch must not reserve a nonce: %+v", bs)
	}
	st, ok := e.p.BatchStatus(bs[0].ID)
	if !ok || !strings.Contains(st.Reason, "fee above cap") || st.WaitingForSigner {
		t.Fatalf("status %+v", st)
	}
	if n, _ := e.st.SenderNextNonce(e.ctx, address.Format(e.from, address.Mainnet)); n != 0 {
		t.Fatalf("nonce reserved while capped: next %d", n)
	}
	e.chain.baseFee = types.NewInt(100)
	e.settle(1)
	b, _ := e.st.GetBatch(e.ctx, bs[0].ID)
	if b.State != store.BatchLanded {
		t.Fatalf("after base fee drop: %s", b.State)
	}
	msg, _ := types.DecodeMessage(b.Message.Unsigned)
	if fee := msg.GasFeeCap.Mul(types.NewInt(msg.GasLimit)); fee.Cmp(types.NewInt(200_000_000)) > 0 {
		t.Fatalf("max fee %s above cap", fee)
	}
}

func TestAbortedSectorLeavesBatch(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize = 3 })
	ids := e.submitPreCommit(3, 5)
	e.signer.unavailable = true
	// Operator aborts one while the batch is still open.
	e.clock.Add(0)
	if _, err := e.st.AddToBatch(e.ctx, ids[0], store.BatchPreCommit, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.st.AbortSector(e.ctx, ids[0], "operator", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.signer.unavailable = false
	e.settle(2)
	if s := e.sector(ids[0]); s.Phase != store.PhaseAborted || s.AbortReason != "operator" {
		t.Fatalf("aborted sector %+v", s)
	}
	for _, id := range ids[1:] {
		if !e.landed(id, store.BatchPreCommit) {
			t.Fatalf("sector %s not landed", id)
		}
	}
	for _, sm := range e.chain.executed {
		ms, _ := e.chain.members(&sm.Message)
		for _, id := range ms {
			if id == ids[0] {
				t.Fatal("aborted sector sent")
			}
		}
	}
}

func TestUseAvailableBalance(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize = 2 })
	e.cfg.UseAvailableBalance = true
	e.restart()
	e.chain.avail = types.NewInt(1_500_000)
	e.submitPreCommit(2, 5)
	e.tick()
	msg, _ := types.DecodeMessage(e.batches(store.BatchPreCommit)[0].Message.Unsigned)
	if msg.Value.Cmp(types.NewInt(500_000)) != 0 {
		t.Fatalf("value %s, want 2×1e6 − 1.5e6", msg.Value)
	}
}

func TestLotusWalletRoute(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) {
		tn.Batching.PreCommitBatchSize = 1
		tn.SigningRoute = store.LotusWalletRoute
	})
	e.submitPreCommit(1, 5)
	e.tick()
	e.tick()
	b := e.batches(store.BatchPreCommit)[0]
	if st, _ := e.p.BatchStatus(b.ID); !st.WaitingForSigner || !strings.Contains(st.Reason, "lotus-wallet") {
		t.Fatalf("no wallet configured: %+v", st)
	}
	w := &fakeWallet{priv: testKey}
	e.cfg.WalletSigner = LotusWallet{W: w}
	e.restart()
	e.settle(1)
	if b2, _ := e.st.GetBatch(e.ctx, b.ID); b2.State != store.BatchLanded || w.calls != 1 {
		t.Fatalf("batch %s, wallet calls %d", b2.State, w.calls)
	}
	if e.signer.calls != 0 {
		t.Fatal("the signer route was used for a lotus-wallet tenant")
	}
}

func TestSenderFromMinerWorker(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) {
		tn.Batching.PreCommitBatchSize = 1
		tn.Senders = nil
	})
	e.submitPreCommit(1, 5)
	e.settle(1)
	b := e.batches(store.BatchPreCommit)[0]
	if b.State != store.BatchLanded || b.Message.From != address.Format(e.from, address.Mainnet) {
		t.Fatalf("batch %+v", b)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize = 1 })
	e.submitPreCommit(1, 5)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.p.Run(ctx) }()
	e.p.Wake(e.tenant.ID, store.BatchPreCommit)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	bad := DevnetParams()
	bad.MinSectorExpiration = 0
	if _, err := New(Config{Params: bad}, nil, nil, nil, nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("bad params: %v", err)
	}
	if _, err := New(Config{}, nil, newFakeChain(address.Undef), nil, nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("nil store: %v", err)
	}
}

// TestAlreadyPreCommittedGoesToProve: the chain already has a sector's
// pre-commit with its CommR, though no batch of ours recorded it (another
// manager, or a lost record). It is left out of the PreCommit batch and
// still proceeds to ProveCommit.
func TestAlreadyPreCommittedGoesToProve(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) {
		tn.Batching.PreCommitBatchSize, tn.Batching.ProveCommitMode = 2, store.ProvePerSector
	})
	ids := e.submitPreCommit(2, 5)
	var r [32]byte
	copy(r[:], e.sector(ids[0]).CommR)
	e.chain.allocated[ids[0]] = true
	e.chain.precommits[ids[0]] = &lotus.SectorPreCommitOnChainInfo{Info: lotus.SectorPreCommitInfo{SealProof: 5, SectorNumber: miner.SectorNumber(ids[0].Number),
		SealedCID: miner.SealedCID(r), Expiration: e.chain.height + 600_000}, PreCommitDeposit: e.chain.deposit, PreCommitEpoch: e.chain.height - 1}
	e.settle(2) // the regrouped batch is sent on the next tick
	if !e.landed(ids[1], store.BatchPreCommit) {
		t.Fatal("the other sector did not land")
	}
	if s := e.sector(ids[0]); s.Phase != store.PhaseActive || s.PreCommitBatch != 0 {
		t.Fatalf("already pre-committed sector: %+v", s)
	}
	for _, sm := range e.chain.executed {
		ms, _ := e.chain.members(&sm.Message)
		for _, id := range ms {
			if id == ids[0] {
				t.Fatal("pre-committed twice")
			}
		}
	}
	e.submitProof(ids[0], []byte("p"))
	e.chain.height += e.cfg.Params.PreCommitChallengeDelay
	e.settle(1)
	if !e.chain.proven[ids[0]] || !e.landed(ids[0], store.BatchProveCommit) {
		t.Fatal("not proven")
	}
}

// TestTenantsIndependent: a tenant stuck on its signer does not hold up
// another tenant.
func TestTenantsIndependent(t *testing.T) {
	e := newEnv(t, func(tn *store.Tenant) { tn.Batching.PreCommitBatchSize = 1 })
	other, _ := sigs.AddressOf(types.SigTypeSecp256k1, bytes.Repeat([]byte{0x33}, 32))
	if _, err := e.st.CreateTenant(e.ctx, store.Tenant{ID: "beta", Miner: 2000, ProofType: e.tenant.ProofType, Weight: 1,
		Senders: []string{other.String()}, SigningRoute: store.LotusWalletRoute,
		Batching: store.Batching{PreCommitBatchSize: 1}}, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	ids := e.submitPreCommit(4, 5) // fair share spreads them over both tenants
	e.settle(2)
	var mine, theirs int
	for _, id := range ids {
		s := e.sector(id)
		switch s.TenantID {
		case "acme":
			mine++
			if !e.landed(id, store.BatchPreCommit) {
				t.Fatalf("acme sector %s not landed", id)
			}
		case "beta":
			theirs++
			b, _ := e.st.GetBatch(e.ctx, s.PreCommitBatch)
			if st, _ := e.p.BatchStatus(b.ID); b.State != store.BatchClosed || !st.WaitingForSigner {
				t.Fatalf("beta batch %s status %+v", b.State, st)
			}
		}
	}
	if mine == 0 || theirs == 0 {
		t.Fatalf("allocation did not reach both tenants: %d/%d", mine, theirs)
	}
}
