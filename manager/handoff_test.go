package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/delivery"
	"github.com/sealant/sealant/store"
)

// fakeReceiver plays an SP's receiver with the semantics the handoff relies
// on: a push of the same metadata is a no-op unless the sector was
// rejected (then it restarts at pending); different metadata before a
// verdict replaces the old.
type fakeReceiver struct {
	mu        sync.Mutex
	failPush  int   // the next failPush pushes fail
	statusErr error // returned by Status when set
	pushes    []api.SectorMetadata
	eps       []delivery.Endpoint
	statuses  int
	sectors   map[api.SectorID]*api.ReceiverSector
	md        map[api.SectorID]api.SectorMetadata
	pushed    chan api.SectorID // receives every successful push (buffered)
}

func newFakeReceiver() *fakeReceiver {
	return &fakeReceiver{sectors: map[api.SectorID]*api.ReceiverSector{}, md: map[api.SectorID]api.SectorMetadata{}, pushed: make(chan api.SectorID, 16)}
}

var errReceiverDown = errors.New("connection refused")

func (f *fakeReceiver) PushMetadata(_ context.Context, e delivery.Endpoint, md api.SectorMetadata) (api.ReceiverSector, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eps = append(f.eps, e)
	if f.failPush > 0 {
		f.failPush--
		return api.ReceiverSector{}, errReceiverDown
	}
	f.pushes = append(f.pushes, md)
	rs, ok := f.sectors[md.ID]
	switch {
	case !ok:
		rs = &api.ReceiverSector{ID: md.ID, State: api.DeliveryPending}
		f.sectors[md.ID] = rs
	case rs.State == api.DeliveryRejected:
		*rs = api.ReceiverSector{ID: md.ID, State: api.DeliveryPending}
	case rs.State == api.DeliveryAccepted && fmt.Sprint(f.md[md.ID]) != fmt.Sprint(md):
		return api.ReceiverSector{}, delivery.ErrConflict
	}
	f.md[md.ID] = md
	select {
	case f.pushed <- md.ID:
	default:
	}
	return *rs, nil
}

func (f *fakeReceiver) Status(_ context.Context, _ delivery.Endpoint, id api.SectorID) (api.ReceiverSector, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statuses++
	if f.statusErr != nil {
		return api.ReceiverSector{}, f.statusErr
	}
	rs, ok := f.sectors[id]
	if !ok {
		return api.ReceiverSector{}, delivery.ErrNotFound
	}
	return *rs, nil
}

func (f *fakeReceiver) set(id api.SectorID, st api.DeliveryState, reason string, checks ...api.VerifyCheck) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sectors[id].State, f.sectors[id].Reason, f.sectors[id].Checks = st, reason, checks
}

func (f *fakeReceiver) pushCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pushes)
}

func (f *fakeReceiver) lastPush() api.SectorMetadata {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pushes[len(f.pushes)-1]
}

const testReceiverTarget = "https://sp.example:2345/#token=tok-abc"

// sealToFinalized drives one sector of the env's only tenant through the
// worker API up to ReportFinalized (the pipeline played on the store, as in
// TestWorkerLifecycle) and returns it with the precommit it was sealed with.
func sealToFinalized(t *testing.T, e *env, s *Service) (api.SectorID, api.PreCommitInfo) {
	t.Helper()
	w := workerCtx("w1")
	a := mustAllocate(t, s, "w1", "t0")
	id, sid := a.ID, toStoreID(a.ID)
	if _, err := s.AcquirePieces(w, id); err != nil {
		t.Fatal(err)
	}
	tk, err := s.AssignTicket(w, id)
	if err != nil {
		t.Fatal(err)
	}
	pc := testPreCommitInfo(t, tk, 1)
	if r, err := s.SubmitPreCommit(w, id, pc, false); err != nil || r.Result != api.SubmitAccepted {
		t.Fatalf("precommit = %+v, %v", r, err)
	}
	pipelineStep(t, s, sid, store.BatchPreCommit, store.BatchLanded)
	e.chain.mu.Lock()
	e.chain.precommit[id.Number] = 10_060
	e.chain.mu.Unlock()
	e.chain.setHeight(10_076)
	if r, err := s.WaitSeed(w, id); err != nil || r.ShouldWait {
		t.Fatalf("seed = %+v, %v", r, err)
	}
	if r, err := s.SubmitProof(w, id, api.ProofInfo{Proof: []byte{1, 2, 3}}, false); err != nil || r.Result != api.SubmitAccepted {
		t.Fatalf("proof = %+v, %v", r, err)
	}
	pipelineStep(t, s, sid, store.BatchProveCommit, store.BatchLanded)
	fi := api.FinalizedInfo{Location: "/persist", Files: []api.SectorFile{
		{Name: "sealed/s-t01000-0", Size: 2048, SHA256: api.Hex32{1}},
		{Name: "cache/s-t01000-0/p_aux", Size: 64, SHA256: api.Hex32{2}},
		{Name: "unsealed/s-t01000-0", Size: 2048, SHA256: api.Hex32{3}},
	}}
	if _, err := s.ReportFinalized(w, id, fi); err != nil {
		t.Fatal(err)
	}
	return id, pc
}

func deliveryOf(t *testing.T, s *Service, id api.SectorID) store.Delivery {
	t.Helper()
	d, err := s.st.GetDelivery(context.Background(), toStoreID(id))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestHandoffPushRetriesAndIsIdempotent: a failing receiver is retried with
// a persisted back-off (not before it is due), the pushed metadata is
// complete and without the provider's unsealed copy, later passes do not
// push again but follow the receiver's state to its verdict, and only then
// may the worker clean up.
func TestHandoffPushRetriesAndIsIdempotent(t *testing.T) {
	e := newEnv(t)
	fr := newFakeReceiver()
	fr.failPush = 2
	e.receiver = fr
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1, func(tc *api.TenantConfig) { tc.DeliveryTarget = testReceiverTarget })
	id, pc := sealToFinalized(t, e, s)
	ctx := context.Background()

	steps := []struct {
		name      string
		advance   time.Duration
		wantErr   bool
		wantPush  int // successful pushes so far
		wantTries int // push attempts so far (endpoint log)
	}{
		{"first push fails", 0, true, 0, 1},
		{"not retried before the back-off", 4 * time.Second, false, 0, 1},
		{"retried after 5 s, fails again", time.Second, true, 0, 2},
		{"back-off doubled: not at +5 s", 5 * time.Second, false, 0, 2},
		{"pushed at +10 s", 5 * time.Second, false, 1, 3},
		{"not pushed again", time.Minute, false, 1, 3},
	}
	for _, st := range steps {
		e.clock.Advance(st.advance)
		_, err := s.PushPendingMetadata(ctx)
		if (err != nil) != st.wantErr {
			t.Fatalf("%s: err = %v, want error %v", st.name, err, st.wantErr)
		}
		if got := fr.pushCount(); got != st.wantPush {
			t.Fatalf("%s: %d pushes, want %d", st.name, got, st.wantPush)
		}
		if got := len(fr.eps); got != st.wantTries {
			t.Fatalf("%s: %d push attempts, want %d", st.name, got, st.wantTries)
		}
	}
	if ep := fr.eps[0]; ep.URL != "https://sp.example:2345" || ep.Token != "tok-abc" {
		t.Fatalf("endpoint = %+v", ep)
	}
	md := fr.lastPush()
	want, err := s.ExportSector(adminCtx(), id)
	if err != nil {
		t.Fatal(err)
	}
	if md.ID != id || md.ProofType != 5 || md.CommR != pc.CommR || md.CommD != pc.CommD || md.CommC != pc.CommC ||
		md.CommRLast != pc.CommRLast || md.Ticket != pc.Ticket || md.Seed != want.Seed || md.Seed.Epoch != 10_070 ||
		md.PreCommitMessage == "" || md.ProveCommitMessage == "" || md.Expiration != want.Expiration || md.Pieces == nil {
		t.Fatalf("pushed metadata = %+v", md)
	}
	if len(md.Files) != 2 || md.Files[0].Name != "sealed/s-t01000-0" || md.Files[1].Name != "cache/s-t01000-0/p_aux" {
		t.Fatalf("pushed files = %+v, want sealed and p_aux without unsealed/", md.Files)
	}

	// The worker claims acceptance while the receiver still verifies: the
	// receiver's state is recorded and the worker must not clean up.
	fr.set(id, api.DeliveryVerifying, "")
	w := workerCtx("w1")
	resp, err := s.ReportDelivery(w, id, api.DeliveryReport{State: api.DeliveryAccepted})
	if err != nil || resp.State != api.DeliveryVerifying || resp.MayCleanUp {
		t.Fatalf("premature accepted report = %+v, %v; want verifying without clean-up", resp, err)
	}
	if d := deliveryOf(t, s, id); d.State != store.DeliveryVerifying {
		t.Fatalf("delivery = %+v, want verifying", d)
	}

	// The loop alone records the verdict, reading the receiver's state at
	// most every handoffStatusInterval.
	fr.set(id, api.DeliveryAccepted, "")
	fr.mu.Lock()
	statuses := fr.statuses
	fr.mu.Unlock()
	if _, err := s.PushPendingMetadata(ctx); err != nil {
		t.Fatal(err)
	}
	if d := deliveryOf(t, s, id); d.State != store.DeliveryVerifying || fr.statuses != statuses {
		t.Fatalf("delivery = %+v after %d status reads; want verifying, no read before the interval", d, fr.statuses-statuses)
	}
	e.clock.Advance(handoffStatusInterval)
	if _, err := s.PushPendingMetadata(ctx); err != nil {
		t.Fatal(err)
	}
	if d := deliveryOf(t, s, id); d.State != store.DeliveryAccepted {
		t.Fatalf("delivery = %+v, want accepted", d)
	}
	if fr.pushCount() != 1 {
		t.Fatalf("%d pushes, want 1", fr.pushCount())
	}
	resp, err = s.ReportDelivery(w, id, api.DeliveryReport{State: api.DeliveryAccepted})
	if err != nil || resp.State != api.DeliveryAccepted || !resp.MayCleanUp {
		t.Fatalf("accepted report = %+v, %v", resp, err)
	}
}

// TestHandoffRejectedVerdictAndRetry: the receiver's rejection (with its
// reason) is what is recorded, whatever the worker claims; the worker's
// next delivery is a new attempt whose metadata is pushed again before it
// transfers, which restarts the sector at the receiver.
func TestHandoffRejectedVerdictAndRetry(t *testing.T) {
	e := newEnv(t)
	fr := newFakeReceiver()
	e.receiver = fr
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1, func(tc *api.TenantConfig) { tc.DeliveryTarget = testReceiverTarget })
	id, _ := sealToFinalized(t, e, s)
	w := workerCtx("w1")

	// The worker asks for the target before transferring: the metadata is
	// pushed there and then, without waiting for the loop.
	tgt, err := s.DeliveryTarget(w, id)
	if err != nil || tgt.Architecture != api.ArchSPProves || tgt.ReceiverURL != testReceiverTarget {
		t.Fatalf("target = %+v, %v", tgt, err)
	}
	if fr.pushCount() != 1 {
		t.Fatalf("%d pushes before transfer, want 1", fr.pushCount())
	}
	if _, err := s.DeliveryTarget(w, id); err != nil || fr.pushCount() != 1 {
		t.Fatalf("second DeliveryTarget: %v, %d pushes; want no new push", err, fr.pushCount())
	}

	fr.set(id, api.DeliveryRejected, "comm_r does not match the chain",
		api.VerifyCheck{Name: delivery.CheckChain, OK: false, Detail: "mismatch"})
	resp, err := s.ReportDelivery(w, id, api.DeliveryReport{State: api.DeliveryAccepted})
	if err != nil || resp.State != api.DeliveryRejected || resp.MayCleanUp || !strings.Contains(resp.Desc, "comm_r does not match") {
		t.Fatalf("report against a rejecting receiver = %+v, %v", resp, err)
	}
	d := deliveryOf(t, s, id)
	if d.State != store.DeliveryRejected || !strings.Contains(d.Reason, delivery.CheckChain) {
		t.Fatalf("delivery = %+v", d)
	}
	// A rejected delivery is final for the loop: no push, no walk back.
	if _, err := s.PushPendingMetadata(context.Background()); err != nil || fr.pushCount() != 1 {
		t.Fatalf("loop after rejection: %v, %d pushes", err, fr.pushCount())
	}

	// The operator resumes the sector; the worker delivers again.
	if _, err := s.DeliveryTarget(w, id); err != nil {
		t.Fatal(err)
	}
	if fr.pushCount() != 2 {
		t.Fatalf("%d pushes after the retry, want 2 (a push restarts a rejected sector)", fr.pushCount())
	}
	if d2 := deliveryOf(t, s, id); d2.State != store.DeliveryPending || d2.Attempts != d.Attempts+1 {
		t.Fatalf("delivery after retry = %+v, want pending, attempt %d", d2, d.Attempts+1)
	}
	fr.set(id, api.DeliveryAccepted, "")
	resp, err = s.ReportDelivery(w, id, api.DeliveryReport{State: api.DeliveryAccepted})
	if err != nil || resp.State != api.DeliveryAccepted || !resp.MayCleanUp {
		t.Fatalf("accepted after retry = %+v, %v", resp, err)
	}
}

// TestHandoffReceiverUnreachable: an "accepted" the receiver cannot
// confirm is not recorded (no clean-up); a "rejected" is.
func TestHandoffReceiverUnreachable(t *testing.T) {
	e := newEnv(t)
	fr := newFakeReceiver()
	e.receiver = fr
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1, func(tc *api.TenantConfig) { tc.DeliveryTarget = testReceiverTarget })
	id, _ := sealToFinalized(t, e, s)
	if _, err := s.PushPendingMetadata(context.Background()); err != nil {
		t.Fatal(err)
	}
	fr.mu.Lock()
	fr.statusErr = errReceiverDown
	fr.mu.Unlock()
	w := workerCtx("w1")
	resp, err := s.ReportDelivery(w, id, api.DeliveryReport{State: api.DeliveryAccepted})
	if err != nil || resp.State != api.DeliveryPending || resp.MayCleanUp {
		t.Fatalf("unconfirmed accepted = %+v, %v", resp, err)
	}
	resp, err = s.ReportDelivery(w, id, api.DeliveryReport{State: api.DeliveryRejected, Desc: "receiver said no"})
	if err != nil || resp.State != api.DeliveryRejected || resp.MayCleanUp {
		t.Fatalf("rejected report = %+v, %v", resp, err)
	}
}

// TestHandoffArchitecture1NotPushed: a tenant without a delivery target
// (the provider keeps and proves) never reaches a receiver, and the
// worker's verified copy into the store is accepted as reported.
func TestHandoffArchitecture1NotPushed(t *testing.T) {
	e := newEnv(t)
	fr := newFakeReceiver()
	e.receiver = fr
	s := e.open()
	s.delivery.StorePath = t.TempDir()
	mustTenant(t, s, "acme", 1000, 1)
	id, _ := sealToFinalized(t, e, s)
	if n, err := s.PushPendingMetadata(context.Background()); err != nil || n != 0 {
		t.Fatalf("pass = %d, %v", n, err)
	}
	resp, err := s.ReportDelivery(workerCtx("w1"), id, api.DeliveryReport{State: api.DeliveryAccepted})
	if err != nil || resp.State != api.DeliveryAccepted || !resp.MayCleanUp {
		t.Fatalf("report = %+v, %v", resp, err)
	}
	if len(fr.eps) != 0 || fr.statuses != 0 {
		t.Fatalf("receiver called %d/%d times for an Architecture-1 tenant", len(fr.eps), fr.statuses)
	}
}

// TestHandoffLoopWokenByFinalize: with the background loop running (at a
// period far longer than the test), ReportFinalized alone gets the
// metadata pushed.
func TestHandoffLoopWokenByFinalize(t *testing.T) {
	e := newEnv(t)
	fr := newFakeReceiver()
	e.receiver, e.handoff = fr, time.Hour
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1, func(tc *api.TenantConfig) { tc.DeliveryTarget = testReceiverTarget })
	id, _ := sealToFinalized(t, e, s)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	select {
	case got := <-fr.pushed:
		if got != id {
			t.Fatalf("pushed %s, want %s", got, id)
		}
	case <-ctx.Done():
		t.Fatal("metadata was not pushed after finalize")
	}
}

func TestHandoffBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 3: 20 * time.Second, 7: 320 * time.Second, 8: 10 * time.Minute, 50: 10 * time.Minute} {
		if got := handoffBackoff(n); got != want {
			t.Errorf("handoffBackoff(%d) = %v, want %v", n, got, want)
		}
	}
}

// TestHandoffChangedMetadataRepushed: metadata that changed after the push
// (here the finalized file list, re-reported) is pushed again before a
// verdict; unchanged metadata is not.
func TestHandoffChangedMetadataRepushed(t *testing.T) {
	e := newEnv(t)
	fr := newFakeReceiver()
	e.receiver = fr
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1, func(tc *api.TenantConfig) { tc.DeliveryTarget = testReceiverTarget })
	id, _ := sealToFinalized(t, e, s)
	ctx := context.Background()
	if n, err := s.PushPendingMetadata(ctx); err != nil || n != 1 {
		t.Fatalf("first pass = %d, %v", n, err)
	}
	e.clock.Advance(handoffStatusInterval)
	if n, err := s.PushPendingMetadata(ctx); err != nil || n != 0 {
		t.Fatalf("unchanged pass = %d, %v", n, err)
	}
	sec, err := s.st.GetSector(ctx, toStoreID(id))
	if err != nil {
		t.Fatal(err)
	}
	files := []api.SectorFile{{Name: "sealed/s-t01000-0", Size: 2048, SHA256: api.Hex32{9}}}
	raw, _ := json.Marshal(files)
	if _, _, err := s.st.WorkerFinalize(ctx, sec.ID, store.Holder{Now: e.clock.Now()}, "/persist", string(raw), ""); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(handoffStatusInterval)
	if n, err := s.PushPendingMetadata(ctx); err != nil || n != 1 {
		t.Fatalf("changed pass = %d, %v", n, err)
	}
	if got := fr.lastPush().Files; len(got) != 1 || got[0] != files[0] {
		t.Fatalf("re-pushed files = %+v", got)
	}
}
