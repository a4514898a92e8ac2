package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/store"
)

// serve starts the service's HTTP surface on httptest.
func serve(t *testing.T, s *Service) string {
	t.Helper()
	srv, err := s.NewRPCServer()
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler(srv))
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return hs.URL + RPCPath
}

func dial(t *testing.T, url, token string) *rpc.Client {
	t.Helper()
	c, err := rpc.Dial(context.Background(), url, rpc.WithToken(token), rpc.WithErrorRegistry(Errors))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func issue(t *testing.T, s *Service, req api.TokenRequest) string {
	t.Helper()
	it, err := s.IssueToken(context.Background(), req)
	if err != nil {
		t.Fatalf("issue %+v: %v", req, err)
	}
	return it.Token
}

// snapshot is everything a tenant-scoped call could change.
type snapshot struct {
	Sectors []store.Sector
	History map[string][]store.HistoryEntry
	Usage   []store.TenantUsage
	Queue   int64
	Tenants []store.Tenant
	Tokens  []store.TokenRecord
}

func takeSnapshot(t *testing.T, s *Service) snapshot {
	t.Helper()
	ctx := context.Background()
	var sn snapshot
	var err error
	if sn.Sectors, err = s.st.ListSectors(ctx, store.SectorFilter{}); err != nil {
		t.Fatal(err)
	}
	sn.History = map[string][]store.HistoryEntry{}
	for _, sec := range sn.Sectors {
		h, _ := s.st.SectorHistory(ctx, sec.ID)
		sn.History[sec.ID.String()] = h
	}
	sn.Usage, _ = s.st.Usage(ctx, t0.Add(-1e15), t0.Add(1e15))
	sn.Queue, _ = s.st.QueuedPieces(ctx, "")
	sn.Tenants, _ = s.st.ListTenants(ctx)
	for _, ten := range []string{"", "a", "b"} {
		tk, _ := s.st.ListTokens(ctx, ten)
		sn.Tokens = append(sn.Tokens, tk...)
	}
	return sn
}

// TestIsolationMatrix calls every tenant-scoped method (and every worker
// method through a tenant-bound worker token) with tenant b's token on
// tenant a's objects, over the real transport: each must fail with a
// permission error and change nothing.
func TestIsolationMatrix(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "a", 1000, 1)
	mustTenant(t, s, "b", 2000, 1)
	url := serve(t, s)

	// One sector of each tenant, with a ticket so that every method has
	// something to act on.
	secA := mustAllocate(t, s, "wa", "t0")
	if secA.Tenant != "a" {
		secA = mustAllocate(t, s, "wa", "t1")
	}
	if _, err := s.AssignTicket(workerCtx("wa"), secA.ID); err != nil {
		t.Fatal(err)
	}
	var comm [32]byte
	comm[3] = 3
	if _, err := s.SubmitPieces(tenantCtx("a"), []api.PieceSubmission{{PieceCID: commp.PieceCID(comm).String(), Size: 512, SourceURL: "https://x/y"}}); err != nil {
		t.Fatal(err)
	}

	tenantB := dial(t, url, issue(t, s, api.TokenRequest{Role: "tenant", Tenant: "b"}))
	// A worker token bound to tenant b, named like a's lease holder, must
	// still not reach a's sector.
	workerB := dial(t, url, issue(t, s, api.TokenRequest{Role: "worker", Tenant: "b", Subject: "wa"}))
	signerB := dial(t, url, issue(t, s, api.TokenRequest{Role: "signer", Tenant: "b"}))

	pc := testPreCommitInfo(t, api.Ticket{}, 1)
	cases := []struct {
		client *rpc.Client
		method string
		params []any
	}{
		{tenantB, api.MethodListSectors, []any{api.SectorListRequest{Tenant: "a"}}},
		{tenantB, api.MethodShowSector, []any{secA.ID}},
		{tenantB, api.MethodExportSector, []any{secA.ID}},
		{tenantB, api.MethodTenantUsage, []any{api.UsageRequest{Tenant: "a"}}},
		{workerB, api.MethodAcquirePieces, []any{secA.ID}},
		{workerB, api.MethodAssignTicket, []any{secA.ID}},
		{workerB, api.MethodSubmitPreCommit, []any{secA.ID, pc, false}},
		{workerB, api.MethodPollPreCommitState, []any{secA.ID}},
		{workerB, api.MethodWaitSeed, []any{secA.ID}},
		{workerB, api.MethodSubmitProof, []any{secA.ID, api.ProofInfo{Proof: []byte{1}}, false}},
		{workerB, api.MethodPollProofState, []any{secA.ID}},
		{workerB, api.MethodReportState, []any{secA.ID, api.StateReport{Prev: "x", Next: "y", Event: "z", CPUSeconds: map[string]float64{"pc1": 1}}}},
		{workerB, api.MethodReportFinalized, []any{secA.ID, api.FinalizedInfo{Location: "/x"}}},
		{workerB, api.MethodReportAborted, []any{secA.ID, "mine now"}},
		{workerB, api.MethodDeliveryTarget, []any{secA.ID}},
		{workerB, api.MethodReportDelivery, []any{secA.ID, api.DeliveryReport{State: api.DeliveryAccepted}}},
		// Wrong API for the role: the transport refuses.
		{tenantB, api.MethodAllocateSector, []any{api.AllocateSpec{Worker: "b", Thread: "t"}}},
		{tenantB, api.MethodAdminTenantPause, []any{"a", true}},
		{tenantB, api.MethodAdminTokenIssue, []any{api.TokenRequest{Role: "tenant", Tenant: "a"}}},
		{tenantB, api.MethodAdminSectorAbort, []any{secA.ID, "x"}},
		{tenantB, api.MethodAdminTenantDelete, []any{"a"}},
		{workerB, api.MethodListSectors, []any{api.SectorListRequest{}}},
		{signerB, api.MethodShowSector, []any{secA.ID}},
		{signerB, api.MethodAssignTicket, []any{secA.ID}},
	}
	before := takeSnapshot(t, s)
	for _, tc := range cases {
		err := tc.client.Call(context.Background(), tc.method, nil, tc.params...)
		if !errors.Is(err, ErrPermission) && !errors.Is(err, rpc.ErrPermissionDenied) {
			t.Errorf("%s: err = %v, want a permission error", tc.method, err)
		}
	}
	if after := takeSnapshot(t, s); !reflect.DeepEqual(before, after) {
		t.Fatalf("state changed by refused calls:\nbefore %+v\nafter  %+v", before, after)
	}
	// A tenant-bound worker is never allocated another tenant's sector.
	for i := 0; i < 5; i++ {
		var got *api.AllocatedSector
		if err := workerB.Call(context.Background(), api.MethodAllocateSector, &got, api.AllocateSpec{Thread: fmt.Sprint("x", i), AllowedTenants: []string{"a"}}); err != nil || got != nil {
			t.Fatalf("tenant-bound worker asking for tenant a: %+v, %v", got, err)
		}
		if err := workerB.Call(context.Background(), api.MethodAllocateSector, &got, api.AllocateSpec{Thread: fmt.Sprint("y", i)}); err != nil || got == nil || got.Tenant != "b" {
			t.Fatalf("tenant-bound worker: %+v, %v", got, err)
		}
	}
	// The tenant sees only its own sectors in lists.
	var list []api.SectorInfo
	if err := tenantB.Call(context.Background(), api.MethodListSectors, &list, api.SectorListRequest{}); err != nil {
		t.Fatal(err)
	}
	for _, si := range list {
		if si.Tenant != "b" {
			t.Fatalf("tenant b lists %+v", si)
		}
	}
}

func TestTokenRevocationAndErrorsOverTheWire(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "a", 1000, 1)
	url := serve(t, s)
	it, err := s.IssueToken(context.Background(), api.TokenRequest{Role: "tenant", Tenant: "a"})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, url, it.Token)
	if err := c.Call(context.Background(), api.MethodShowSector, nil, api.SectorID{Miner: 1000, Number: 99}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing sector: %v, want ErrNotFound across the wire", err)
	}
	if err := s.RevokeToken(context.Background(), it.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(context.Background(), api.MethodListSectors, nil, api.SectorListRequest{}); !errors.Is(err, rpc.ErrUnauthenticated) {
		t.Fatalf("revoked token: %v, want unauthenticated", err)
	}
	// A token signed with the secret but never recorded (a leaked secret
	// backup, a token from another manager's data dir) is refused too.
	forged := rpc.Claims{Allow: rpc.AllowList(rpc.PermAdmin), Role: rpc.RoleAdmin}
	forged.ID = rpc.NewTokenID()
	tok, err := rpc.IssueToken(testSecret, forged)
	if err != nil {
		t.Fatal(err)
	}
	if err := dial(t, url, tok).Call(context.Background(), api.MethodAdminTenantList, nil); !errors.Is(err, rpc.ErrUnauthenticated) {
		t.Fatalf("unrecorded token: %v, want unauthenticated", err)
	}
}

// TestFairShare checks the allocation rule: weights 2:1 with unlimited
// demand give 2:1 within 5 % over 300 sectors; a paused tenant and a tenant
// at its quota get none.
func TestFairShare(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "heavy", 1000, 2)
	mustTenant(t, s, "light", 2000, 1)
	mustTenant(t, s, "paused", 3000, 5, func(tc *api.TenantConfig) { tc.Paused = true })
	mustTenant(t, s, "capped", 4000, 5, func(tc *api.TenantConfig) { tc.QuotaConcurrent = 3 })

	got := map[string]int{}
	for i := 0; i < 300+3; i++ {
		a := mustAllocate(t, s, "w", fmt.Sprint("t", i))
		got[a.Tenant]++
		e.clock.Advance(1)
	}
	if got["paused"] != 0 || got["capped"] != 3 {
		t.Fatalf("paused got %d, capped got %d (quota 3): %v", got["paused"], got["capped"], got)
	}
	ratio := float64(got["heavy"]) / float64(got["light"])
	t.Logf("allocations: %v (heavy:light = %.3f)", got, ratio)
	if got["heavy"]+got["light"] != 300 || math.Abs(ratio-2)/2 > 0.05 {
		t.Fatalf("heavy:light = %d:%d (%.3f), want 2:1 within 5%%", got["heavy"], got["light"], ratio)
	}
	// Resuming the paused tenant: with weight 5 and no allocations in the
	// window it wins the next ones.
	if _, err := s.PauseTenant(adminCtx(), "paused", false); err != nil {
		t.Fatal(err)
	}
	if a := mustAllocate(t, s, "w", "after-resume"); a.Tenant != "paused" {
		t.Fatalf("after resume got %s", a.Tenant)
	}
}

// TestRestartKeepsLeasesSectorsNumbers stops a manager mid-flight and
// starts another on the same database: sectors, tickets, leases and number
// counters survive, the same thread gets its sector back, and numbers
// continue without reuse.
func TestRestartKeepsLeasesSectorsNumbers(t *testing.T) {
	e := newEnv(t)
	s1 := e.open()
	mustTenant(t, s1, "acme", 1000, 1)
	var held []*api.AllocatedSector
	tickets := map[uint64]api.Ticket{}
	for i := 0; i < 4; i++ {
		a := mustAllocate(t, s1, "w1", fmt.Sprint("t", i))
		tk, err := s1.AssignTicket(workerCtx("w1"), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		tickets[a.ID.Number] = tk
		held = append(held, a)
	}
	if r, _ := s1.SubmitPreCommit(workerCtx("w1"), held[0].ID, testPreCommitInfo(t, tickets[held[0].ID.Number], 1), false); r.Result != api.SubmitAccepted {
		t.Fatal(r)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	e.clock.Advance(s1.ttl * 2) // the manager was down longer than a lease
	s2 := e.open()
	exp, err := s2.ExpiredLeases(adminCtx())
	if err != nil || len(exp) != 4 {
		t.Fatalf("expired after restart = %d, %v; want 4", len(exp), err)
	}
	for i, h := range held {
		a := mustAllocate(t, s2, "w1", fmt.Sprint("t", i))
		if a.ID != h.ID || !a.Resumed {
			t.Fatalf("thread t%d got %+v after restart, want %v resumed", i, a, h.ID)
		}
		tk, _ := s2.AssignTicket(workerCtx("w1"), a.ID)
		if tk != tickets[a.ID.Number] {
			t.Fatalf("ticket of %v changed across restart", a.ID)
		}
	}
	if r, _ := s2.SubmitPreCommit(workerCtx("w1"), held[0].ID, testPreCommitInfo(t, tickets[held[0].ID.Number], 1), false); r.Result != api.SubmitDuplicate {
		t.Fatalf("resubmission after restart = %+v, want duplicate", r)
	}
	if r, _ := s2.PollPreCommitState(workerCtx("w1"), held[0].ID); r.State != api.OnChainPending {
		t.Fatalf("poll after restart = %+v, want pending (batch survived)", r)
	}
	// Abort the sectors and delete them (with their tenant, the only way
	// sectors are deleted): the last one's number is still never reused.
	last := held[3].ID
	for _, h := range held {
		if _, err := s2.AbortSector(adminCtx(), h.ID, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s2.DeleteTenant(adminCtx(), "acme"); err != nil {
		t.Fatal(err)
	}
	mustTenant(t, s2, "acme", 1000, 1)
	if a := mustAllocate(t, s2, "w1", "new"); a.ID.Number != last.Number+1 {
		t.Fatalf("new number after restart = %d, want %d", a.ID.Number, last.Number+1)
	}
}

// testTwoManagers runs two Services on one database, allocating
// concurrently: no number and no sector is given twice.
func testTwoManagers(t *testing.T, e *env) {
	s1, s2 := e.open(), e.open()
	mustTenant(t, s1, "a", 1000, 2)
	mustTenant(t, s1, "b", 2000, 1)
	const perManager, threads = 4, 10
	type got struct {
		id       api.SectorID
		identity string
	}
	var mu sync.Mutex
	var all []got
	var wg sync.WaitGroup
	errc := make(chan error, 2*threads)
	for mi, s := range []*Service{s1, s2} {
		for th := 0; th < threads; th++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < perManager; k++ {
					// Distinct identities per call: every call allocates
					// a new sector.
					thread := fmt.Sprintf("m%d-t%d-%d", mi, th, k)
					a, err := s.AllocateSector(workerCtx("w"), api.AllocateSpec{Thread: thread})
					if err != nil || a == nil {
						errc <- fmt.Errorf("%s: %+v %v", thread, a, err)
						return
					}
					mu.Lock()
					all = append(all, got{a.ID, thread})
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	seen := map[api.SectorID]string{}
	for _, g := range all {
		if prev, dup := seen[g.id]; dup {
			t.Fatalf("sector %v allocated to %s and %s", g.id, prev, g.identity)
		}
		seen[g.id] = g.identity
	}
	if len(seen) != 2*threads*perManager {
		t.Fatalf("%d sectors, want %d", len(seen), 2*threads*perManager)
	}
	// Numbers per miner are exactly 0..n-1: no gaps, no reuse.
	per := map[uint64][]uint64{}
	for id := range seen {
		per[id.Miner] = append(per[id.Miner], id.Number)
	}
	for m, ns := range per {
		has := map[uint64]bool{}
		for _, n := range ns {
			has[n] = true
		}
		for i := range uint64(len(ns)) {
			if !has[i] {
				t.Fatalf("miner %d numbers %v: %d missing", m, ns, i)
			}
		}
	}
}

func TestTwoManagersSQLite(t *testing.T)   { testTwoManagers(t, newEnv(t)) }
func TestTwoManagersPostgres(t *testing.T) { testTwoManagers(t, newPGEnv(t)) }

// TestPostgresSidecar runs what the manager's own tables once held (piece
// queue, commitments, workers) on PostgreSQL.
func TestPostgresSidecar(t *testing.T) {
	e := newPGEnv(t)
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1)
	var comm [32]byte
	comm[0] = 1
	if _, err := s.SubmitPieces(tenantCtx("acme"), []api.PieceSubmission{{PieceCID: commp.PieceCID(comm).String(), Size: 1024, SourceURL: "https://x/y"}}); err != nil {
		t.Fatal(err)
	}
	a := mustAllocate(t, s, "w1", "t0")
	w := workerCtx("w1")
	ps, err := s.AcquirePieces(w, a.ID)
	if err != nil || len(ps) != 1 {
		t.Fatalf("pieces = %+v, %v", ps, err)
	}
	tk, _ := s.AssignTicket(w, a.ID)
	if r, err := s.SubmitPreCommit(w, a.ID, testPreCommitInfo(t, tk, 1), false); err != nil || r.Result != api.SubmitAccepted {
		t.Fatalf("submit = %+v, %v", r, err)
	}
	if _, err := s.WorkerPing(w, api.WorkerPing{Worker: "w1"}); err != nil {
		t.Fatal(err)
	}
	md, err := s.ExportSector(adminCtx(), a.ID)
	if err != nil || md.CommC[0] != 3 || len(md.Pieces) != 1 {
		t.Fatalf("export = %+v, %v", md, err)
	}
	raw, _ := json.Marshal(md)
	if len(raw) == 0 {
		t.Fatal("empty export")
	}
}

// TestHTTPSurface checks the mux: health, metrics after calls, and the
// worker API over a WebSocket as well as HTTP.
func TestHTTPSurface(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "a", 1000, 1)
	url := serve(t, s)
	base := strings.TrimSuffix(url, RPCPath)
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	tok := issue(t, s, api.TokenRequest{Role: "worker", Subject: "w1"})
	ws := dial(t, "ws"+strings.TrimPrefix(url, "http"), tok)
	var a *api.AllocatedSector
	if err := ws.Call(context.Background(), api.MethodAllocateSector, &a, api.AllocateSpec{Thread: "t0"}); err != nil || a == nil || a.Tenant != "a" {
		t.Fatalf("allocate over websocket: %+v, %v", a, err)
	}
	if err := ws.Call(context.Background(), api.MethodAssignTicket, nil, api.SectorID{Miner: 1000, Number: 7}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing sector over websocket: %v", err)
	}
	// /metrics names every tenant: no token → 401, a worker or tenant
	// token → 403, a metrics token → the metrics.
	getMetrics := func(tok string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := getMetrics(""); code != http.StatusUnauthorized || strings.Contains(body, "tenant=") {
		t.Errorf("/metrics without a token: %d %.200s", code, body)
	}
	if code, _ := getMetrics(tok); code != http.StatusForbidden {
		t.Errorf("/metrics with a worker token: %d", code)
	}
	mtok := issue(t, s, api.TokenRequest{Role: "metrics"})
	code, body := getMetrics(mtok)
	if code != 200 {
		t.Fatalf("/metrics with a metrics token: %d %.200s", code, body)
	}
	for _, want := range []string{
		`sealant_manager_rpc_requests_total{method="Sealant.AllocateSector",outcome="ok"} 1`,
		`sealant_manager_rpc_requests_total{method="Sealant.AssignTicket",outcome="not_found"} 1`,
		`sealant_manager_sectors_allocated_total{tenant="a"} 1`,
		`sealant_manager_sectors{phase="active",tenant="a"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestEnsureAdminToken(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	dir := t.TempDir()
	tok, err := s.EnsureAdminToken(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := s.EnsureAdminToken(context.Background(), dir)
	if again != tok {
		t.Fatal("a valid admin token file was replaced")
	}
	c, err := rpc.VerifyToken(testSecret, tok)
	if err != nil || c.Role != rpc.RoleAdmin {
		t.Fatalf("token claims %+v, %v", c, err)
	}
	if err := s.RevokeToken(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	fresh, err := s.EnsureAdminToken(context.Background(), dir)
	if err != nil || fresh == tok {
		t.Fatalf("revoked admin token kept: %v", err)
	}
	st, _ := os.Stat(filepath.Join(dir, AdminTokenFile))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("admin token mode %v", st.Mode().Perm())
	}
}

// testConcurrentSubmits submits many precommits at once while batches are
// being closed under them: every submission must be accepted and every
// sector must end up in exactly one batch.
func testConcurrentSubmits(t *testing.T, e *env) {
	s := e.open()
	mustTenant(t, s, "a", 1000, 1)
	const n = 40
	ids := make([]api.SectorID, n)
	tks := make([]api.Ticket, n)
	for i := range ids {
		a := mustAllocate(t, s, "w", fmt.Sprint("t", i))
		ids[i] = a.ID
		var err error
		if tks[i], err = s.AssignTicket(workerCtx("w"), a.ID); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	stop := make(chan struct{})
	closer := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				closer <- nil
				return
			default:
			}
			bs, err := s.st.ListBatches(ctx, store.BatchFilter{States: []store.BatchState{store.BatchOpen}})
			if err != nil {
				closer <- err
				return
			}
			for _, b := range bs {
				if err := s.st.CloseBatch(ctx, b.ID, s.now()); err != nil {
					closer <- err
					return
				}
			}
		}
	}()
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.SubmitPreCommit(workerCtx("w"), ids[i], testPreCommitInfo(t, tks[i], byte(i)), false)
			if err != nil || r.Result != api.SubmitAccepted {
				errc <- fmt.Errorf("sector %v: %+v, %v", ids[i], r, err)
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-closer; err != nil {
		t.Fatalf("closing batches: %v", err)
	}
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	for _, id := range ids {
		sec, err := s.st.GetSector(ctx, toStoreID(id))
		if err != nil || sec.PreCommitBatch == 0 {
			t.Errorf("sector %v in no batch: %+v, %v", id, sec, err)
		}
	}
}

func TestConcurrentSubmitsSQLite(t *testing.T)   { testConcurrentSubmits(t, newEnv(t)) }
func TestConcurrentSubmitsPostgres(t *testing.T) { testConcurrentSubmits(t, newPGEnv(t)) }
