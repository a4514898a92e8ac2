package bench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/manager"
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
	// ClientProcess, when set, runs the simulated workers in a child
	// process: it returns the command (ctx ends it) of a program that
	// calls ServeClient on its stdin and stdout ("sealant bench
	// manager-client"). Unset, they run in this process (client.go says
	// what differs).
	ClientProcess func(ctx context.Context) *exec.Cmd
	Logger        *slog.Logger
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
	// Lagging counts calls that started an interval or more behind their
	// thread's schedule: after a call that overran its interval, or
	// because the harness itself fell behind.
	Lagging int64 `json:"late_ticks"`
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
	// Seconds is the run second by second, warm-up included: where a tail
	// comes from (the ramp's backlog, a stall) is visible here and not in
	// the percentiles.
	Seconds []SecondStats `json:"seconds,omitempty"`
}

// SecondStats is one second of a run: the calls that started in it.
type SecondStats struct {
	// Second counts from the start of the run (the ramp's first call).
	Second int  `json:"second"`
	Warmup bool `json:"warmup,omitempty"`
	// Calls counts the answered calls; Writes those of them that are not
	// polls; Unanswered the calls still unanswered when the run ended.
	Calls      int           `json:"calls"`
	Writes     int           `json:"writes"`
	Unanswered int           `json:"unanswered,omitempty"`
	P50        time.Duration `json:"p50_ns"`
	P99        time.Duration `json:"p99_ns"`
	Max        time.Duration `json:"max_ns"`
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
	spec := clientSpec{URL: url, Transport: cfg.Transport, MaxConns: cfg.MaxConns, Tenants: tenants,
		Threads: cfg.Threads, ThreadsPerWorker: cfg.ThreadsPerWorker, Polls: cfg.PollsPerStage, ReportSteps: cfg.ReportSteps,
		Interval: cfg.Interval, Ramp: cfg.Ramp, Warmup: cfg.Warmup, Duration: cfg.Duration, MaxRequests: cfg.MaxRequests}
	workers := (cfg.Threads + cfg.ThreadsPerWorker - 1) / cfg.ThreadsPerWorker
	for w := range workers {
		name := fmt.Sprintf("bw%d-%d", base, w)
		it, err := svc.IssueToken(ctx, api.TokenRequest{Role: "worker", Subject: name})
		if err != nil {
			return Report{}, err
		}
		spec.Workers = append(spec.Workers, clientWorker{Name: name, Token: it.Token})
	}

	if pg != nil {
		if err := pg.begin(ctx); err != nil {
			return Report{}, err
		}
	}
	if cfg.ClientProcess != nil {
		rep, err = runClientProcess(ctx, cfg.ClientProcess, spec)
	} else {
		rep, err = runClients(ctx, spec)
	}
	if err != nil {
		return Report{}, err
	}
	rep.Threads, rep.Warmup, rep.Store, rep.Transport = cfg.Threads, cfg.Warmup, svc.Store().Dialect(), cfg.Transport
	return rep, nil
}
