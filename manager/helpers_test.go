package manager

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/internal/testenv"
	"github.com/sealant/sealant/rpc"
)

// fakeChain is a deterministic Chain: randomness is a hash of its inputs,
// pre-commits and allocated numbers are what the test sets.
type fakeChain struct {
	mu        sync.Mutex
	height    int64
	precommit map[uint64]int64 // sector number → precommit epoch
	allocated map[uint64]bool  // numbers the chain already has
	active    map[uint64]bool  // proven sectors (StateSectorGetInfo)
	calls     int
}

func newFakeChain(height int64) *fakeChain {
	return &fakeChain{height: height, precommit: map[uint64]int64{}, allocated: map[uint64]bool{}, active: map[uint64]bool{}}
}

func (c *fakeChain) setHeight(h int64) { c.mu.Lock(); c.height = h; c.mu.Unlock() }

func (c *fakeChain) ChainHead(context.Context) (*lotus.TipSet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	return &lotus.TipSet{Height: types.ChainEpoch(c.height)}, nil
}

func fakeRandomness(kind string, tag rand.DomainSeparationTag, epoch types.ChainEpoch, entropy []byte) rand.Randomness {
	h := sha256.New()
	h.Write([]byte(kind))
	binary.Write(h, binary.BigEndian, int64(tag))
	binary.Write(h, binary.BigEndian, int64(epoch))
	h.Write(entropy)
	var r rand.Randomness
	copy(r[:], h.Sum(nil))
	return r
}

func (c *fakeChain) StateGetRandomnessFromTickets(_ context.Context, tag rand.DomainSeparationTag, epoch types.ChainEpoch, entropy []byte, _ types.TipSetKey) (rand.Randomness, error) {
	return fakeRandomness("tickets", tag, epoch, entropy), nil
}

func (c *fakeChain) StateGetRandomnessFromBeacon(_ context.Context, tag rand.DomainSeparationTag, epoch types.ChainEpoch, entropy []byte, _ types.TipSetKey) (rand.Randomness, error) {
	return fakeRandomness("beacon", tag, epoch, entropy), nil
}

func (c *fakeChain) StateSectorPreCommitInfo(_ context.Context, _ address.Address, n uint64, _ types.TipSetKey) (*lotus.SectorPreCommitOnChainInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.precommit[n]
	if !ok {
		return nil, nil
	}
	return &lotus.SectorPreCommitOnChainInfo{PreCommitEpoch: types.ChainEpoch(e)}, nil
}

func (c *fakeChain) StateMinerSectorAllocated(_ context.Context, _ address.Address, n uint64, _ types.TipSetKey) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.allocated[n], nil
}

func (c *fakeChain) StateSectorGetInfo(_ context.Context, _ address.Address, n uint64, _ types.TipSetKey) (*lotus.SectorOnChainInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.active[n] {
		return nil, nil
	}
	return &lotus.SectorOnChainInfo{}, nil
}

// testClock is a settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

var testSecret = []byte("0123456789abcdef0123456789abcdef-test")

// env is one test database with a clock; open() starts a Service on it
// (a "manager process"), closed at the end of the test.
type env struct {
	t     testing.TB
	dsn   string
	clock *testClock
	chain *fakeChain
	// receiver and handoff set Options.Receiver and
	// Options.HandoffInterval; a zero handoff means no background loop
	// (tests drive PushPendingMetadata themselves).
	receiver ReceiverClient
	handoff  time.Duration
	// reportFlush sets Options.ReportFlush (zero: the default).
	reportFlush time.Duration
	// pollTTL sets Options.PollCacheTTL (zero: no cache, as tests move
	// batches and poll at once).
	pollTTL time.Duration
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return &env{t: t, dsn: "sqlite://" + filepath.Join(t.TempDir(), "m.sqlite"), clock: &testClock{now: t0}, chain: newFakeChain(10_000)}
}

// newPGEnv returns an env on a fresh schema of SEALANT_TEST_PG_DSN, or
// skips the test.
func newPGEnv(t testing.TB) *env {
	t.Helper()
	dsn := os.Getenv("SEALANT_TEST_PG_DSN")
	if dsn == "" {
		testenv.Skip(t, "manager: PostgreSQL tests skipped: set SEALANT_TEST_PG_DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var rnd [6]byte
	if _, err := crand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	schema := "sealant_mgr_test_" + hex.EncodeToString(rnd[:])
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return &env{t: t, dsn: u.String(), clock: &testClock{now: t0}, chain: newFakeChain(10_000)}
}

func (e *env) open() *Service {
	e.t.Helper()
	s, err := NewService(context.Background(), Options{
		DSN: e.dsn, Chain: e.chain, Secret: testSecret, Now: e.clock.Now, Policy: rand.Devnet2K, BlockTime: 4 * time.Second,
		PollCacheTTL: cmp.Or(e.pollTTL, -1),
		Receiver:     e.receiver, HandoffInterval: cmp.Or(e.handoff, -1), ReportFlush: e.reportFlush,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		e.t.Fatalf("NewService: %v", err)
	}
	e.t.Cleanup(func() { s.Close() })
	return s
}

func claimsCtx(role rpc.Role, tenant, subject string) context.Context {
	c := &rpc.Claims{Allow: rpc.AllowList(rpc.PermAdmin), Role: role, Tenant: tenant}
	c.Subject = subject
	return rpc.WithClaims(context.Background(), c)
}

func workerCtx(name string) context.Context   { return claimsCtx(rpc.RoleWorker, "", name) }
func tenantCtx(tenant string) context.Context { return claimsCtx(rpc.RoleTenant, tenant, tenant) }
func adminCtx() context.Context               { return claimsCtx(rpc.RoleAdmin, "", "admin") }

// mustTenant creates a 2 KiB tenant.
func mustTenant(t testing.TB, s *Service, id string, miner uint64, weight int, mod ...func(*api.TenantConfig)) {
	t.Helper()
	tc := api.TenantConfig{ID: id, Miner: miner, ProofType: 5, Weight: weight}
	for _, m := range mod {
		m(&tc)
	}
	if _, err := s.CreateTenant(adminCtx(), tc); err != nil {
		t.Fatalf("create tenant %s: %v", id, err)
	}
}

func mustAllocate(t testing.TB, s *Service, worker, thread string) *api.AllocatedSector {
	t.Helper()
	a, err := s.AllocateSector(workerCtx(worker), api.AllocateSpec{Worker: worker, Thread: thread})
	if err != nil {
		t.Fatalf("allocate %s/%s: %v", worker, thread, err)
	}
	if a == nil {
		t.Fatalf("allocate %s/%s: no work", worker, thread)
	}
	return a
}
