package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealant/sealant/proofs/abi"
)

// runStoreSuite runs every store behaviour test against one backend.
// newDB gives each test a fresh database.
func runStoreSuite(t *testing.T, newDB dbFactory) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, newDB dbFactory)
	}{
		{"Migrations", testMigrations},
		{"Tenants", testTenants},
		{"TenantValidation", testTenantValidation},
		{"Tokens", testTokens},
		{"FairShareWeights2to1", testFairShare2to1},
		{"FairShareRule", testFairShareRule},
		{"PausedTenantGetsNone", testPaused},
		{"QuotaPerDay", testQuotaPerDay},
		{"QuotaConcurrent", testQuotaConcurrent},
		{"AllocateFilter", testAllocateFilter},
		{"LeaseExpiryReoffer", testLeaseExpiryReoffer},
		{"NoNumberReuse", testNoNumberReuse},
		{"ConcurrentAllocation", testConcurrentAllocation},
		{"AllocationModel", testAllocationModel},
		{"WorkerReportHistory", testWorkerReport},
		{"FinalizeAbort", testFinalizeAbort},
		{"SubmissionIdempotency", testSubmissions},
		{"BatchesAndNonces", testBatchesAndNonces},
		{"NonceReservationAcrossRestart", testNonceAcrossRestart},
		{"ConcurrentNonceReservation", testConcurrentNonces},
		{"Deliveries", testDeliveries},
		{"Usage", testUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Every case has its own database, so they can overlap; this
			// mostly hides commit latency.
			t.Parallel()
			tc.fn(t, newDB)
		})
	}
}

var bg = context.Background()

func tenant(id string, miner uint64, weight int) Tenant {
	return Tenant{ID: id, Miner: miner, ProofType: abi.StackedDrg2KiBV1_1, Weight: weight}
}

func mustCreate(t *testing.T, s *Store, ts ...Tenant) {
	t.Helper()
	for _, tn := range ts {
		if _, err := s.CreateTenant(bg, tn, t0); err != nil {
			t.Fatalf("create tenant %s: %v", tn.ID, err)
		}
	}
}

func mustAlloc(t testing.TB, s *Store, worker string, now time.Time) Allocation {
	t.Helper()
	a, err := s.AllocateSector(bg, worker, AllocateFilter{}, now, AllocatePolicy{})
	if err != nil {
		t.Fatalf("allocate for %s: %v", worker, err)
	}
	return a
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func bytes32(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// holds is the check the manager makes on a worker call's sector (see
// Holder.Check): the caller must hold its lease. It refuses with
// ErrNotLeaseHolder, as the manager does.
func holds(worker string) func(Sector) error {
	return func(sec Sector) error {
		if sec.WorkerID != worker {
			return fmt.Errorf("sector %s: held by %q, not %q: %w", sec.ID, sec.WorkerID, worker, ErrNotLeaseHolder)
		}
		return nil
	}
}

// finalize is what the manager writes when worker reports its sector
// finalized (no files, no delivery target).
func finalize(s *Store, id SectorID, worker string, now time.Time) error {
	_, _, err := s.WorkerFinalize(bg, id, Holder{Check: holds(worker), Now: now}, "", "", "")
	return err
}

func testMigrations(t *testing.T, newDB dbFactory) {
	open := newDB(t)
	// Several managers starting at once on an empty database.
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i] = open()
		}()
	}
	wg.Wait()
	for i, s := range stores {
		if s == nil {
			t.Fatalf("store %d failed to open", i)
		}
		v, err := s.SchemaVersion(bg)
		if err != nil {
			t.Fatal(err)
		}
		ms, _ := loadMigrations()
		if v != len(ms) {
			t.Fatalf("store %d: schema version %d, want %d", i, v, len(ms))
		}
	}
	s := stores[0]
	var n int
	if err := s.reader().queryRow(bg, `SELECT COUNT(*) FROM schema_version`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if ms, _ := loadMigrations(); n != len(ms) {
		t.Fatalf("schema_version has %d rows, want %d (a migration ran twice?)", n, len(ms))
	}
	// Re-running is a no-op.
	if err := s.Migrate(bg); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	// A database from the future is refused.
	if _, err := s.w.ExecContext(bg, s.rebind(`INSERT INTO schema_version (version, name, applied_ms) VALUES (?, ?, ?)`),
		999, "9999_future", 0); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Migrate(bg), ErrSchemaTooNew)
}

func testTenants(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	in := Tenant{
		ID: "acme", Miner: 1000, ProofType: abi.StackedDrg32GiBV1_1,
		Senders: []string{"f3abc", "f1def"}, SigningRoute: LotusWalletRoute,
		Batching: Batching{PreCommitBatchSize: 8, PreCommitMaxWait: time.Hour, ProveCommitMode: ProveAggregate,
			ProveCommitBatchSize: 16, ProveCommitMaxWait: 2 * time.Hour},
		Fees:           Fees{MaxPreCommitFee: "50000000000000000", MaxProveCommitFee: "1"},
		ExpirationDays: 1278, Quota: Quota{SectorsPerDay: 100, Concurrent: 10}, Weight: 3,
		DeliveryTarget: "https://sp.example/receive",
	}
	got, err := s.CreateTenant(bg, in, t0)
	if err != nil {
		t.Fatal(err)
	}
	if got.SectorSize != 32<<30 {
		t.Errorf("sector size %d", got.SectorSize)
	}
	stored, err := s.GetTenant(bg, "acme")
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.SectorSize, want.CreatedAt, want.UpdatedAt = 32<<30, t0, t0
	if a, b := mustJSON(t, stored), mustJSON(t, want); a != b {
		t.Fatalf("round trip:\n got %s\nwant %s", a, b)
	}

	_, err = s.CreateTenant(bg, tenant("acme", 2000, 1), t0)
	wantErr(t, err, ErrConflict)
	_, err = s.CreateTenant(bg, tenant("other", 1000, 1), t0)
	wantErr(t, err, ErrConflict)
	_, err = s.GetTenant(bg, "nope")
	wantErr(t, err, ErrNotFound)

	mustCreate(t, s, tenant("beta", 2000, 1))
	list, err := s.ListTenants(bg)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "acme" || list[1].ID != "beta" {
		t.Fatalf("list = %+v", list)
	}
	// Defaults were filled for the minimal tenant.
	b := list[1]
	if b.SigningRoute != SignerRoute || b.Batching.ProveCommitMode != ProvePerSector ||
		b.Batching.PreCommitBatchSize != 1 || b.ExpirationDays != 540 || b.Senders == nil {
		t.Errorf("defaults not applied: %+v", b)
	}

	upd := stored
	upd.Weight, upd.Paused, upd.Senders = 5, true, []string{"f1new"}
	t1 := t0.Add(time.Minute)
	if _, err := s.UpdateTenant(bg, upd, t1); err != nil {
		t.Fatal(err)
	}
	stored, _ = s.GetTenant(bg, "acme")
	if stored.Weight != 5 || !stored.Paused || len(stored.Senders) != 1 || !stored.UpdatedAt.Equal(t1) || !stored.CreatedAt.Equal(t0) {
		t.Errorf("after update: %+v", stored)
	}
	upd.Miner = 9999
	_, err = s.UpdateTenant(bg, upd, t1)
	wantErr(t, err, ErrConflict)
	_, err = s.UpdateTenant(bg, tenant("ghost", 1, 1), t1)
	wantErr(t, err, ErrNotFound)

	if err := s.SetTenantPaused(bg, "acme", false, t1); err != nil {
		t.Fatal(err)
	}
	if stored, _ = s.GetTenant(bg, "acme"); stored.Paused {
		t.Error("still paused")
	}
	wantErr(t, s.SetTenantPaused(bg, "ghost", true, t1), ErrNotFound)

	// Delete refuses while sectors are active.
	a := mustAlloc(t, s, "w1", t1)
	wantErr(t, s.DeleteTenant(bg, a.Sector.TenantID, t1), ErrConflict)
	if err := s.AbortSector(bg, a.Sector.ID, "test", t1); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTenant(bg, a.Sector.TenantID, t1); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetSector(bg, a.Sector.ID)
	wantErr(t, err, ErrNotFound)
	wantErr(t, s.DeleteTenant(bg, a.Sector.TenantID, t1), ErrNotFound)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testTenantValidation(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	for _, tc := range []struct {
		name string
		mod  func(*Tenant)
	}{
		{"bad id", func(tn *Tenant) { tn.ID = "Bad ID" }},
		{"bad proof", func(tn *Tenant) { tn.ProofType = 99 }},
		{"bad route", func(tn *Tenant) { tn.SigningRoute = "ledger" }},
		{"bad prove mode", func(tn *Tenant) { tn.Batching.ProveCommitMode = "sometimes" }},
		{"negative weight", func(tn *Tenant) { tn.Weight = -1 }},
		{"negative quota", func(tn *Tenant) { tn.Quota.Concurrent = -1 }},
		{"fee not integer", func(tn *Tenant) { tn.Fees.MaxPreCommitFee = "0.5" }},
		{"negative fee", func(tn *Tenant) { tn.Fees.MaxProveCommitFee = "-1" }},
		{"negative wait", func(tn *Tenant) { tn.Batching.PreCommitMaxWait = -time.Second }},
		{"miner out of range", func(tn *Tenant) { tn.Miner = 1 << 63 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := tenant("ok", 1, 1)
			tc.mod(&tn)
			_, err := s.CreateTenant(bg, tn, t0)
			wantErr(t, err, ErrInvalid)
		})
	}
}

func testTokens(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	mustCreate(t, s, tenant("acme", 1000, 1))
	admin := TokenRecord{ID: "jti-admin", Role: "admin", SecretHash: HashToken("secret-a"), IssuedAt: t0}
	ten := TokenRecord{ID: "jti-acme", TenantID: "acme", Role: "tenant", SecretHash: HashToken("secret-b"),
		IssuedAt: t0, ExpiresAt: t0.Add(time.Hour), Note: "ci"}
	for _, r := range []TokenRecord{admin, ten} {
		if err := s.RecordToken(bg, r); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, s.RecordToken(bg, admin), ErrConflict)
	wantErr(t, s.RecordToken(bg, TokenRecord{ID: "x", Role: "tenant", TenantID: "ghost", SecretHash: HashToken("s")}), ErrNotFound)
	wantErr(t, s.RecordToken(bg, TokenRecord{ID: "x", Role: "admin", SecretHash: []byte("short")}), ErrInvalid)

	got, err := s.CheckToken(bg, "jti-acme", t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.SecretHash, HashToken("secret-b")) || got.TenantID != "acme" || got.Note != "ci" {
		t.Errorf("token = %+v", got)
	}
	_, err = s.CheckToken(bg, "jti-acme", t0.Add(time.Hour))
	wantErr(t, err, ErrTokenExpired)
	_, err = s.CheckToken(bg, "never-issued", t0)
	wantErr(t, err, ErrNotFound)

	if rev, err := s.IsTokenRevoked(bg, "jti-admin"); err != nil || rev {
		t.Fatalf("revoked = %v, %v", rev, err)
	}
	if err := s.RevokeToken(bg, "jti-admin", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(bg, "jti-admin", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetToken(bg, "jti-admin")
	if !got.RevokedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("revoked at %v, want first revocation time", got.RevokedAt)
	}
	_, err = s.CheckToken(bg, "jti-admin", t0)
	wantErr(t, err, ErrTokenRevoked)
	wantErr(t, s.RevokeToken(bg, "ghost", t0), ErrNotFound)
	_, err = s.IsTokenRevoked(bg, "ghost")
	wantErr(t, err, ErrNotFound)

	list, err := s.ListTokens(bg, "acme")
	if err != nil || len(list) != 1 || list[0].ID != "jti-acme" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	// Deleting the tenant revokes its tokens but keeps the record.
	if err := s.DeleteTenant(bg, "acme", t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if rev, err := s.IsTokenRevoked(bg, "jti-acme"); err != nil || !rev {
		t.Fatalf("tenant token after delete: revoked = %v, %v", rev, err)
	}
}

func testFairShare2to1(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	mustCreate(t, s, tenant("heavy", 1000, 2), tenant("light", 2000, 1))
	counts := map[string]int{}
	for i := 0; i < 300; i++ {
		a := mustAlloc(t, s, fmt.Sprintf("w%d", i), t0.Add(time.Duration(i)*time.Second))
		counts[a.Sector.TenantID]++
	}
	ratio := float64(counts["heavy"]) / float64(counts["light"])
	if ratio < 2*0.95 || ratio > 2*1.05 {
		t.Fatalf("heavy:light = %d:%d (ratio %.3f), want 2:1 within 5%%", counts["heavy"], counts["light"], ratio)
	}
	t.Logf("heavy:light = %d:%d", counts["heavy"], counts["light"])
}

// testFairShareRule replays the documented rule: the smallest
// (allocated+1)/weight wins, ties to the smaller id.
func testFairShareRule(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	mustCreate(t, s, tenant("a", 1, 3), tenant("b", 2, 1), tenant("c", 3, 1))
	// Model: counts start at 0.
	// step 1: a 1/3, b 1, c 1 → a ; a=1: 2/3 → a ; a=2: 1 ties b,c(1) → a (id) ; a=3: 4/3 → b ; …
	want := []string{"a", "a", "a", "b", "c", "a", "a", "a", "b", "c"}
	var got []string
	for i := range want {
		a := mustAlloc(t, s, fmt.Sprintf("w%d", i), t0.Add(time.Duration(i)*time.Second))
		got = append(got, a.Sector.TenantID)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("picks = %v, want %v", got, want)
	}
	// b takes three more sectors early on: a=6, b=5, c=2.
	for i := 0; i < 3; i++ {
		a, err := s.AllocateSector(bg, fmt.Sprintf("b%d", i), AllocateFilter{Tenants: []string{"b"}}, t0.Add(time.Minute), AllocatePolicy{})
		if err != nil || a.Sector.TenantID != "b" {
			t.Fatalf("filtered allocation: %+v, %v", a.Sector, err)
		}
	}
	if err := s.SetTenantPaused(bg, "a", true, t0); err != nil {
		t.Fatal(err)
	}
	// 25 h later a 24 h window has forgotten everything: b and c tie at
	// (0+1)/1 and the smaller id wins…
	late := t0.Add(25 * time.Hour)
	for _, tc := range []struct {
		window time.Duration
		want   string
	}{
		{24 * time.Hour, "b"},
		// …whereas a 48 h window still sees b=5 (+1 just now) vs c=2.
		{48 * time.Hour, "c"},
	} {
		a, err := s.AllocateSector(bg, "late-"+tc.window.String(), AllocateFilter{}, late, AllocatePolicy{FairShareWindow: tc.window})
		if err != nil || a.Sector.TenantID != tc.want {
			t.Fatalf("window %v: got %+v, %v; want %s", tc.window, a.Sector, err, tc.want)
		}
	}
}

func testPaused(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	mustCreate(t, s, tenant("run", 1, 1), tenant("stop", 2, 100))
	if err := s.SetTenantPaused(bg, "stop", true, t0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		a := mustAlloc(t, s, fmt.Sprintf("w%d", i), t0)
		if a.Sector.TenantID != "run" {
			t.Fatalf("allocation %d went to paused tenant %s", i, a.Sector.TenantID)
		}
	}
	if err := s.SetTenantPaused(bg, "run", true, t0); err != nil {
		t.Fatal(err)
	}
	_, err := s.AllocateSector(bg, "wx", AllocateFilter{}, t0, AllocatePolicy{})
	wantErr(t, err, ErrNoWork)
	// In-flight sectors of a paused tenant are still re-offered.
	a, err := s.AllocateSector(bg, "w3", AllocateFilter{}, t0.Add(time.Hour), AllocatePolicy{})
	if err != nil || !a.Reoffered {
		t.Fatalf("re-offer under pause: %+v, %v", a, err)
	}
	if err := s.SetTenantPaused(bg, "stop", false, t0); err != nil {
		t.Fatal(err)
	}
	if a := mustAlloc(t, s, "wy", t0); a.Sector.TenantID != "stop" {
		t.Fatalf("resumed tenant got nothing: %s", a.Sector.TenantID)
	}
}

func testQuotaPerDay(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	q := tenant("q", 1, 1)
	q.Quota.SectorsPerDay = 3
	mustCreate(t, s, q)
	for i := 0; i < 3; i++ {
		a := mustAlloc(t, s, fmt.Sprintf("w%d", i), t0.Add(time.Duration(i)*time.Hour))
		// Finish it so the concurrency count is not what stops us.
		if err := finalize(s, a.Sector.ID, a.Sector.WorkerID, t0); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.AllocateSector(bg, "wx", AllocateFilter{}, t0.Add(3*time.Hour), AllocatePolicy{})
	wantErr(t, err, ErrNoWork)
	// The first allocation leaves the rolling 24 h window.
	a := mustAlloc(t, s, "wy", t0.Add(24*time.Hour))
	if a.Sector.TenantID != "q" {
		t.Fatal(a)
	}
	_, err = s.AllocateSector(bg, "wz", AllocateFilter{}, t0.Add(24*time.Hour), AllocatePolicy{})
	wantErr(t, err, ErrNoWork)
	// A tenant at quota does not block another one.
	mustCreate(t, s, tenant("free", 2, 1))
	if a := mustAlloc(t, s, "wz", t0.Add(24*time.Hour)); a.Sector.TenantID != "free" {
		t.Fatalf("got %s, want free", a.Sector.TenantID)
	}
}

func testQuotaConcurrent(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	q := tenant("q", 1, 1)
	q.Quota.Concurrent = 2
	mustCreate(t, s, q)
	a1 := mustAlloc(t, s, "w1", t0)
	mustAlloc(t, s, "w2", t0)
	_, err := s.AllocateSector(bg, "w3", AllocateFilter{}, t0, AllocatePolicy{})
	wantErr(t, err, ErrNoWork)
	if err := finalize(s, a1.Sector.ID, "w1", t0); err != nil {
		t.Fatal(err)
	}
	if a := mustAlloc(t, s, "w3", t0); a.Sector.ID.Number != 2 {
		t.Fatalf("got %v", a.Sector.ID)
	}
	_, err = s.AllocateSector(bg, "w4", AllocateFilter{}, t0, AllocatePolicy{})
	wantErr(t, err, ErrNoWork)
}

func testAllocateFilter(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	big := tenant("big", 1, 1)
	big.ProofType = abi.StackedDrg32GiBV1_1
	mustCreate(t, s, big, tenant("small", 2, 1), tenant("other", 3, 1))
	for _, tc := range []struct {
		name string
		f    AllocateFilter
		want string
	}{
		{"by tenant", AllocateFilter{Tenants: []string{"other"}}, "other"},
		{"by miner", AllocateFilter{Miners: []uint64{2}}, "small"},
		{"by proof", AllocateFilter{ProofTypes: []abi.RegisteredSealProof{abi.StackedDrg32GiBV1_1}}, "big"},
		{"combined", AllocateFilter{Tenants: []string{"small", "big"}, ProofTypes: []abi.RegisteredSealProof{abi.StackedDrg2KiBV1_1}}, "small"},
		{"nothing matches", AllocateFilter{Miners: []uint64{42}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := s.AllocateSector(bg, "w-"+tc.name, tc.f, t0, AllocatePolicy{})
			if tc.want == "" {
				wantErr(t, err, ErrNoWork)
				return
			}
			if err != nil || a.Sector.TenantID != tc.want {
				t.Fatalf("got %+v, %v; want tenant %s", a.Sector, err, tc.want)
			}
		})
	}
	_, err := s.AllocateSector(bg, "", AllocateFilter{}, t0, AllocatePolicy{})
	wantErr(t, err, ErrInvalid)
}

func testLeaseExpiryReoffer(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	mustCreate(t, s, tenant("acme", 1000, 1))
	pol := AllocatePolicy{LeaseTTL: time.Minute}
	a, err := s.AllocateSector(bg, "host1/slot0", AllocateFilter{}, t0, pol)
	if err != nil {
		t.Fatal(err)
	}
	if a.Reoffered || !a.Sector.LeaseExpires.Equal(t0.Add(time.Minute)) {
		t.Fatalf("fresh allocation: %+v", a)
	}
	// A report renews the lease.
	if _, err := s.WorkerReport(bg, Holder{Check: holds("host1/slot0"), Now: t0.Add(30 * time.Second), TTL: time.Minute},
		StateReport{ID: a.Sector.ID, Prev: "", Next: "Allocated", Event: "Allocated"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if exp, _ := s.ExpiredLeases(bg, t0.Add(time.Minute)); len(exp) != 0 {
		t.Fatalf("lease renewed by report but expired: %+v", exp)
	}
	// The worker goes silent: the lease expires and is visible.
	late := t0.Add(5 * time.Minute)
	exp, err := s.ExpiredLeases(bg, late)
	if err != nil {
		t.Fatal(err)
	}
	if len(exp) != 1 || exp[0].ID != a.Sector.ID || !exp[0].LeaseExpired(late) {
		t.Fatalf("expired = %+v", exp)
	}
	// Another worker never gets it: it gets a new number.
	b, err := s.AllocateSector(bg, "host2/slot0", AllocateFilter{}, late, pol)
	if err != nil {
		t.Fatal(err)
	}
	if b.Sector.ID == a.Sector.ID || b.Reoffered {
		t.Fatalf("expired sector handed to another worker: %+v", b)
	}
	_, err = s.RenewLease(bg, a.Sector.ID, "host2/slot0", late, time.Minute)
	wantErr(t, err, ErrNotLeaseHolder)
	_, err = s.WorkerReport(bg, Holder{Check: holds("host2/slot0"), Now: late, TTL: time.Minute},
		StateReport{ID: a.Sector.ID, Next: "PC1Done"}, nil, nil)
	wantErr(t, err, ErrNotLeaseHolder)
	// The holder restarts and asks again: same sector, renewed lease, its
	// state intact.
	r, err := s.AllocateSector(bg, "host1/slot0", AllocateFilter{}, late, pol)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Reoffered || r.Sector.ID != a.Sector.ID || r.Sector.State != "Allocated" || !r.Sector.LeaseExpires.Equal(late.Add(time.Minute)) {
		t.Fatalf("re-offer = %+v", r)
	}
	if exp, _ := s.ExpiredLeases(bg, late); len(exp) != 0 {
		t.Fatalf("still expired after re-offer: %+v", exp)
	}
	// Asking again while holding it returns the same sector again.
	r2, _ := s.AllocateSector(bg, "host1/slot0", AllocateFilter{}, late, pol)
	if r2.Sector.ID != a.Sector.ID {
		t.Fatalf("second re-offer = %+v", r2)
	}
	// The holder may renew a lapsed lease itself.
	until, err := s.RenewLease(bg, a.Sector.ID, "host1/slot0", late.Add(time.Hour), time.Minute)
	if err != nil || !until.Equal(late.Add(time.Hour+time.Minute)) {
		t.Fatalf("renew = %v, %v", until, err)
	}
	// Once finalized it is never offered again and cannot be renewed.
	if err := finalize(s, a.Sector.ID, "host1/slot0", late); err != nil {
		t.Fatal(err)
	}
	n, err := s.AllocateSector(bg, "host1/slot0", AllocateFilter{}, late, pol)
	if err != nil || n.Reoffered || n.Sector.ID == a.Sector.ID {
		t.Fatalf("after finalize: %+v, %v", n, err)
	}
	_, err = s.RenewLease(bg, a.Sector.ID, "host1/slot0", late, time.Minute)
	wantErr(t, err, ErrSectorDone)
	_, err = s.RenewLease(bg, SectorID{1000, 999}, "host1/slot0", late, time.Minute)
	wantErr(t, err, ErrNotFound)
}

func testNoNumberReuse(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	mustCreate(t, s, tenant("acme", 1000, 1))
	var ids []SectorID
	for i := 0; i < 3; i++ {
		ids = append(ids, mustAlloc(t, s, fmt.Sprintf("w%d", i), t0).Sector.ID)
	}
	// Abort the newest sector: its number must stay used. Sectors are
	// deleted only with their tenant, which is refused while any is active.
	if err := s.AbortSector(bg, ids[2], "disk died", t0); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteTenant(bg, "acme", t0), ErrConflict) // ids[0], ids[1] still active
	if got := mustAlloc(t, s, "w3", t0).Sector.ID.Number; got != 3 {
		t.Fatalf("after abort got number %d, want 3", got)
	}
	// Delete the whole tenant with its sectors, the newest one included,
	// and re-create it for the same miner.
	for _, id := range []SectorID{ids[0], ids[1], {1000, 3}} {
		if err := s.AbortSector(bg, id, "wipe", t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteTenant(bg, "acme", t0); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, tenant("acme2", 1000, 1))
	if got := mustAlloc(t, s, "w4", t0).Sector.ID.Number; got != 4 {
		t.Fatalf("after tenant re-create got number %d, want 4", got)
	}
	// The chain floor only ever raises the counter.
	if err := s.BumpSectorNumberFloor(bg, 1000, 100); err != nil {
		t.Fatal(err)
	}
	if err := s.BumpSectorNumberFloor(bg, 1000, 50); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.NextSectorNumber(bg, 1000); n != 100 {
		t.Fatalf("next = %d, want 100", n)
	}
	if got := mustAlloc(t, s, "w5", t0).Sector.ID.Number; got != 100 {
		t.Fatalf("after floor got %d, want 100", got)
	}
	// A floor for a miner never seen before applies to its first sector.
	if err := s.BumpSectorNumberFloor(bg, 2000, 7); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, tenant("beta", 2000, 1))
	a, err := s.AllocateSector(bg, "w6", AllocateFilter{Tenants: []string{"beta"}}, t0, AllocatePolicy{})
	if err != nil || a.Sector.ID.Number != 7 {
		t.Fatalf("new miner with floor: %+v, %v", a.Sector.ID, err)
	}
}

// testConcurrentAllocation: many goroutines over two Store handles (two
// managers) on one database never produce a duplicate sector or number.
func testConcurrentAllocation(t *testing.T, newDB dbFactory) {
	open := newDB(t)
	m1, m2 := open(), open()
	mustCreate(t, m1, tenant("a", 1, 1), tenant("b", 2, 2), tenant("c", 3, 1))
	const goroutines, per = 8, 12
	type res struct {
		id     SectorID
		worker string
	}
	results := make(chan res, goroutines*per)
	errs := make(chan error, goroutines)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		s := m1
		if g%2 == 1 {
			s = m2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				w := fmt.Sprintf("g%d-w%d", g, i)
				a, err := s.AllocateSector(bg, w, AllocateFilter{}, t0, AllocatePolicy{})
				if err != nil {
					errs <- fmt.Errorf("%s: %w", w, err)
					return
				}
				results <- res{a.Sector.ID, w}
			}
		}()
	}
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[SectorID]string{}
	perMiner := map[uint64][]uint64{}
	for r := range results {
		if prev, dup := seen[r.id]; dup {
			t.Fatalf("sector %s allocated to %s and %s", r.id, prev, r.worker)
		}
		seen[r.id] = r.worker
		perMiner[r.id.Miner] = append(perMiner[r.id.Miner], r.id.Number)
	}
	if len(seen) != goroutines*per {
		t.Fatalf("%d sectors, want %d", len(seen), goroutines*per)
	}
	// Numbers per miner are exactly 0..n-1: none skipped, none repeated.
	for miner, nums := range perMiner {
		have := map[uint64]bool{}
		for _, n := range nums {
			have[n] = true
		}
		for n := uint64(0); n < uint64(len(nums)); n++ {
			if !have[n] {
				t.Fatalf("miner %d: number %d missing from %v", miner, n, nums)
			}
		}
		next, err := m2.NextSectorNumber(bg, miner)
		if err != nil || next != uint64(len(nums)) {
			t.Fatalf("miner %d: next %d, want %d (%v)", miner, next, len(nums), err)
		}
	}
	// Allocations were serialized, so the outcome is exactly that of the
	// fair-share rule applied one by one.
	got := map[string]int{}
	for id := range seen {
		got[map[uint64]string{1: "a", 2: "b", 3: "c"}[id.Miner]]++
	}
	want := simulateFairShare([]string{"a", "b", "c"}, []int{1, 2, 1}, goroutines*per)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("per-tenant counts %v, want %v (the serial rule's result)", got, want)
	}
	// Each worker identity holds exactly its one sector.
	for id, w := range seen {
		sec, err := m1.GetSector(bg, id)
		if err != nil || sec.WorkerID != w {
			t.Fatalf("sector %s: worker %q, want %q (%v)", id, sec.WorkerID, w, err)
		}
	}
	// Concurrent re-offers from both managers to one worker agree.
	var re [2]SectorID
	var wg2 sync.WaitGroup
	for i, s := range []*Store{m1, m2} {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			a, err := s.AllocateSector(bg, "g0-w0", AllocateFilter{}, t0.Add(time.Hour), AllocatePolicy{})
			if err == nil && a.Reoffered {
				re[i] = a.Sector.ID
			}
		}()
	}
	wg2.Wait()
	if re[0] != re[1] || seen[re[0]] != "g0-w0" {
		t.Fatalf("re-offers disagree: %v", re)
	}
}

// testWorkerReport: each report writes its history line and the sector's
// state, and renews the lease from the report's time.
func testWorkerReport(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	mustCreate(t, s, tenant("acme", 1000, 1))
	a := mustAlloc(t, s, "w", t0)
	steps := []StateReport{
		{Prev: "Empty", Next: "Allocated", Event: "Allocate"},
		{Prev: "Allocated", Next: "PieceAdded", Event: "AddPiece"},
		{Prev: "PieceAdded", Next: "PieceAdded", Event: "PC1", Failure: &Failure{Level: "temporary", Desc: "oom"}},
		{Prev: "PieceAdded", Next: "PC1Done", Event: "PC1"},
	}
	for i, r := range steps {
		r.ID = a.Sector.ID
		res, err := s.WorkerReport(bg, Holder{Check: holds("w"), Now: t0.Add(time.Duration(i+1) * time.Minute), TTL: 10 * time.Minute}, r, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Resend || res.Phase != PhaseActive || !res.LeaseExpires.Equal(t0.Add(time.Duration(i+11)*time.Minute)) {
			t.Fatalf("step %d: %+v", i, res)
		}
	}
	sec, _ := s.GetSector(bg, a.Sector.ID)
	if sec.State != "PC1Done" {
		t.Fatalf("state %q", sec.State)
	}
	h, err := s.SectorHistory(bg, a.Sector.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1+len(steps) || h[0].Event != eventAllocated {
		t.Fatalf("history = %+v", h)
	}
	for i, r := range steps {
		e := h[i+1]
		if e.Prev != r.Prev || e.Next != r.Next || e.Event != r.Event || e.WorkerID != "w" ||
			(r.Failure == nil) != (e.Failure == nil) || (r.Failure != nil && *r.Failure != *e.Failure) {
			t.Errorf("history[%d] = %+v, want %+v", i+1, e, r)
		}
	}
	_, err = s.WorkerReport(bg, Holder{Check: holds("w"), Now: t0, TTL: time.Minute}, StateReport{ID: SectorID{1000, 77}}, nil, nil)
	wantErr(t, err, ErrNotFound)
}

func testFinalizeAbort(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	mustCreate(t, s, tenant("acme", 1000, 1))
	a := mustAlloc(t, s, "w1", t0).Sector.ID
	b := mustAlloc(t, s, "w2", t0).Sector.ID
	wantErr(t, finalize(s, a, "w2", t0), ErrNotLeaseHolder)
	for i := 0; i < 2; i++ { // idempotent
		if err := finalize(s, a, "w1", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, s.AbortSector(bg, a, "late", t0), ErrConflict)
	for i := 0; i < 2; i++ {
		if err := s.AbortSector(bg, b, fmt.Sprintf("reason %d", i), t0); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, finalize(s, b, "w2", t0), ErrConflict)
	sec, _ := s.GetSector(bg, b)
	if sec.Phase != PhaseAborted || sec.AbortReason != "reason 0" || !sec.DoneAt.Equal(t0) {
		t.Fatalf("aborted sector = %+v", sec)
	}
	// The worker learns about the abort from its next report.
	res, err := s.WorkerReport(bg, Holder{Check: holds("w2"), Now: t0.Add(time.Hour), TTL: time.Minute}, StateReport{ID: b, Prev: "X", Next: "Y"}, nil, nil)
	if err != nil || res.Phase != PhaseAborted || res.AbortReason != "reason 0" {
		t.Fatalf("report after abort = %+v, %v", res, err)
	}
	if exp, _ := s.ExpiredLeases(bg, t0.Add(24*time.Hour)); len(exp) != 0 {
		t.Fatalf("done sectors listed as expired: %+v", exp)
	}
	if list, _ := s.ListSectors(bg, SectorFilter{Phase: PhaseFinalized}); len(list) != 1 || list[0].ID != a {
		t.Fatalf("finalized list = %+v", list)
	}
	if list, _ := s.ListSectors(bg, SectorFilter{TenantID: "acme", WorkerID: "w2"}); len(list) != 1 || list[0].ID != b {
		t.Fatalf("worker list = %+v", list)
	}
}

// testSubmissions: what a sector is sealed with (pieces, ticket,
// commitments, seed, proof) is stored once, through the worker calls the
// manager makes; a repeat gets the stored value back or is a duplicate, a
// different value is a mismatch that changes nothing.
func testSubmissions(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	mustCreate(t, s, tenant("acme", 1000, 1))
	id := mustAlloc(t, s, "w", t0).Sector.ID
	cc := mustAlloc(t, s, "cc", t0).Sector.ID
	h := Holder{Check: holds("w"), Now: t0}
	tk := Ticket{Value: bytes32(1), Epoch: 100}

	// Pieces are decided on a sector's first call, from its tenant's queue
	// (an empty queue: committed capacity); repeats get the same pieces
	// whatever the queue holds by then.
	pieces := []Piece{{CID: "baga6ea4seaq-a", Size: 512, PayloadSize: 500, SourceURL: "http://x/a"},
		{CID: "baga6ea4seaq-b", Size: 512, PayloadSize: 500, SourceURL: "http://x/b"}}
	later := []Piece{{CID: "baga6ea4seaq-c", Size: 512, PayloadSize: 500, SourceURL: "http://x/c"}} // would fit either sector
	_, err := s.EnqueuePieces(bg, "acme", []Piece{{CID: "", Size: 512, SourceURL: "http://x/"}}, t0)
	wantErr(t, err, ErrInvalid)
	for _, step := range []struct {
		name    string
		enqueue []Piece
		sector  SectorID
		want    []Piece
	}{
		{"cc, empty queue", nil, cc, nil},
		{"data sector", pieces, id, pieces},
		{"cc again", later, cc, nil},
		{"data sector again", nil, id, pieces},
	} {
		if _, err := s.EnqueuePieces(bg, "acme", step.enqueue, t0); err != nil {
			t.Fatalf("%s: enqueue: %v", step.name, err)
		}
		hs := h
		if step.sector == cc {
			hs.Check = holds("cc")
		}
		got, err := s.WorkerAcquirePieces(bg, step.sector, hs, nil)
		if err != nil || got == nil || !slices.Equal(got, step.want) {
			t.Errorf("%s: pieces %+v, %v; want %+v", step.name, got, err, step.want)
		}
	}
	if got, _ := s.Pieces(bg, id); !slices.Equal(got, pieces) {
		t.Fatalf("pieces = %+v", got)
	}
	if got, _ := s.Pieces(bg, cc); len(got) != 0 {
		t.Fatalf("cc pieces = %+v", got)
	}
	if n, _ := s.QueuedPieces(bg, "acme"); n != 1 {
		t.Fatalf("queue left %d pieces, want 1 (the one queued after both were decided)", n)
	}

	// A PreCommit before the ticket is refused: there is nothing to check
	// its ticket against.
	pc := Commitments{PreCommitInfo: PreCommitInfo{CommR: bytes32(2), CommD: bytes32(3), Ticket: tk}}
	if o, err := s.WorkerSubmitPreCommit(bg, id, h, pc, false); err != nil || o.Result != SubmitRefused {
		t.Fatalf("precommit before ticket: %+v, %v", o, err)
	}
	_, _, err = s.WorkerRandomness(bg, id, h, false, &Ticket{Value: []byte{1}})
	wantErr(t, err, ErrInvalid)
	got, ok, err := s.WorkerRandomness(bg, id, h, false, &tk)
	if err != nil || !ok || !bytes.Equal(got.Value, tk.Value) || got.Epoch != 100 {
		t.Fatalf("assign ticket: %+v, %v, %v", got, ok, err)
	}
	// A second assignment (other manager, restart) gets the first ticket.
	got, ok, err = s.WorkerRandomness(bg, id, h, false, &Ticket{Value: bytes32(9), Epoch: 200})
	if err != nil || !ok || !bytes.Equal(got.Value, tk.Value) || got.Epoch != 100 {
		t.Fatalf("second assign ticket: %+v, %v, %v", got, ok, err)
	}
	_, _, err = s.WorkerRandomness(bg, id, Holder{Check: holds("other"), Now: t0}, false, &tk)
	wantErr(t, err, ErrNotLeaseHolder)

	withPC := func(p PreCommitInfo) Commitments { return Commitments{PreCommitInfo: p} }
	for _, tc := range []struct {
		name string
		c    Commitments
		want SubmitResult
	}{
		{"first", pc, SubmitAccepted},
		{"same again", pc, SubmitDuplicate},
		{"other comm_r", withPC(PreCommitInfo{CommR: bytes32(4), CommD: bytes32(3), Ticket: tk}), SubmitMismatch},
		{"other comm_d", withPC(PreCommitInfo{CommR: bytes32(2), CommD: bytes32(4), Ticket: tk}), SubmitMismatch},
		{"other ticket", withPC(PreCommitInfo{CommR: bytes32(2), CommD: bytes32(3), Ticket: Ticket{Value: bytes32(1), Epoch: 101}}), SubmitMismatch},
	} {
		o, err := s.WorkerSubmitPreCommit(bg, id, h, tc.c, false)
		if err != nil || o.Result != tc.want {
			t.Errorf("%s: got %+v, %v; want %v", tc.name, o, err, tc.want)
		}
	}
	_, err = s.WorkerSubmitPreCommit(bg, id, h, withPC(PreCommitInfo{CommR: []byte{1}, CommD: bytes32(3), Ticket: tk}), false)
	wantErr(t, err, ErrInvalid)
	sec, _ := s.GetSector(bg, id)
	if !bytes.Equal(sec.CommR, bytes32(2)) || !bytes.Equal(sec.CommD, bytes32(3)) {
		t.Fatalf("stored commitments changed: %x %x", sec.CommR, sec.CommD)
	}

	seed := Ticket{Value: bytes32(5), Epoch: 300}
	if got, ok, err := s.WorkerRandomness(bg, id, h, true, &seed); err != nil || !ok || got.Epoch != 300 {
		t.Fatalf("seed: %+v, %v, %v", got, ok, err)
	}
	if got, _, _ := s.WorkerRandomness(bg, id, h, true, &Ticket{Value: bytes32(6), Epoch: 301}); got.Epoch != 300 {
		t.Fatalf("second seed replaced the first: %+v", got)
	}

	proof := bytes.Repeat([]byte{7}, 192)
	for _, tc := range []struct {
		p    []byte
		want SubmitResult
	}{{proof, SubmitAccepted}, {proof, SubmitDuplicate}, {bytes.Repeat([]byte{8}, 192), SubmitMismatch}} {
		if o, err := s.WorkerSubmitProof(bg, id, h, ProofSubmission{Proof: tc.p}, false); err != nil || o.Result != tc.want {
			t.Errorf("proof: %+v, %v; want %v", o, err, tc.want)
		}
	}
	if p, _ := s.Proof(bg, id); !bytes.Equal(p, proof) {
		t.Fatal("stored proof changed")
	}
	sec, _ = s.GetSector(bg, id)
	if sec.Ticket == nil || sec.Ticket.Epoch != 100 || sec.Seed == nil || sec.Seed.Epoch != 300 || !sec.HasProof || !sec.PiecesSet {
		t.Fatalf("sector = %+v", sec)
	}
	// Done sectors take no new submissions.
	if err := s.AbortSector(bg, id, "x", t0); err != nil {
		t.Fatal(err)
	}
	_, err = s.WorkerSubmitProof(bg, id, h, ProofSubmission{Proof: proof}, false)
	wantErr(t, err, ErrSectorDone)
	if b, _ := SubmitDuplicate.MarshalText(); string(b) != "duplicate" {
		t.Errorf("MarshalText = %s", b)
	}
}

// allocN allocates n sectors of the (only) tenant to distinct workers.
func allocN(t *testing.T, s *Store, n int, prefix string) []SectorID {
	t.Helper()
	var ids []SectorID
	for i := 0; i < n; i++ {
		ids = append(ids, mustAlloc(t, s, fmt.Sprintf("%s%d", prefix, i), t0).Sector.ID)
	}
	return ids
}

func testBatchesAndNonces(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	tn := tenant("acme", 1000, 1)
	tn.Batching.PreCommitBatchSize = 4 // room for the sectors below
	mustCreate(t, s, tn)
	ids := allocN(t, s, 3, "w")
	var bid int64
	for i, id := range ids[:2] {
		b, err := s.AddToBatch(bg, id, BatchPreCommit, t0)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && b != bid {
			t.Fatalf("second sector in batch %d, want %d", b, bid)
		}
		bid = b
	}
	if again, _ := s.AddToBatch(bg, ids[0], BatchPreCommit, t0); again != bid {
		t.Fatalf("AddToBatch not idempotent: %d vs %d", again, bid)
	}
	_, err := s.ReserveNonce(bg, bid, "f1sender", 0, t0)
	wantErr(t, err, ErrConflict) // still open
	if err := s.CloseBatch(bg, bid, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseBatch(bg, bid, t0); err != nil {
		t.Fatalf("second close: %v", err)
	}
	// The next sector opens a new batch.
	bid2, err := s.AddToBatch(bg, ids[2], BatchPreCommit, t0)
	if err != nil || bid2 == bid {
		t.Fatalf("new batch = %d, %v", bid2, err)
	}
	b, err := s.GetBatch(bg, bid)
	if err != nil || b.State != BatchClosed || len(b.Sectors) != 2 || b.Sectors[0] != ids[0] || b.Message != nil {
		t.Fatalf("batch = %+v, %v", b, err)
	}

	m, err := s.ReserveNonce(bg, bid, "f1sender", 5, t0)
	if err != nil || m.Nonce != 5 || m.State != MsgPending {
		t.Fatalf("reserve = %+v, %v", m, err)
	}
	_, err = s.ReserveNonce(bg, bid, "f1other", 0, t0)
	wantErr(t, err, ErrConflict)
	_, err = s.MarkMessageSigned(bg, m.ID, "bafysigned", t0)
	wantErr(t, err, ErrConflict) // nothing to sign yet
	unsigned := []byte{0x8a, 1, 2, 3}
	if _, err := s.SetMessageUnsigned(bg, m.ID, unsigned, "bafyunsigned", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetMessageUnsigned(bg, m.ID, unsigned, "bafyunsigned", t0); err != nil {
		t.Fatalf("same unsigned again: %v", err)
	}
	_, err = s.SetMessageUnsigned(bg, m.ID, []byte{0x8a, 9}, "bafyother", t0)
	wantErr(t, err, ErrConflict)
	_, err = s.MarkMessageLanded(bg, m.ID, 0, t0)
	wantErr(t, err, ErrConflict) // not pushed
	for i := 0; i < 2; i++ {
		if m, err = s.MarkMessageSigned(bg, m.ID, "bafysigned", t0); err != nil || m.State != MsgSigned {
			t.Fatalf("signed: %+v, %v", m, err)
		}
	}
	_, err = s.MarkMessageSigned(bg, m.ID, "bafydifferent", t0)
	wantErr(t, err, ErrConflict)
	if m, err = s.MarkMessagePushed(bg, m.ID, t0); err != nil || m.State != MsgPushed {
		t.Fatalf("pushed: %+v, %v", m, err)
	}
	if sec, _ := s.GetSector(bg, ids[0]); sec.PreCommitMsg != "bafysigned" || sec.PreCommitBatch != bid {
		t.Fatalf("sector after push: %+v", sec)
	}
	if un, _ := s.UnfinishedMessages(bg); len(un) != 1 || un[0].ID != m.ID {
		t.Fatalf("unfinished = %+v", un)
	}
	if m, err = s.MarkMessageLanded(bg, m.ID, 0, t0.Add(time.Hour)); err != nil || m.State != MsgLanded || *m.ExitCode != 0 {
		t.Fatalf("landed: %+v, %v", m, err)
	}
	if _, err := s.MarkMessageLanded(bg, m.ID, 0, t0); err != nil {
		t.Fatalf("landed again: %v", err)
	}
	_, err = s.MarkMessageLanded(bg, m.ID, 16, t0)
	wantErr(t, err, ErrConflict)
	_, err = s.MarkMessageFailed(bg, m.ID, "x", t0)
	wantErr(t, err, ErrConflict)
	b, _ = s.GetBatch(bg, bid)
	if b.State != BatchLanded || b.Message == nil || b.Message.ID != m.ID || !b.DoneAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("landed batch = %+v", b)
	}

	// Second batch: same sender, next nonce (the chain is behind us).
	if err := s.CloseBatch(bg, bid2, t0); err != nil {
		t.Fatal(err)
	}
	m2, err := s.ReserveNonce(bg, bid2, "f1sender", 3, t0)
	if err != nil || m2.Nonce != 6 {
		t.Fatalf("second reserve = %+v, %v", m2, err)
	}
	// It fails before being pushed: the nonce is given back, the batch
	// fails and its sector can be batched again.
	if _, err := s.MarkMessageFailed(bg, m2.ID, "signer refused", t0); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.SenderNextNonce(bg, "f1sender"); n != 6 {
		t.Fatalf("next nonce after failed unpushed message = %d, want 6", n)
	}
	_, err = s.MarkMessagePushed(bg, m2.ID, t0)
	wantErr(t, err, ErrConflict)
	bid3, err := s.AddToBatch(bg, ids[2], BatchPreCommit, t0)
	if err != nil || bid3 == bid2 {
		t.Fatalf("re-batch after failure = %d, %v", bid3, err)
	}
	if err := s.CloseBatch(bg, bid3, t0); err != nil {
		t.Fatal(err)
	}
	m3, err := s.ReserveNonce(bg, bid3, "f1sender", 0, t0)
	if err != nil || m3.Nonce != 6 {
		t.Fatalf("reserve after give-back = %+v, %v", m3, err)
	}
	// A landed message with a non-zero exit code fails its batch.
	if _, err := s.SetMessageUnsigned(bg, m3.ID, []byte{1}, "bafy3", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkMessagePushed(bg, m3.ID, t0); err != nil {
		t.Fatal(err)
	}
	if sec, _ := s.GetSector(bg, ids[2]); sec.PreCommitMsg != "bafy3" {
		t.Fatalf("BLS-style message: sector msg %q, want unsigned cid", sec.PreCommitMsg)
	}
	if _, err := s.MarkMessageLanded(bg, m3.ID, 16, t0); err != nil {
		t.Fatal(err)
	}
	b3, _ := s.GetBatch(bg, bid3)
	if b3.State != BatchFailed || len(b3.Sectors) != 0 {
		t.Fatalf("failed batch = %+v", b3)
	}
	if sec, _ := s.GetSector(bg, ids[2]); sec.PreCommitBatch != 0 || sec.PreCommitMsg != "" {
		t.Fatalf("sector not released: %+v", sec)
	}
	list, err := s.ListBatches(bg, BatchFilter{TenantID: "acme", Kind: BatchPreCommit, States: []BatchState{BatchFailed}})
	if err != nil || len(list) != 2 {
		t.Fatalf("failed batches = %+v, %v", list, err)
	}
	// Prove batches are separate from precommit batches.
	pb, err := s.AddToBatch(bg, ids[0], BatchProveCommit, t0)
	if err != nil || pb == bid {
		t.Fatalf("prove batch = %d, %v", pb, err)
	}
	_, err = s.AddToBatch(bg, ids[0], "bogus", t0)
	wantErr(t, err, ErrInvalid)
	_, err = s.GetBatch(bg, 424242)
	wantErr(t, err, ErrNotFound)
}

// testNonceAcrossRestart: a manager reserves a nonce, stores the unsigned
// message and dies; the restarted manager (a new Store on the same
// database) gets the same message and nonce back and does not consume a
// new one.
func testNonceAcrossRestart(t *testing.T, newDB dbFactory) {
	open := newDB(t)
	s := open()
	mustCreate(t, s, tenant("acme", 1000, 1))
	id := mustAlloc(t, s, "w", t0).Sector.ID
	bid, err := s.AddToBatch(bg, id, BatchProveCommit, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CloseBatch(bg, bid, t0); err != nil {
		t.Fatal(err)
	}
	m, err := s.ReserveNonce(bg, bid, "f3bls", 41, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetMessageUnsigned(bg, m.ID, []byte("cbor"), "bafyx", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := open()
	un, err := s2.UnfinishedMessages(bg)
	if err != nil || len(un) != 1 || un[0].ID != m.ID || un[0].Nonce != 41 || !bytes.Equal(un[0].Unsigned, []byte("cbor")) {
		t.Fatalf("unfinished after restart = %+v, %v", un, err)
	}
	// Even if the chain now reports a higher nonce, the batch keeps its.
	again, err := s2.ReserveNonce(bg, bid, "f3bls", 50, t0.Add(time.Hour))
	if err != nil || again.ID != m.ID || again.Nonce != 41 {
		t.Fatalf("reserve after restart = %+v, %v", again, err)
	}
	if n, _ := s2.SenderNextNonce(bg, "f3bls"); n != 42 {
		t.Fatalf("next nonce = %d, want 42 (restart consumed a nonce)", n)
	}
	_, err = s2.SetMessageUnsigned(bg, m.ID, []byte("different cbor"), "bafyy", t0)
	wantErr(t, err, ErrConflict)
}

func testConcurrentNonces(t *testing.T, newDB dbFactory) {
	open := newDB(t)
	m1, m2 := open(), open()
	mustCreate(t, m1, tenant("acme", 1000, 1))
	const n = 12
	var bids []int64
	for i := 0; i < n; i++ {
		id := mustAlloc(t, m1, fmt.Sprintf("w%d", i), t0).Sector.ID
		bid, err := m1.AddToBatch(bg, id, BatchPreCommit, t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := m1.CloseBatch(bg, bid, t0); err != nil {
			t.Fatal(err)
		}
		bids = append(bids, bid)
	}
	nonces := make([]uint64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, bid := range bids {
		s := []*Store{m1, m2}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := s.ReserveNonce(bg, bid, "f1shared", 0, t0)
			nonces[i], errs[i] = m.Nonce, err
		}()
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for i := range nonces {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[nonces[i]] || nonces[i] >= n {
			t.Fatalf("nonces = %v", nonces)
		}
		seen[nonces[i]] = true
	}
}

func testDeliveries(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	mustCreate(t, s, tenant("acme", 1000, 1))
	id := mustAlloc(t, s, "w", t0).Sector.ID
	d, err := s.CreateDelivery(bg, id, "https://sp/recv", t0)
	if err != nil || d.State != DeliveryPending || d.Attempts != 1 || d.TenantID != "acme" {
		t.Fatalf("create = %+v, %v", d, err)
	}
	if d2, _ := s.CreateDelivery(bg, id, "https://elsewhere", t0.Add(time.Hour)); d2.Target != "https://sp/recv" {
		t.Fatalf("create not idempotent: %+v", d2)
	}
	_, err = s.CreateDelivery(bg, SectorID{1000, 99}, "x", t0)
	wantErr(t, err, ErrNotFound)
	for _, tc := range []struct {
		to      DeliveryState
		wantErr error
		attempt int
	}{
		{DeliveryAccepted, ErrConflict, 1}, // cannot skip verification
		{DeliveryTransferring, nil, 1},
		{DeliveryTransferring, nil, 1}, // same state: no-op
		{DeliveryVerifying, nil, 1},
		{DeliveryRejected, nil, 1},
		{DeliveryAccepted, ErrConflict, 1},
		{DeliveryPending, nil, 2}, // retry
		{DeliveryTransferring, nil, 2},
		{DeliveryVerifying, nil, 2},
		{DeliveryAccepted, nil, 2},
		{DeliveryPending, ErrConflict, 2}, // accepted is final
		{"lost", ErrInvalid, 2},
	} {
		d, err := s.UpdateDelivery(bg, id, tc.to, "r-"+string(tc.to), t0)
		if tc.wantErr != nil {
			wantErr(t, err, tc.wantErr)
			continue
		}
		if err != nil || d.State != tc.to || d.Attempts != tc.attempt {
			t.Fatalf("→ %s: %+v, %v", tc.to, d, err)
		}
	}
	if list, _ := s.ListDeliveries(bg, "acme", DeliveryAccepted); len(list) != 1 {
		t.Fatalf("accepted list = %+v", list)
	}
	if list, _ := s.ListDeliveries(bg, "", DeliveryPending); len(list) != 0 {
		t.Fatalf("pending list = %+v", list)
	}
	_, err = s.UpdateDelivery(bg, SectorID{1000, 99}, DeliveryPending, "", t0)
	wantErr(t, err, ErrNotFound)
}

func testUsage(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	a, b := tenant("alpha", 1, 1), tenant("beta", 2, 1)
	b.ProofType = abi.StackedDrg8MiBV1_1
	mustCreate(t, s, a, b)
	ida, err := s.AllocateSector(bg, "wa", AllocateFilter{Tenants: []string{"alpha"}}, t0, AllocatePolicy{})
	if err != nil {
		t.Fatal(err)
	}
	idb, err := s.AllocateSector(bg, "wb", AllocateFilter{Tenants: []string{"beta"}}, t0, AllocatePolicy{})
	if err != nil {
		t.Fatal(err)
	}
	// Workers bill the CPU seconds of a step with its state report. A
	// resent report is billed once; a retried stage is a later report and
	// billed again. Stages that are not billable are ignored.
	for i, tc := range []struct {
		a      Allocation
		r      StateReport
		cpu    map[string]float64
		resend bool
	}{
		{ida, StateReport{Prev: "PiecesAcquired", Next: "PC1Done", Event: "pc1"}, map[string]float64{"pc1": 100.5}, false},
		{ida, StateReport{Prev: "PiecesAcquired", Next: "PC1Done", Event: "pc1"}, map[string]float64{"pc1": 100.5}, true},
		{ida, StateReport{Prev: "PC1Done", Next: "PC1Done", Event: "pc1", Failure: &Failure{Level: "temporary", Desc: "redo"}}, map[string]float64{"pc1": 50}, false},
		{ida, StateReport{Prev: "PC1Done", Next: "PC2Done", Event: "pc2"}, map[string]float64{"pc2": 20}, false},
		{ida, StateReport{Prev: "PC2Done", Next: "PC2Done", Event: "noise"},
			map[string]float64{StageAllocated: 1, StageFinalized: 1, "": 1, "neg": -1, "nan": math.NaN(), "inf": math.Inf(1)}, false},
		{idb, StateReport{Prev: "ProofReady", Next: "ProofSubmitted", Event: "c2"}, map[string]float64{"c2": 7}, false},
	} {
		tc.r.ID = tc.a.Sector.ID
		h := Holder{Check: holds(tc.a.Sector.WorkerID), Now: t0.Add(time.Minute)}
		out, err := s.WorkerReport(bg, h, tc.r, tc.cpu, nil)
		if err != nil || out.Resend != tc.resend {
			t.Fatalf("report %d: %+v, %v; want resend %v", i, out, err, tc.resend)
		}
	}
	_, err = s.WorkerReport(bg, Holder{Now: t0}, StateReport{ID: SectorID{1, 99}, Next: "PC1Done"}, map[string]float64{"pc1": 1}, nil)
	wantErr(t, err, ErrNotFound)
	if err := finalize(s, ida.Sector.ID, "wa", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Usage survives deletion of the sector, which goes with its tenant.
	if err := s.DeleteTenant(bg, "alpha", t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSector(bg, ida.Sector.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("sector of a deleted tenant: %v", err)
	}
	u, err := s.Usage(bg, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []TenantUsage{
		{TenantID: "alpha", SectorsAllocated: 1, SectorsFinalized: 1, BytesFinalized: 2048,
			CPUSeconds: map[string]float64{"pc1": 150.5, "pc2": 20}},
		{TenantID: "beta", SectorsAllocated: 1, CPUSeconds: map[string]float64{"c2": 7}},
	}
	if a, b := mustJSON(t, u), mustJSON(t, want); a != b {
		t.Fatalf("usage:\n got %s\nwant %s", a, b)
	}
	var buf bytes.Buffer
	if err := WriteUsageCSV(&buf, u); err != nil {
		t.Fatal(err)
	}
	wantCSV := "tenant,sectors_allocated,sectors_finalized,bytes_finalized,cpu_seconds_c2,cpu_seconds_pc1,cpu_seconds_pc2\n" +
		"alpha,1,1,2048,0,150.5,20\n" +
		"beta,1,0,0,7,0,0\n"
	if buf.String() != wantCSV {
		t.Fatalf("csv:\n%s\nwant:\n%s", buf.String(), wantCSV)
	}
	// The window is half-open: nothing at or after `to`.
	if u, _ := s.Usage(bg, t0.Add(time.Hour), t0.Add(2*time.Hour)); len(u) != 0 {
		t.Fatalf("empty window = %+v", u)
	}
}

// simulateFairShare is the documented rule as a model: n picks among
// tenants (sorted ids) with weights, each taking the smallest
// (count+1)/weight, ties to the first.
func simulateFairShare(ids []string, weights []int, n int) map[string]int {
	counts := make([]int, len(ids))
	for range n {
		best := 0
		for i := 1; i < len(ids); i++ {
			if (counts[i]+1)*weights[best] < (counts[best]+1)*weights[i] {
				best = i
			}
		}
		counts[best]++
	}
	out := map[string]int{}
	for i, id := range ids {
		out[id] = counts[i]
	}
	return out
}
