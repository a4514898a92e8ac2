package manager

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/api/rpcapi"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/store"
)

// pipelineStep plays the commit pipeline's part on the store: close the
// sector's open batch, give it a message, and move it to state.
func pipelineStep(t *testing.T, s *Service, id store.SectorID, kind store.BatchKind, to store.BatchState) int64 {
	t.Helper()
	ctx := context.Background()
	now := s.now()
	sec, err := s.st.GetSector(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	b := sec.PreCommitBatch
	if kind == store.BatchProveCommit {
		b = sec.ProveCommitBatch
	}
	if b == 0 {
		t.Fatalf("sector %s is in no %s batch", id, kind)
	}
	if err := s.st.CloseBatch(ctx, b, now); err != nil {
		t.Fatal(err)
	}
	if to == store.BatchClosed {
		return b
	}
	m, err := s.st.ReserveNonce(ctx, b, "t1abc", 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.SetMessageUnsigned(ctx, m.ID, []byte{0x8a, byte(b)}, "bafymsg"+string(kind), now); err != nil {
		t.Fatal(err)
	}
	switch to {
	case store.BatchFailed:
		if _, err := s.st.MarkMessageFailed(ctx, m.ID, "mpool rejected: gas", now); err != nil {
			t.Fatal(err)
		}
		return b
	}
	if _, err := s.st.MarkMessagePushed(ctx, m.ID, now); err != nil {
		t.Fatal(err)
	}
	if to == store.BatchLanded {
		if _, err := s.st.MarkMessageLanded(ctx, m.ID, 0, now); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func testPreCommitInfo(t *testing.T, tk api.Ticket, seed byte) api.PreCommitInfo {
	t.Helper()
	var r, d [32]byte
	r[0], d[0] = seed, seed+1
	pc := api.PreCommitInfo{CommR: commp.SealedCID(r).String(), CommD: commp.PieceCID(d).String(), Ticket: tk}
	pc.CommC[0], pc.CommRLast[0] = seed+2, seed+3
	return pc
}

// TestWorkerLifecycle drives one sector through the whole worker API with a
// fake chain and the store playing the pipeline.
func TestWorkerLifecycle(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1)
	w := workerCtx("w1")

	a := mustAllocate(t, s, "w1", "t0")
	if a.ID != (api.SectorID{Miner: 1000, Number: 0}) || a.Tenant != "acme" || a.ProofType != 5 || a.Resumed {
		t.Fatalf("allocation = %+v", a)
	}
	id := a.ID
	sid := toStoreID(id)

	pieces, err := s.AcquirePieces(w, id)
	if err != nil || len(pieces) != 0 || pieces == nil {
		t.Fatalf("AcquirePieces = %v, %v; want empty CC list", pieces, err)
	}

	tk, err := s.AssignTicket(w, id)
	if err != nil {
		t.Fatal(err)
	}
	// Ticket epoch and value follow the Lotus rule with the miner's ID
	// address as entropy.
	wantEpoch := rand.Devnet2K.TicketEpoch(10_000)
	ent, _ := rand.SealEntropyForID(1000)
	if tk.Epoch != wantEpoch || tk.Ticket != api.Hex32(fakeRandomness("tickets", rand.TagSealRandomness, 9100, ent)) {
		t.Fatalf("ticket = %+v, want epoch %d", tk, wantEpoch)
	}
	e.chain.setHeight(10_050)
	if again, _ := s.AssignTicket(w, id); again != tk {
		t.Fatalf("second AssignTicket = %+v, want the stored %+v", again, tk)
	}

	if r, _ := s.PollPreCommitState(w, id); r.State != api.OnChainNotFound {
		t.Fatalf("poll before submit = %+v", r)
	}
	pc := testPreCommitInfo(t, tk, 1)
	for i, want := range []api.SubmitResult{api.SubmitAccepted, api.SubmitDuplicate} {
		r, err := s.SubmitPreCommit(w, id, pc, false)
		if err != nil || r.Result != want {
			t.Fatalf("submit %d = %+v, %v; want %v", i, r, err, want)
		}
	}
	bad := testPreCommitInfo(t, tk, 9)
	if r, _ := s.SubmitPreCommit(w, id, bad, false); r.Result != api.SubmitMismatched {
		t.Fatalf("different precommit = %+v, want mismatched", r)
	}
	badC := pc
	badC.CommC[5] = 7
	if r, _ := s.SubmitPreCommit(w, id, badC, false); r.Result != api.SubmitMismatched {
		t.Fatalf("different comm_c = %+v, want mismatched", r)
	}
	if r, _ := s.PollPreCommitState(w, id); r.State != api.OnChainPending {
		t.Fatalf("poll after submit = %+v, want pending", r)
	}

	// Seed before the precommit is on chain: wait.
	if r, err := s.WaitSeed(w, id); err != nil || !r.ShouldWait || r.Seed != nil {
		t.Fatalf("WaitSeed before precommit = %+v, %v", r, err)
	}
	pipelineStep(t, s, sid, store.BatchPreCommit, store.BatchSent)
	if r, _ := s.PollPreCommitState(w, id); r.State != api.OnChainPacked || r.MessageCID == "" {
		t.Fatalf("poll after push = %+v, want packed with cid", r)
	}
	sec, _ := s.st.GetSector(context.Background(), sid)
	m, _ := s.st.GetBatch(context.Background(), sec.PreCommitBatch)
	s.st.MarkMessageLanded(context.Background(), m.Message.ID, 0, s.now())
	if r, _ := s.PollPreCommitState(w, id); r.State != api.OnChainLanded {
		t.Fatalf("poll after landing = %+v, want landed", r)
	}

	// Pre-commit at 10_060: seed epoch 10_070, drawable at 10_076.
	e.chain.precommit[0] = 10_060
	e.chain.setHeight(10_070)
	r, err := s.WaitSeed(w, id)
	if err != nil || !r.ShouldWait || r.DelaySeconds != 6*4 {
		t.Fatalf("WaitSeed 6 epochs early = %+v, %v; want wait 24 s", r, err)
	}
	// The seed is stored with the proof; one this manager's chain has not
	// settled yet makes the proof a call to retry (a refusal would pause
	// the sector, wrongly when only this manager's node lags).
	if pr, err := s.SubmitProof(w, id, api.ProofInfo{Proof: []byte{1, 2, 3}}, false); !errors.Is(err, ErrNoChain) {
		t.Fatalf("proof before seed = %+v, %v; want ErrNoChain (retry)", pr, err)
	}
	e.chain.setHeight(10_076)
	r, err = s.WaitSeed(w, id)
	if err != nil || r.ShouldWait || r.Seed == nil || r.Seed.Epoch != 10_070 ||
		r.Seed.Seed != api.Hex32(fakeRandomness("beacon", rand.TagInteractiveSealChallengeSeed, 10_070, ent)) {
		t.Fatalf("WaitSeed when ready = %+v, %v", r, err)
	}

	for i, want := range []api.SubmitResult{api.SubmitAccepted, api.SubmitDuplicate, api.SubmitMismatched} {
		proof := []byte{1, 2, 3}
		if i == 2 {
			proof = []byte{9}
		}
		pr, err := s.SubmitProof(w, id, api.ProofInfo{Proof: proof}, false)
		if err != nil || pr.Result != want {
			t.Fatalf("proof %d = %+v, %v; want %v", i, pr, err, want)
		}
	}
	pipelineStep(t, s, sid, store.BatchProveCommit, store.BatchLanded)
	// Landed, but the chain does not list the sector as active: failed.
	if r, _ := s.PollProofState(w, id); r.State != api.OnChainFailed {
		t.Fatalf("proof landed but inactive = %+v, want failed", r)
	}
	e.chain.active[0] = true
	if r, _ := s.PollProofState(w, id); r.State != api.OnChainLanded {
		t.Fatalf("proof landed = %+v", r)
	}

	rep := api.StateReport{Worker: "w1", Thread: "t0", Prev: "ProofSubmitted", Next: "Finalized", Event: "Finalize", CPUSeconds: map[string]float64{"pc1": 12.5}}
	for i := 0; i < 2; i++ { // the resend must not be billed twice
		if _, err := s.ReportState(w, id, rep); err != nil {
			t.Fatal(err)
		}
	}
	fi := api.FinalizedInfo{Location: "/store/a", Files: []api.SectorFile{{Name: "sealed/s-t01000-0", Size: 2048}}}
	if _, err := s.ReportFinalized(w, id, fi); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReportFinalized(w, id, fi); err != nil {
		t.Fatalf("ReportFinalized is not idempotent: %v", err)
	}

	md, err := s.ExportSector(tenantCtx("acme"), id)
	if err != nil {
		t.Fatal(err)
	}
	if md.CommR != pc.CommR || md.CommD != pc.CommD || md.CommC != pc.CommC || md.CommRLast != pc.CommRLast ||
		md.Ticket != tk || md.Seed.Epoch != 10_070 || md.PreCommitMessage == "" || md.ProveCommitMessage == "" ||
		len(md.Files) != 1 || md.Expiration != 10_070+540*2880 {
		t.Fatalf("export = %+v", md)
	}
	us, err := s.Usage(tenantCtx("acme"), api.UsageRequest{})
	if err != nil || len(us) != 1 || us[0].SectorsAllocated != 1 || us[0].SectorsFinalized != 1 || us[0].CPUSeconds["pc1"] != 12.5 || us[0].BytesFinalized != 2048 {
		t.Fatalf("usage = %+v, %v", us, err)
	}
	d, err := s.ShowSector(tenantCtx("acme"), id)
	if err != nil || d.Sector.Phase != "finalized" || len(d.History) < 2 || d.Location != "/store/a" {
		t.Fatalf("show = %+v, %v", d, err)
	}
}

// precommitted allocates a sector of tenant acme to worker w1, assigns
// its ticket and submits its PreCommit, which queues it in a batch.
func precommitted(t *testing.T, s *Service) (api.SectorID, api.PreCommitInfo) {
	t.Helper()
	mustTenant(t, s, "acme", 1000, 1)
	w := workerCtx("w1")
	id := mustAllocate(t, s, "w1", "t0").ID
	tk, err := s.AssignTicket(w, id)
	if err != nil {
		t.Fatal(err)
	}
	pc := testPreCommitInfo(t, tk, 1)
	if r, err := s.SubmitPreCommit(w, id, pc, false); err != nil || r.Result != api.SubmitAccepted {
		t.Fatalf("submit precommit: %+v, %v", r, err)
	}
	return id, pc
}

func TestPollFailedBatchAndResubmit(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	w := workerCtx("w1")
	id, pc := precommitted(t, s)
	if r, _ := s.PollPreCommitState(w, id); r.State != api.OnChainPending {
		t.Fatalf("open batch = %+v", r)
	}
	pipelineStep(t, s, toStoreID(id), store.BatchPreCommit, store.BatchClosed)
	if r, _ := s.PollPreCommitState(w, id); r.State != api.OnChainPending {
		t.Fatalf("closed batch = %+v", r)
	}
	first, _ := s.st.GetSector(context.Background(), toStoreID(id))
	b := first.PreCommitBatch
	m, _ := s.st.ReserveNonce(context.Background(), b, "t1abc", 0, s.now())
	s.st.MarkMessageFailed(context.Background(), m.ID, "mpool rejected", s.now())
	// A transient batch failure is the pipeline's to retry: the sector is
	// still pending, the reason visible, and polling does not re-queue it
	// (that would skip the pipeline's retry pause).
	for i := 0; i < 2; i++ {
		r, _ := s.PollPreCommitState(w, id)
		if r.State != api.OnChainPending || !strings.Contains(r.Desc, "mpool rejected") {
			t.Fatalf("poll %d after failed batch = %+v, want pending with the reason", i, r)
		}
		if sec, _ := s.st.GetSector(context.Background(), toStoreID(id)); sec.PreCommitBatch != 0 {
			t.Fatalf("poll re-queued the sector into batch %d", sec.PreCommitBatch)
		}
	}
	if r, _ := s.SubmitPreCommit(w, id, pc, true); r.Result != api.SubmitDuplicate {
		t.Fatalf("resubmit = %+v, want duplicate", r)
	}
	sec, _ := s.st.GetSector(context.Background(), toStoreID(id))
	if sec.PreCommitBatch == 0 || sec.PreCommitBatch == b {
		t.Fatalf("resubmitted sector in batch %d (old %d), want a new batch", sec.PreCommitBatch, b)
	}
	if r, _ := s.PollPreCommitState(w, id); r.State != api.OnChainPending {
		t.Fatalf("after resubmit = %+v", r)
	}
	// A sector the pipeline gives up on is aborted: PermFailed with the
	// reason.
	if err := s.st.AbortSector(context.Background(), toStoreID(id), "precommit failed alone: exit 16", s.now()); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.PollPreCommitState(w, id); r.State != api.OnChainPermFailed || !strings.Contains(r.Desc, "failed alone") {
		t.Fatalf("aborted sector = %+v, want perm-failed", r)
	}
}

// TestPollStaleSectorFailedBatch: a poll that finds a cached sector
// still in a batch the pipeline has since failed (and detached the sector
// from) answers from a fresh read, Pending, not Failed: a failure would
// make the worker resubmit and skip the pipeline's retry pause.
func TestPollStaleSectorFailedBatch(t *testing.T) {
	e := newEnv(t)
	e.pollTTL = time.Hour
	s := e.open()
	w := workerCtx("w1")
	id, _ := precommitted(t, s)
	if r, _ := s.PollPreCommitState(w, id); r.State != api.OnChainPending {
		t.Fatalf("open batch = %+v", r) // the sector is cached in its batch
	}
	b := pipelineStep(t, s, toStoreID(id), store.BatchPreCommit, store.BatchFailed)
	s.batches.forget(b) // the batch's head was read again before the sector
	r, err := s.PollPreCommitState(w, id)
	if err != nil || r.State != api.OnChainPending || !strings.Contains(r.Desc, "re-batched") {
		t.Fatalf("poll after the batch failed = %+v, %v; want pending, waiting to be re-batched", r, err)
	}
}

func TestSubmitPreCommitRejections(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1)
	w := workerCtx("w1")
	id := mustAllocate(t, s, "w1", "t0").ID
	good := testPreCommitInfo(t, api.Ticket{}, 1)
	if r, _ := s.SubmitPreCommit(w, id, good, false); r.Result != api.SubmitRejected {
		t.Fatalf("without ticket = %+v", r)
	}
	tk, _ := s.AssignTicket(w, id)
	for name, mod := range map[string]func(*api.PreCommitInfo){
		"comm_r not a sealed cid": func(p *api.PreCommitInfo) { p.CommR = p.CommD },
		"comm_d garbage":          func(p *api.PreCommitInfo) { p.CommD = "bafy-nope" },
	} {
		pc := testPreCommitInfo(t, tk, 1)
		mod(&pc)
		if r, err := s.SubmitPreCommit(w, id, pc, false); err != nil || r.Result != api.SubmitRejected {
			t.Errorf("%s: %+v, %v; want rejected", name, r, err)
		}
	}
	// Ticket too old by the time the precommit would land.
	e.chain.setHeight(10_000 + rand.Devnet2K.MaxPreCommitRandomnessLookback)
	if r, _ := s.SubmitPreCommit(w, id, testPreCommitInfo(t, tk, 1), false); r.Result != api.SubmitRejected {
		t.Fatalf("expired ticket = %+v, want rejected", r)
	}
	e.chain.setHeight(10_001)
	other := tk
	other.Epoch++
	if r, _ := s.SubmitPreCommit(w, id, testPreCommitInfo(t, other, 1), false); r.Result != api.SubmitMismatched {
		t.Fatalf("other ticket = %+v, want mismatched", r)
	}
}

func TestLeaseHolderAndRenewal(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1)
	a := mustAllocate(t, s, "w1", "t0")

	if _, err := s.AssignTicket(workerCtx("w2"), a.ID); !errors.Is(err, ErrNotLeaseHolder) {
		t.Fatalf("other worker: %v, want ErrNotLeaseHolder", err)
	}
	if _, err := s.AllocateSector(workerCtx("w2"), api.AllocateSpec{Worker: "w1", Thread: "t0"}); !errors.Is(err, ErrPermission) {
		t.Fatalf("claiming another worker's name: %v, want ErrPermission", err)
	}
	if _, err := s.AllocateSector(workerCtx("w1"), api.AllocateSpec{Thread: ""}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty thread: %v, want ErrInvalid", err)
	}

	// A call after a third of the TTL renews the lease; one right after
	// an allocation does not need to.
	e.clock.Advance(s.ttl / 3)
	if _, err := s.PollPreCommitState(workerCtx("w1"), a.ID); err != nil {
		t.Fatal(err)
	}
	sec, _ := s.st.GetSector(context.Background(), toStoreID(a.ID))
	if want := e.clock.Now().Add(s.ttl); !sec.LeaseExpires.Equal(want) {
		t.Fatalf("lease expires %v, want renewed to %v", sec.LeaseExpires, want)
	}

	// Silence past the TTL: visible as expired; the same identity gets
	// the sector back, another identity a new one.
	e.clock.Advance(s.ttl + time.Minute)
	exp, err := s.ExpiredLeases(adminCtx())
	if err != nil || len(exp) != 1 || exp[0].ID != a.ID || !exp[0].LeaseExpired {
		t.Fatalf("expired leases = %+v, %v", exp, err)
	}
	again := mustAllocate(t, s, "w1", "t0")
	if again.ID != a.ID || !again.Resumed {
		t.Fatalf("re-offer = %+v, want %v resumed", again, a.ID)
	}
	other := mustAllocate(t, s, "w1", "t1")
	if other.ID == a.ID || other.Resumed {
		t.Fatalf("another thread got %+v", other)
	}
}

func TestAllocateSkipsNumbersOnChain(t *testing.T) {
	e := newEnv(t)
	for n := uint64(0); n < 37; n++ {
		e.chain.allocated[n] = true
	}
	s := e.open()
	// Creating the tenant moves the counter past the chain's numbers.
	mustTenant(t, s, "acme", 1000, 1)
	if a := mustAllocate(t, s, "w1", "t0"); a.ID.Number != 37 {
		t.Fatalf("first number = %d, want 37", a.ID.Number)
	}
	// Numbers used on chain after the tenant was created (the SP sealed
	// elsewhere meanwhile) are skipped at allocation.
	e.chain.allocated[38], e.chain.allocated[39] = true, true
	a := mustAllocate(t, s, "w1", "t1")
	if a.ID.Number != 40 {
		t.Fatalf("number = %d, want 40", a.ID.Number)
	}
	sec, err := s.st.GetSector(context.Background(), store.SectorID{Miner: 1000, Number: 38})
	if err != nil || sec.Phase != store.PhaseAborted {
		t.Fatalf("sector 38 = %+v, %v; want recorded aborted", sec, err)
	}
}

func TestAcquirePiecesFromQueue(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1)
	var comm [32]byte
	piece := func(b byte, size uint64) api.PieceSubmission {
		comm[0] = b
		return api.PieceSubmission{PieceCID: commp.PieceCID(comm).String(), Size: size, SourceURL: "https://data.example/" + string('a'+b)}
	}
	// 2 KiB sectors: 1024 + 512 + 256 fit the first sector (aligned),
	// the second 1024 goes to the next sector.
	subs := []api.PieceSubmission{piece(1, 1024), piece(2, 512), piece(3, 1024), piece(4, 256)}
	res, err := s.SubmitPieces(tenantCtx("acme"), subs)
	if err != nil || len(res.Queued) != 4 {
		t.Fatalf("submit = %+v, %v", res, err)
	}
	w := workerCtx("w1")
	a := mustAllocate(t, s, "w1", "t0")
	got, err := s.AcquirePieces(w, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Size != 1024 || got[1].Size != 512 || got[2].Size != 256 || got[0].PayloadSize != 1016 {
		t.Fatalf("first sector pieces = %+v", got)
	}
	again, _ := s.AcquirePieces(w, a.ID)
	if len(again) != 3 || again[0] != got[0] {
		t.Fatalf("repeat = %+v", again)
	}
	stored, _ := s.st.Pieces(context.Background(), toStoreID(a.ID))
	if len(stored) != 3 || stored[0].CID != got[0].PieceCID {
		t.Fatalf("store pieces = %+v", stored)
	}
	b := mustAllocate(t, s, "w1", "t1")
	got2, _ := s.AcquirePieces(w, b.ID)
	if len(got2) != 1 || got2[0].Size != 1024 {
		t.Fatalf("second sector pieces = %+v", got2)
	}
	c := mustAllocate(t, s, "w1", "t2")
	if got3, _ := s.AcquirePieces(w, c.ID); len(got3) != 0 {
		t.Fatalf("third sector (empty queue) = %+v, want CC", got3)
	}

	for name, p := range map[string]api.PieceSubmission{
		"file url":    {PieceCID: subs[0].PieceCID, Size: 1024, SourceURL: "file:///etc/passwd"},
		"not pow2":    {PieceCID: subs[0].PieceCID, Size: 1000, SourceURL: "https://x/y"},
		"too big":     {PieceCID: subs[0].PieceCID, Size: 4096, SourceURL: "https://x/y"},
		"payload":     {PieceCID: subs[0].PieceCID, Size: 1024, PayloadSize: 1017, SourceURL: "https://x/y"},
		"not commp":   {PieceCID: commp.SealedCID(comm).String(), Size: 1024, SourceURL: "https://x/y"},
		"garbage cid": {PieceCID: "nope", Size: 1024, SourceURL: "https://x/y"},
	} {
		if _, err := s.SubmitPieces(tenantCtx("acme"), []api.PieceSubmission{p}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestReportStateAbortAndWorkerPing(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1)
	a := mustAllocate(t, s, "w1", "t0")
	w := workerCtx("w1")
	if _, err := s.AbortSector(adminCtx(), a.ID, "operator says no"); err != nil {
		t.Fatal(err)
	}
	r, err := s.ReportState(w, a.ID, api.StateReport{Prev: "A", Next: "B", Event: "e"})
	if err != nil || r.AbortReason != "operator says no" {
		t.Fatalf("report on aborted sector = %+v, %v", r, err)
	}
	if _, err := s.AssignTicket(w, a.ID); !errors.Is(err, ErrSectorDone) {
		t.Fatalf("ticket for aborted sector: %v", err)
	}

	if _, err := s.PauseThread(adminCtx(), "w1", "t0", true); err != nil {
		t.Fatal(err)
	}
	ping := api.WorkerPing{Worker: "w1", Version: "test", Threads: []api.ThreadInfo{{Name: "t0", State: "idle"}}}
	resp, err := s.WorkerPing(w, ping)
	if err != nil || len(resp.Pause) != 1 || resp.Pause[0] != "t0" {
		t.Fatalf("ping = %+v, %v", resp, err)
	}
	if resp, _ := s.WorkerPing(w, ping); len(resp.Pause) != 0 {
		t.Fatalf("order delivered twice: %+v", resp)
	}
	if _, err := s.WorkerPing(w, api.WorkerPing{Worker: "w2"}); !errors.Is(err, ErrPermission) {
		t.Fatalf("ping as another worker: %v", err)
	}
	ws, err := s.Workers(adminCtx())
	if err != nil || len(ws) != 1 || ws[0].Name != "w1" || len(ws[0].Threads) != 1 || !ws[0].LastSeen.Equal(t0) {
		t.Fatalf("workers = %+v, %v", ws, err)
	}
}

// TestReportStateValidated: state names must be the worker state machine's,
// and a report from behind the stored state (stale or replayed) is refused;
// a Prev ahead of it (a lost report) is accepted.
func TestReportStateValidated(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1)
	a := mustAllocate(t, s, "w1", "t0")
	w := workerCtx("w1")
	rep := func(prev, next string) error {
		_, err := s.ReportState(w, a.ID, api.StateReport{Worker: "w1", Thread: "t0", Prev: prev, Next: next, Event: "e"})
		return err
	}
	if err := rep("Allocated", "Pwned"); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown next state: %v", err)
	}
	if err := rep("x", "PiecesAcquired"); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown prev state: %v", err)
	}
	if _, err := s.ReportState(w, a.ID, api.StateReport{Prev: "Allocated", Next: "Allocated", Event: "e",
		Failure: &api.Failure{Level: "catastrophic", Desc: "x"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown failure level: %v", err)
	}
	for _, step := range [][2]string{{"Allocated", "PiecesAcquired"}, {"PiecesAcquired", "PiecesAdded"}, {"TreeDBuilt", "TicketAssigned"}} {
		if err := rep(step[0], step[1]); err != nil {
			t.Fatalf("report %v: %v", step, err)
		}
	}
	if err := rep("Allocated", "PiecesAcquired"); !errors.Is(err, ErrConflict) {
		t.Errorf("stale report from Allocated after TicketAssigned: %v", err)
	}
	if err := rep("TicketAssigned", "Paused"); err != nil {
		t.Errorf("pause: %v", err)
	}
	if err := rep("Paused", "PC1Done"); err != nil {
		t.Errorf("resume: %v", err)
	}
	if err := s.reports.flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	sec, err := s.st.GetSector(context.Background(), store.SectorID{Miner: a.ID.Miner, Number: a.ID.Number})
	if err != nil || sec.State != "PC1Done" {
		t.Fatalf("stored state %q, %v; want PC1Done", sec.State, err)
	}
}

// TestTerminalErrorOnTheWire: a worker call on a finished sector answers
// over the wire with the documented application code of ErrSectorDone
// (api.CodeSectorDone), never the internal -32603, so that a client
// without the manager's registry (the worker) can classify it; with the
// registry it is the sentinel itself.
func TestTerminalErrorOnTheWire(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1)
	url := serve(t, s)
	tok := issue(t, s, api.TokenRequest{Role: "worker", Subject: "w1"})
	var a *api.AllocatedSector
	plain, err := rpc.Dial(context.Background(), url, rpc.WithToken(tok))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.Call(context.Background(), api.MethodAllocateSector, &a, api.AllocateSpec{Worker: "w1", Thread: "t0"}); err != nil || a == nil {
		t.Fatalf("allocate: %v, %v", a, err)
	}
	if _, err := s.AbortSector(adminCtx(), a.ID, "operator says no"); err != nil {
		t.Fatal(err)
	}
	var tk api.Ticket
	err = plain.Call(context.Background(), api.MethodAssignTicket, &tk, a.ID)
	var re *rpc.Error
	if !errors.As(err, &re) || re.Code != api.CodeSectorDone {
		t.Fatalf("AssignTicket on an aborted sector: %v, want code %d", err, api.CodeSectorDone)
	}
	if err := dial(t, url, tok).Call(context.Background(), api.MethodAssignTicket, &tk, a.ID); !errors.Is(err, ErrSectorDone) {
		t.Fatalf("with the registry: %v, want ErrSectorDone", err)
	}
	// The worker's typed client: SubmitPreCommit for the finished sector
	// is the sentinel, with its documented code.
	sealer := rpcapi.NewSealerClient(dial(t, url, tok))
	_, err = sealer.SubmitPreCommit(context.Background(), a.ID, api.PreCommitInfo{}, false)
	if !errors.Is(err, api.ErrSectorDone) || !errors.As(err, &re) || re.Code != api.CodeSectorDone {
		t.Fatalf("typed SubmitPreCommit on an aborted sector: %v, want ErrSectorDone with code %d", err, api.CodeSectorDone)
	}
}
