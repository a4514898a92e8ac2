package commit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/store"
	"github.com/sealant/sealant/store/storetest"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testKey is a fixed secp256k1 private key.
var testKey = bytes.Repeat([]byte{0x42}, 32)

// env is a pipeline over a file-backed SQLite store and a fake chain.
type env struct {
	t       *testing.T
	ctx     context.Context
	dsn     string
	st      *store.Store
	chain   *fakeChain
	signer  *fakeSigner
	clock   *fakeClock
	p       *Pipeline
	tenant  store.Tenant
	from    address.Address
	cfg     Config
	threads int
	workers map[store.SectorID]string
}

func newEnv(t *testing.T, mod func(*store.Tenant)) *env {
	t.Helper()
	from, err := sigs.AddressOf(types.SigTypeSecp256k1, testKey)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: context.Background(), dsn: "sqlite://" + filepath.Join(t.TempDir(), "m.sqlite"),
		chain: newFakeChain(from), clock: &fakeClock{t: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}, from: from, workers: map[store.SectorID]string{}}
	e.cfg = Config{Params: DevnetParams(), Confidence: 2, Now: e.clock.Now, RetryBackoff: time.Hour, RepushAfter: time.Hour}
	e.tenant = store.Tenant{ID: "acme", Miner: 1000, ProofType: abi.StackedDrg2KiBV1_1, Weight: 1, ExpirationDays: 540,
		Senders:  []string{from.String()},
		Batching: store.Batching{PreCommitBatchSize: 4, PreCommitMaxWait: time.Hour, ProveCommitMode: store.ProveAggregate, ProveCommitBatchSize: 4, ProveCommitMaxWait: time.Hour}}
	if mod != nil {
		mod(&e.tenant)
	}
	e.open()
	if e.tenant, err = e.st.CreateTenant(e.ctx, e.tenant, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	return e
}

// open opens the store and a fresh pipeline with a fresh signer (a
// restarted manager keeps nothing in memory).
func (e *env) open() {
	e.t.Helper()
	st, err := store.Open(e.ctx, e.dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { st.Close() })
	e.st = st
	e.signer = &fakeSigner{priv: testKey}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if e.p, err = New(e.cfg, st, e.chain, e.signer, log); err != nil {
		e.t.Fatal(err)
	}
}

// restart simulates a manager crash: the pipeline's memory is lost and the
// store is reopened.
func (e *env) restart() {
	e.t.Helper()
	e.p.waitSigning()
	if err := e.st.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(b, "\n")))
	return len(b), nil
}

// tick runs one pipeline pass and waits for signing it started.
func (e *env) tick() {
	e.t.Helper()
	if err := e.p.Tick(e.ctx); err != nil {
		e.t.Fatalf("tick: %v", err)
	}
	e.p.waitSigning()
}

// settle runs rounds of tick/tick/mine/bury until nothing is in flight.
func (e *env) settle(rounds int) {
	e.t.Helper()
	for range rounds {
		e.tick()
		e.tick()
		e.chain.mine()
		e.chain.mu.Lock()
		e.chain.height += e.cfg.Confidence
		e.chain.mu.Unlock()
		e.tick()
	}
}

// comm returns a deterministic 32-byte commitment for sector n.
func comm(n uint64, tag byte) []byte {
	b := bytes.Repeat([]byte{tag}, 32)
	b[0], b[1] = byte(n), byte(n>>8)
	b[31] &= 0x3f
	return b
}

// submitPreCommit allocates n sectors and submits their pre-commits with a
// ticket ticketAge epochs old, through the worker calls: each sector joins
// its tenant's open PreCommit batch as it is submitted.
func (e *env) submitPreCommit(n int, ticketAge types.ChainEpoch) []store.SectorID {
	e.t.Helper()
	var ids []store.SectorID
	for range n {
		// One sealing-thread identity per sector: a thread is re-offered
		// the sector it holds.
		e.threads++
		worker := fmt.Sprintf("w1/t%d", e.threads)
		a, err := e.st.AllocateSector(e.ctx, worker, store.AllocateFilter{}, e.clock.Now(), store.AllocatePolicy{})
		if err != nil {
			e.t.Fatal(err)
		}
		id := a.Sector.ID
		e.workers[id] = worker
		tk := storetest.Ticket(e.t, e.st, id, worker, store.Ticket{Value: comm(id.Number, 0x77), Epoch: int64(e.chain.height - ticketAge)}, e.clock.Now())
		storetest.PreCommit(e.t, e.st, id, worker, store.Commitments{
			PreCommitInfo: store.PreCommitInfo{CommR: comm(id.Number, 0xaa), CommD: comm(id.Number, 0xdd), Ticket: tk}}, e.clock.Now())
		ids = append(ids, id)
	}
	return ids
}

// submitProof submits a sector's proof with a seed drawn at the current
// height, through the worker call: the sector joins its tenant's open
// ProveCommit batch.
func (e *env) submitProof(id store.SectorID, proof []byte) {
	e.t.Helper()
	seed := store.Ticket{Value: comm(id.Number, 0x55), Epoch: int64(e.chain.height)}
	storetest.Prove(e.t, e.st, id, e.workers[id], store.ProofSubmission{Proof: proof, Seed: &seed}, e.clock.Now())
}

func (e *env) sector(id store.SectorID) store.Sector {
	e.t.Helper()
	s, err := e.st.GetSector(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) batches(kind store.BatchKind, states ...store.BatchState) []store.Batch {
	e.t.Helper()
	bs, err := e.st.ListBatches(e.ctx, store.BatchFilter{TenantID: e.tenant.ID, Kind: kind, States: states})
	if err != nil {
		e.t.Fatal(err)
	}
	return bs
}

// landedBatchOf reports whether a sector's batch of kind landed.
func (e *env) landed(id store.SectorID, kind store.BatchKind) bool {
	e.t.Helper()
	s := e.sector(id)
	bid := s.PreCommitBatch
	if kind == store.BatchProveCommit {
		bid = s.ProveCommitBatch
	}
	if bid == 0 {
		return false
	}
	b, err := e.st.GetBatch(e.ctx, bid)
	if err != nil {
		e.t.Fatal(err)
	}
	return b.State == store.BatchLanded
}

// checkNonces asserts that the sender's executed messages use each nonce
// once, with no gap from 0, and that the store's landed messages agree.
func (e *env) checkNonces() {
	e.t.Helper()
	by := e.chain.executedBy(e.from)
	for n := range uint64(len(by)) {
		if len(by[n]) != 1 {
			e.t.Fatalf("nonce %d executed %d times (gap or duplicate): %v", n, len(by[n]), by)
		}
	}
}
