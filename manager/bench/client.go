package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/api/rpcapi"
	"github.com/sealant/sealant/manager"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/rpc"
)

// The simulated workers: N threads over worker connections, each making
// one call per interval in a real sealing thread's order. They run in the
// manager's process, or in a child process of their own (ServeClient), as
// real workers do: then the manager's garbage collector neither scans the
// threads' state and goroutines nor paces their allocations, and the
// client's collections do not stop the manager. Both still share the
// machine's cores.

// clientSpec is what the simulated workers need to know about a run.
type clientSpec struct {
	URL              string         `json:"url"`
	Transport        string         `json:"transport"`
	MaxConns         int            `json:"max_conns"`
	Workers          []clientWorker `json:"workers"`
	Tenants          []string       `json:"tenants"`
	Threads          int            `json:"threads"`
	ThreadsPerWorker int            `json:"threads_per_worker"`
	Polls            int            `json:"polls"`
	ReportSteps      bool           `json:"report_steps"`
	Interval         time.Duration  `json:"interval_ns"`
	Ramp             time.Duration  `json:"ramp_ns"`
	Warmup           time.Duration  `json:"warmup_ns"`
	Duration         time.Duration  `json:"duration_ns"`
	MaxRequests      int64          `json:"max_requests"`
}

// clientWorker is one simulated worker: its name and token.
type clientWorker struct {
	Name  string `json:"name"`
	Token string `json:"token"`
}

// maxClientIO bounds the run a child reads and the result its parent
// reads (the result holds a line per second of the run: at most a few
// hundred kilobytes).
const maxClientIO = 16 << 20

// ServeClient runs the simulated workers of a run described on in (JSON,
// as Run writes it) and writes their result to out. "sealant bench
// manager-client" calls it in the child process Config.ClientProcess
// starts.
//
// The parent keeps in open for the whole run: when it ends (the parent
// exited, however it died), the run stops, so no orphaned load outlives
// the bench.
func ServeClient(ctx context.Context, in io.Reader, out io.Writer) error {
	var spec clientSpec
	dec := json.NewDecoder(io.LimitReader(in, maxClientIO))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return fmt.Errorf("bench: client: read the run: %w", err)
	}
	if err := spec.check(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		// Nothing more is sent; EOF (or an error) means the parent is gone.
		_, _ = io.Copy(io.Discard, in)
		cancel()
	}()
	rep, err := runClients(ctx, spec)
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(rep)
}

// check applies Config's limits to a run a child process was given, and
// keeps it on loopback, as the tool promises.
func (spec clientSpec) check() error {
	u, err := url.Parse(spec.URL)
	if err != nil {
		return fmt.Errorf("%w: client: url %q: %w", ErrLimits, spec.URL, err)
	}
	ip := net.ParseIP(u.Hostname())
	switch {
	case u.Scheme != "http" && u.Scheme != "ws" || ip == nil || !ip.IsLoopback():
		return fmt.Errorf("%w: client: url %q: want http:// or ws:// to a loopback address", ErrLimits, spec.URL)
	case spec.Transport != "http" && spec.Transport != "ws":
		return fmt.Errorf("%w: client: transport %q", ErrLimits, spec.Transport)
	case spec.Threads <= 0 || spec.Threads > MaxThreads || spec.ThreadsPerWorker <= 0 ||
		(spec.Threads+spec.ThreadsPerWorker-1)/spec.ThreadsPerWorker > len(spec.Workers):
		return fmt.Errorf("%w: client: %d threads, %d per worker, %d workers", ErrLimits, spec.Threads, spec.ThreadsPerWorker, len(spec.Workers))
	case spec.Duration <= 0 || spec.Duration > MaxDuration || spec.Warmup < 0 || spec.Warmup > MaxDuration ||
		spec.Ramp < 0 || spec.Ramp > MaxDuration || spec.Interval <= 0:
		return fmt.Errorf("%w: client: duration %v, warm-up %v, ramp %v, interval %v", ErrLimits, spec.Duration, spec.Warmup, spec.Ramp, spec.Interval)
	case spec.MaxConns <= 0 || spec.Polls <= 0 || spec.MaxRequests < 0 || len(spec.Tenants) == 0:
		return fmt.Errorf("%w: client: max conns %d, polls %d, max requests %d, %d tenants", ErrLimits, spec.MaxConns, spec.Polls, spec.MaxRequests, len(spec.Tenants))
	}
	return nil
}

// runClientProcess runs the simulated workers in the child process start
// gives (its stdin gets the run, its stdout the result) and waits for it.
func runClientProcess(ctx context.Context, start func(context.Context) *exec.Cmd, spec clientSpec) (Report, error) {
	in, err := json.Marshal(spec)
	if err != nil {
		return Report{}, err
	}
	// The child ends on its own after the run; this bounds a child that
	// does not.
	ctx, cancel := context.WithTimeout(ctx, spec.Warmup+spec.Duration+2*time.Minute)
	defer cancel()
	cmd := start(ctx)
	var out capped
	var stderr tail
	out.max, stderr.max = maxClientIO, 64<<10
	cmd.Stdout, cmd.Stderr = &out, &stderr
	// The child's stdin stays open until it exits (Wait closes it): its
	// end tells the child that this process is gone (ServeClient).
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return Report{}, err
	}
	if err := cmd.Start(); err != nil {
		return Report{}, fmt.Errorf("bench: client process: %w", err)
	}
	_, werr := stdin.Write(in)
	if err := cmd.Wait(); err != nil || werr != nil {
		return Report{}, fmt.Errorf("bench: client process: %w: %s", errors.Join(err, werr), bytes.TrimSpace(stderr.b))
	}
	var rep Report
	if err := json.Unmarshal(out.b.Bytes(), &rep); err != nil {
		return Report{}, fmt.Errorf("bench: client process: read its result: %w", err)
	}
	return rep, nil
}

// capped is a buffer that keeps the first max bytes written to it.
type capped struct {
	b   bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// tail keeps the last max bytes written to it: a failing child's error
// is the last thing it says.
type tail struct {
	b   []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// runClients runs the simulated workers in this process and returns their
// part of the report (the figures of the calls they made).
func runClients(ctx context.Context, spec clientSpec) (Report, error) {
	tr := &http.Transport{MaxIdleConns: spec.MaxConns, MaxIdleConnsPerHost: spec.MaxConns, MaxConnsPerHost: spec.MaxConns, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	clients := make([]*rpc.Client, 0, len(spec.Workers))
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for _, w := range spec.Workers {
		c, err := rpc.Dial(ctx, spec.URL, rpc.WithToken(w.Token), rpc.WithHTTPClient(hc), rpc.WithErrorRegistry(manager.Errors))
		if err != nil {
			return Report{}, err
		}
		clients = append(clients, c)
	}

	start := time.Now()
	rec := newRecorder(start, spec.Warmup, spec.Warmup+spec.Duration)
	runCtx, cancel := context.WithTimeout(ctx, spec.Warmup+spec.Duration)
	defer cancel()
	var finalized, allocated atomic.Int64
	threads := make([]*thread, spec.Threads)
	offsets := make([]time.Duration, spec.Threads)
	for i := range threads {
		w := i / spec.ThreadsPerWorker
		threads[i] = &thread{
			c: clients[w], worker: spec.Workers[w].Name, name: fmt.Sprintf("t%d", i),
			tenants: spec.Tenants, polls: spec.Polls, reportSteps: spec.ReportSteps, rnd: mrand.New(mrand.NewPCG(uint64(i), 7)),
			rec: rec, finalized: &finalized, allocated: &allocated, maxReq: spec.MaxRequests, cancel: cancel,
		}
		// Spread the threads' first calls over the ramp.
		offsets[i] = time.Duration(int64(spec.Ramp) * int64(i) / int64(spec.Threads))
	}
	schedule(runCtx, threads, offsets, start, spec.Interval, func() { rec.late.Add(1) })
	rec.endAt(time.Now())
	var withoutSector int64
	for _, th := range threads {
		if !th.got {
			withoutSector++
		}
	}
	elapsed := time.Since(start) - spec.Warmup

	rep := Report{Duration: elapsed, Sectors: int(allocated.Load()), Finalized: int(finalized.Load()),
		Lagging: rec.late.Load(), MaxInflight: rec.maxInfl.Load(), Unfinished: rec.unfinished.Load(),
		UnansweredAtEnd: rec.unansweredAll.Load(), ThreadsWithoutSector: withoutSector}
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
	rep.Seconds = rec.timeline()
	return rep, nil
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
	due    time.Time     // when its next call is due (schedule)
	sector *api.AllocatedSector
	got    bool // a sector was allocated to this thread at least once
	ticket api.Ticket
	stage  int
	waited int
}

// sealer is the worker API as this simulated thread calls it: the typed
// client over the thread itself, which times every call (Call). A thread
// is driven by one goroutine at a time (schedule).
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
		t.rec.unanswered(start)
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
