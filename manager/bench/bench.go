package bench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/api/rpcapi"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/manager"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/store"
)

// Limits that keep the tool from running away.
const (
	MaxThreads  = 50_000
	MaxDuration = 10 * time.Minute
)

// ErrLimits reports a configuration beyond the tool's bounds.
var ErrLimits = errors.New("bench: outside limits")

// Config sets up a run.
type Config struct {
	// Threads is the number of simulated sealing threads.
	Threads int
	// Duration is how long the load is measured, after Warmup.
	Duration time.Duration
	// Ramp spreads the threads' first calls (default min(10 s, Duration)),
	// so that N threads do not all allocate in the same second, which no
	// real fleet does.
	Ramp time.Duration
	// Warmup is run but not measured (default Ramp): the figures describe
	// the steady state, where most calls are polls.
	Warmup time.Duration
	// Interval is the pause between a thread's calls (default 1 s).
	Interval time.Duration
	// ThreadsPerWorker groups threads under worker tokens (default 64).
	ThreadsPerWorker int
	// Database is the store DSN; "" = SQLite in a temporary directory.
	Database string
	// Tenants is the number of tenants (default 3, weights 1..n).
	Tenants int
	// PollsPerStage is the mean number of polls a thread makes while
	// waiting for each on-chain step (default 20; each thread draws
	// uniformly from [P/2, 3P/2] so the threads drift apart).
	PollsPerStage int
	// MaxConns bounds client connections to the server over HTTP (default
	// 512).
	MaxConns int
	// Transport is how the simulated workers reach the manager: "http"
	// (default; one POST per call over pooled keep-alive connections) or
	// "ws" (one WebSocket per worker, its threads' calls multiplexed on
	// it, as go-jsonrpc clients such as damocles workers connect).
	Transport string
	// MaxRequests stops the run early after this many calls (0 = no
	// bound beyond Duration).
	MaxRequests int64
	// PGStats reports PostgreSQL's own transaction counts over the run
	// (Report.PG; PostgreSQL only, see PGStats).
	PGStats bool
	// ReportSteps makes each thread report every state change of its
	// sector (ReportState, as a real worker thread does, one call per
	// interval like the others) instead of only the last one before
	// ReportFinalized.
	ReportSteps bool
	Logger      *slog.Logger
}

// MethodStats is one method's figures.
type MethodStats struct {
	Method string        `json:"method"`
	Calls  int           `json:"calls"`
	Errors int           `json:"errors"`
	P50    time.Duration `json:"p50_ns"`
	P99    time.Duration `json:"p99_ns"`
	Max    time.Duration `json:"max_ns"`
	// FirstError is one error text for diagnosis.
	FirstError string `json:"first_error,omitempty"`
}

// Report is a run's result.
type Report struct {
	Threads int `json:"threads"`
	// Duration is the measured window (after Warmup).
	Duration  time.Duration `json:"duration_ns"`
	Warmup    time.Duration `json:"warmup_ns"`
	Store     string        `json:"store"`
	Transport string        `json:"transport"`
	Requests  int           `json:"requests"`
	Errors    int           `json:"errors"`
	ReqPerSec float64       `json:"req_per_sec"`
	P50       time.Duration `json:"p50_ns"`
	P99       time.Duration `json:"p99_ns"`
	Methods   []MethodStats `json:"methods"`
	Sectors   int           `json:"sectors_allocated"`
	Finalized int           `json:"sectors_finalized"`
	Lagging   int64         `json:"late_ticks"`
	// Unfinished is the number of calls started in the measured window
	// and still unanswered when it ended (their latency is unknown, at
	// least the time left in the window).
	Unfinished  int64 `json:"unfinished"`
	MaxInflight int64 `json:"max_inflight"`
	// UnansweredAtEnd counts every call still unanswered when the run
	// ended, warm-up included: a call stuck since the ramp is not in the
	// percentiles (they cover calls started in the window) but is here.
	UnansweredAtEnd int64 `json:"unanswered_at_end"`
	// ThreadsWithoutSector is the number of threads that never got a
	// sector: allocations that were queued for the whole run.
	ThreadsWithoutSector int64 `json:"threads_without_sector"`
	// PG is PostgreSQL's count of the run's transactions (Config.PGStats).
	PG *PGStats `json:"pg,omitempty"`
}

func (c *Config) provision() error {
	if c.Threads <= 0 || c.Threads > MaxThreads {
		return fmt.Errorf("%w: threads %d: want 1..%d", ErrLimits, c.Threads, MaxThreads)
	}
	if c.Duration <= 0 || c.Duration > MaxDuration {
		return fmt.Errorf("%w: duration %v: want (0, %v]", ErrLimits, c.Duration, MaxDuration)
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Ramp <= 0 {
		c.Ramp = min(10*time.Second, c.Duration)
	}
	if c.Warmup < 0 || c.Warmup > MaxDuration {
		return fmt.Errorf("%w: warmup %v", ErrLimits, c.Warmup)
	}
	if c.Warmup == 0 {
		c.Warmup = c.Ramp
	}
	if c.ThreadsPerWorker <= 0 {
		c.ThreadsPerWorker = 64
	}
	if c.Tenants <= 0 {
		c.Tenants = 3
	}
	if c.PollsPerStage <= 0 {
		c.PollsPerStage = 20
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 512
	}
	switch c.Transport {
	case "":
		c.Transport = "http"
	case "http", "ws":
	default:
		return fmt.Errorf("%w: transport %q: want http or ws", ErrLimits, c.Transport)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// benchChain is a chain where everything is immediately ready: the ticket
// and seed are hashes of their inputs and every sector is pre-committed at
// epoch 0 under a head at 1e6.
type benchChain struct{}

func (benchChain) ChainHead(context.Context) (*lotus.TipSet, error) {
	return &lotus.TipSet{Height: 1_000_000}, nil
}

func draw(kind byte, tag rand.DomainSeparationTag, epoch types.ChainEpoch, entropy []byte) rand.Randomness {
	h := sha256.New()
	h.Write([]byte{kind})
	binary.Write(h, binary.BigEndian, int64(tag))
	binary.Write(h, binary.BigEndian, int64(epoch))
	h.Write(entropy)
	var r rand.Randomness
	copy(r[:], h.Sum(nil))
	return r
}

func (benchChain) StateGetRandomnessFromTickets(_ context.Context, tag rand.DomainSeparationTag, e types.ChainEpoch, ent []byte, _ types.TipSetKey) (rand.Randomness, error) {
	return draw('t', tag, e, ent), nil
}

func (benchChain) StateGetRandomnessFromBeacon(_ context.Context, tag rand.DomainSeparationTag, e types.ChainEpoch, ent []byte, _ types.TipSetKey) (rand.Randomness, error) {
	return draw('b', tag, e, ent), nil
}

func (benchChain) StateSectorPreCommitInfo(context.Context, address.Address, uint64, types.TipSetKey) (*lotus.SectorPreCommitOnChainInfo, error) {
	return &lotus.SectorPreCommitOnChainInfo{PreCommitEpoch: 999_000}, nil
}

func (benchChain) StateMinerSectorAllocated(context.Context, address.Address, uint64, types.TipSetKey) (bool, error) {
	return false, nil
}

// simPipeline stands in for the commit pipeline: every tick it closes the
// open batches and walks their messages to landed, so polls progress.
type simPipeline struct {
	st   *store.Store
	wake chan struct{}
}

func (p *simPipeline) Wake(string, store.BatchKind) {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *simPipeline) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		p.tick(ctx)
	}
}

// tick lands every open or closed batch (the store closes a full one
// itself): close, nonce, message, pushed, landed.
func (p *simPipeline) tick(ctx context.Context) {
	bs, err := p.st.ListBatches(ctx, store.BatchFilter{States: []store.BatchState{store.BatchOpen, store.BatchClosed}})
	if err != nil {
		return
	}
	now := time.Now()
	for _, b := range bs {
		if b.State == store.BatchOpen && p.st.CloseBatch(ctx, b.ID, now) != nil {
			continue
		}
		m, err := p.st.ReserveNonce(ctx, b.ID, "t1bench", 0, now)
		if err != nil {
			continue
		}
		if _, err := p.st.SetMessageUnsigned(ctx, m.ID, []byte(fmt.Sprint(b.ID)), fmt.Sprint("bafybench", b.ID), now); err != nil {
			continue
		}
		if _, err := p.st.MarkMessagePushed(ctx, m.ID, now); err != nil {
			continue
		}
		p.st.MarkMessageLanded(ctx, m.ID, 0, now)
	}
}

// recorder keeps every latency per method.
type recorder struct {
	from     time.Time // samples started before this are warm-up
	mu       sync.Mutex
	lat      map[string][]time.Duration
	errs     map[string]int
	firstErr map[string]string
	total    atomic.Int64
	inflight atomic.Int64
	maxInfl  atomic.Int64
	late     atomic.Int64
	// unfinished counts measured calls still unanswered when the run ended;
	// unansweredAll counts them all, warm-up included.
	unfinished    atomic.Int64
	unansweredAll atomic.Int64
}

func (r *recorder) record(method string, start time.Time, d time.Duration, err error) {
	if start.Before(r.from) {
		return
	}
	r.mu.Lock()
	r.lat[method] = append(r.lat[method], d)
	if err != nil {
		r.errs[method]++
		if r.firstErr[method] == "" {
			r.firstErr[method] = err.Error()
		}
	}
	r.mu.Unlock()
}

// Run performs a benchmark run and returns its report.
func Run(ctx context.Context, cfg Config) (rep Report, err error) {
	if err := cfg.provision(); err != nil {
		return Report{}, err
	}
	dir, err := os.MkdirTemp("", "sealant-bench-")
	if err != nil {
		return Report{}, err
	}
	defer os.RemoveAll(dir)
	dsn := cfg.Database
	if dsn == "" {
		dsn = "sqlite://" + filepath.Join(dir, "bench.sqlite")
	}
	secret, err := manager.LoadOrCreateSecret(dir)
	if err != nil {
		return Report{}, err
	}
	svc, err := manager.NewService(ctx, manager.Options{DSN: dsn, Chain: benchChain{}, Secret: secret, Logger: cfg.Logger, LeaseTTL: 10 * time.Minute})
	if err != nil {
		return Report{}, err
	}
	var pg *pgCounter
	if cfg.PGStats {
		if svc.Store().Dialect() != "postgres" {
			svc.Close()
			return Report{}, fmt.Errorf("%w: pg-stats needs a PostgreSQL database", ErrLimits)
		}
		if pg, err = openPGCounter(ctx, dsn); err != nil {
			svc.Close()
			return Report{}, err
		}
		// Deferred before svc.Close, so it runs after it: the manager's
		// connections report their last statistics as they end.
		defer func() {
			if err == nil {
				rep.PG, err = pg.finish(ctx, rep.Sectors)
			}
			pg.close()
		}()
	}
	defer svc.Close()
	pipe := &simPipeline{st: svc.Store(), wake: make(chan struct{}, 1)}
	svc.SetPipeline(pipe)
	// Tenants with distinct miners per run, so a shared PostgreSQL
	// database can be reused between runs.
	base := uint64(time.Now().UnixNano()%1_000_000) * 100
	var tenants []string
	for i := 0; i < cfg.Tenants; i++ {
		tenants = append(tenants, fmt.Sprintf("bench-%d-%d", base, i))
		_, err := svc.CreateTenant(context.Background(), api.TenantConfig{
			ID: tenants[i], Miner: base + uint64(i) + 1000, ProofType: 5, Weight: i + 1,
			// Batches of up to 64 for both kinds; ProveCommit aggregated,
			// or the store keeps each proof in a batch (and message) of
			// its own.
			PreCommitBatchSize: 64, ProveCommitBatchSize: 64, ProveCommitMode: "aggregate",
		})
		if err != nil {
			return Report{}, fmt.Errorf("bench: create tenant: %w", err)
		}
	}
	srv, err := svc.NewRPCServer()
	if err != nil {
		return Report{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Report{}, err
	}
	hs := &http.Server{Handler: svc.Handler(srv), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer func() {
		// Let handlers still running (a saturated server has many) finish
		// before the store closes under them.
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		srv.Close()
		if hs.Shutdown(sctx) != nil {
			hs.Close()
		}
	}()
	pctx, stopPipe := context.WithCancel(ctx)
	defer stopPipe()
	go pipe.Run(pctx)

	url := "http://" + ln.Addr().String() + manager.RPCPath
	if cfg.Transport == "ws" {
		url = "ws://" + ln.Addr().String() + manager.RPCPath
	}
	tr := &http.Transport{MaxIdleConns: cfg.MaxConns, MaxIdleConnsPerHost: cfg.MaxConns, MaxConnsPerHost: cfg.MaxConns, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}

	workers := (cfg.Threads + cfg.ThreadsPerWorker - 1) / cfg.ThreadsPerWorker
	clients := make([]*rpc.Client, workers)
	for w := range clients {
		it, err := svc.IssueToken(ctx, api.TokenRequest{Role: "worker", Subject: fmt.Sprintf("bw%d-%d", base, w)})
		if err != nil {
			return Report{}, err
		}
		if clients[w], err = rpc.Dial(ctx, url, rpc.WithToken(it.Token), rpc.WithHTTPClient(hc), rpc.WithErrorRegistry(manager.Errors)); err != nil {
			return Report{}, err
		}
	}

	if pg != nil {
		if err := pg.begin(ctx); err != nil {
			return Report{}, err
		}
	}
	start := time.Now()
	rec := &recorder{from: start.Add(cfg.Warmup), lat: map[string][]time.Duration{}, errs: map[string]int{}, firstErr: map[string]string{}}
	runCtx, cancel := context.WithTimeout(ctx, cfg.Warmup+cfg.Duration)
	defer cancel()
	var wg sync.WaitGroup
	var finalized atomic.Int64
	var allocated atomic.Int64
	var withoutSector atomic.Int64
	for i := 0; i < cfg.Threads; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			th := &thread{
				c: clients[i/cfg.ThreadsPerWorker], worker: fmt.Sprintf("bw%d-%d", base, i/cfg.ThreadsPerWorker), name: fmt.Sprintf("t%d", i),
				tenants: tenants, polls: cfg.PollsPerStage, reportSteps: cfg.ReportSteps, rnd: mrand.New(mrand.NewPCG(uint64(i), 7)),
				rec: rec, finalized: &finalized, allocated: &allocated, maxReq: cfg.MaxRequests, cancel: cancel,
			}
			defer func() {
				if !th.got {
					withoutSector.Add(1)
				}
			}()
			// Spread the threads' first calls over the ramp.
			offset := time.Duration(int64(cfg.Ramp) * int64(i) / int64(cfg.Threads))
			next := start.Add(offset)
			// One timer per thread, reset for every pause: a new one per
			// call was a share of the run's garbage, which this harness
			// adds to the server's.
			pause := time.NewTimer(time.Hour)
			defer pause.Stop()
			for {
				if d := time.Until(next); d > 0 {
					pause.Reset(d)
					select {
					case <-runCtx.Done():
						return
					case <-pause.C:
					}
				} else if -d > cfg.Interval {
					rec.late.Add(1) // the previous call overran a whole interval
				}
				if runCtx.Err() != nil {
					return
				}
				th.step(runCtx)
				next = next.Add(cfg.Interval)
				if n := time.Now(); next.Before(n) {
					next = n
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start) - cfg.Warmup
	for _, c := range clients {
		c.Close()
	}

	rep = Report{Threads: cfg.Threads, Duration: elapsed, Warmup: cfg.Warmup, Store: svc.Store().Dialect(), Transport: cfg.Transport, Sectors: int(allocated.Load()), Finalized: int(finalized.Load()),
		Lagging: rec.late.Load(), MaxInflight: rec.maxInfl.Load(), Unfinished: rec.unfinished.Load(),
		UnansweredAtEnd: rec.unansweredAll.Load(), ThreadsWithoutSector: withoutSector.Load()}
	var all []time.Duration
	methods := make([]string, 0, len(rec.lat))
	for m := range rec.lat {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	for _, m := range methods {
		l := rec.lat[m]
		slices.Sort(l)
		all = append(all, l...)
		rep.Methods = append(rep.Methods, MethodStats{Method: m, Calls: len(l), Errors: rec.errs[m], P50: pct(l, 50), P99: pct(l, 99), Max: l[len(l)-1], FirstError: rec.firstErr[m]})
		rep.Errors += rec.errs[m]
	}
	slices.Sort(all)
	rep.Requests = len(all)
	rep.P50, rep.P99 = pct(all, 50), pct(all, 99)
	rep.ReqPerSec = float64(len(all)) / elapsed.Seconds()
	return rep, nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return sorted[i-1]
}

// thread is one simulated sealing thread: a small script over the worker
// API, one call per step.
type thread struct {
	c       *rpc.Client
	worker  string
	name    string
	tenants []string // this run's tenants (a reused database holds others)
	polls   int
	// reportSteps: report every state change (Config.ReportSteps);
	// report is the one due before the next step.
	reportSteps bool
	report      *api.StateReport
	rnd         *mrand.Rand
	rec         *recorder
	finalized   *atomic.Int64
	allocated   *atomic.Int64
	maxReq      int64
	cancel      context.CancelFunc

	typed  api.SealerAPI // see sealer
	sector *api.AllocatedSector
	got    bool // a sector was allocated to this thread at least once
	ticket api.Ticket
	stage  int
	waited int
}

// sealer is the worker API as this simulated thread calls it: the typed
// client over the thread itself, which times every call (Call). A thread
// is driven by one goroutine.
func (t *thread) sealer() api.SealerAPI {
	if t.typed == nil {
		t.typed = rpcapi.NewSealerClient(t)
	}
	return t.typed
}

// Call implements rpcapi.Caller: one timed call on the thread's connection.
func (t *thread) Call(ctx context.Context, method string, result any, params ...any) error {
	if t.maxReq > 0 && t.rec.total.Add(1) > t.maxReq {
		t.cancel()
		return context.Canceled
	}
	n := t.rec.inflight.Add(1)
	for {
		m := t.rec.maxInfl.Load()
		if n <= m || t.rec.maxInfl.CompareAndSwap(m, n) {
			break
		}
	}
	start := time.Now()
	err := t.c.Call(ctx, method, result, params...)
	d := time.Since(start)
	t.rec.inflight.Add(-1)
	if err != nil && ctx.Err() != nil {
		// The run ended mid-call: no latency to record, but the call is
		// counted, so a saturated server cannot look fast by leaving its
		// slowest calls unanswered.
		if !start.Before(t.rec.from) {
			t.rec.unfinished.Add(1)
		}
		t.rec.unansweredAll.Add(1)
		return err
	}
	t.rec.record(method, start, d, err)
	return err
}

// jitter is a per-stage offset in [-P/2, P/2] on the number of polls.
func (t *thread) jitter() int {
	if t.polls < 2 {
		return 0
	}
	return t.rnd.IntN(t.polls+1) - t.polls/2
}

// Stages of the script.
const (
	stAllocate = iota
	stPieces
	stTicket
	stPreCommit
	stPollPre
	stSeed
	stProof
	stPollProof
	stReport
	stFinalize
)

// stepReports are the state changes (prev, next, metered stage) a real
// thread reports after each step of the script, where its sector state
// machine passes through the sealing stages the script leaves out.
var stepReports = map[int][3]string{
	stAllocate:  {"Allocated", "PiecesAcquired", "add_piece"},
	stPieces:    {"PiecesAcquired", "TreeDBuilt", "tree_d"},
	stTicket:    {"TreeDBuilt", "PC2Done", "pc1"},
	stPreCommit: {"PC2Done", "PreCommitSubmitted", "pc2"},
	stPollPre:   {"PreCommitSubmitted", "PreCommitLanded", ""},
	stSeed:      {"PreCommitLanded", "C2Done", "c2"},
	stProof:     {"C2Done", "ProofSubmitted", ""},
	stPollProof: {"ProofSubmitted", "ProofLanded", ""},
}

func (t *thread) step(ctx context.Context) {
	if t.report != nil {
		if _, err := t.sealer().ReportState(ctx, t.sector.ID, *t.report); err == nil {
			t.report = nil
		}
		return
	}
	before := t.stage
	defer func() {
		if t.reportSteps && t.stage != before && t.sector != nil && before != stReport {
			if r, ok := stepReports[before]; ok {
				t.report = &api.StateReport{Worker: t.worker, Thread: t.name, Prev: r[0], Next: r[1], Event: r[1]}
				if r[2] != "" {
					t.report.CPUSeconds = map[string]float64{r[2]: 1}
				}
			}
		}
	}()
	switch t.stage {
	case stAllocate:
		a, err := t.sealer().AllocateSector(ctx, api.AllocateSpec{Worker: t.worker, Thread: t.name, AllowedTenants: t.tenants})
		if err == nil && a != nil {
			t.sector, t.stage, t.got = a, stPieces, true
			if !a.Resumed {
				t.allocated.Add(1)
			}
		}
	case stPieces:
		if _, err := t.sealer().AcquirePieces(ctx, t.sector.ID); err == nil {
			t.stage = stTicket
		}
	case stTicket:
		if tk, err := t.sealer().AssignTicket(ctx, t.sector.ID); err == nil {
			t.ticket = tk
			t.stage = stPreCommit
		}
	case stPreCommit:
		var r, d [32]byte
		binary.BigEndian.PutUint64(r[:], t.sector.ID.Number)
		binary.BigEndian.PutUint64(d[8:], t.sector.ID.Miner)
		pc := api.PreCommitInfo{CommR: commp.SealedCID(r).String(), CommD: commp.PieceCID(d).String(), Ticket: t.ticket}
		if _, err := t.sealer().SubmitPreCommit(ctx, t.sector.ID, pc, false); err == nil {
			t.stage, t.waited = stPollPre, -t.jitter()
		}
	case stPollPre:
		if res, err := t.sealer().PollPreCommitState(ctx, t.sector.ID); err == nil {
			t.waited++
			if res.State == api.OnChainLanded && t.waited >= t.polls {
				t.stage = stSeed
			}
		}
	case stSeed:
		if res, err := t.sealer().WaitSeed(ctx, t.sector.ID); err == nil && res.Seed != nil {
			t.stage = stProof
		}
	case stProof:
		if _, err := t.sealer().SubmitProof(ctx, t.sector.ID, api.ProofInfo{Proof: make([]byte, 192)}, false); err == nil {
			t.stage, t.waited = stPollProof, -t.jitter()
		}
	case stPollProof:
		if res, err := t.sealer().PollProofState(ctx, t.sector.ID); err == nil {
			t.waited++
			if res.State == api.OnChainLanded && t.waited >= t.polls {
				t.stage = stReport
			}
		}
	case stReport:
		rep := api.StateReport{Worker: t.worker, Thread: t.name, Prev: "ProofLanded", Next: "Finalized", Event: "Finalize", CPUSeconds: map[string]float64{"pc1": 1}}
		if _, err := t.sealer().ReportState(ctx, t.sector.ID, rep); err == nil {
			t.stage = stFinalize
		}
	case stFinalize:
		if _, err := t.sealer().ReportFinalized(ctx, t.sector.ID, api.FinalizedInfo{Location: "/bench"}); err == nil {
			t.finalized.Add(1)
			t.stage, t.sector = stAllocate, nil
		}
	}
}
