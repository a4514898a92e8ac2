package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/manager"
	"github.com/sealant/sealant/rpc"
)

// TestMain lets the test binary be the child process of a run whose
// simulated workers run apart (TestRunClientProcess).
func TestMain(m *testing.M) {
	switch os.Getenv(clientChildEnv) {
	case "fail":
		fmt.Fprintln(os.Stderr, "the simulated workers failed on purpose")
		os.Exit(3)
	case "1":
		if err := ServeClient(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const clientChildEnv = "SEALANT_BENCH_CLIENT_CHILD"

// childClient starts this test binary as the simulated workers' process.
func childClient(ctx context.Context) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), clientChildEnv+"=1")
	return cmd
}

// TestRunClientProcess runs the simulated workers in a child process: the
// report accounts for every call as in one process, and a child that
// fails is reported with what it said.
func TestRunClientProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("load run skipped in -short mode")
	}
	rep, err := Run(context.Background(), Config{Threads: 20, Duration: 2 * time.Second, Ramp: time.Millisecond, Interval: 20 * time.Millisecond,
		PollsPerStage: 2, ClientProcess: childClient})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, m := range rep.Methods {
		calls += m.Calls
	}
	if rep.Errors != 0 || calls != rep.Requests || rep.Requests == 0 || rep.Sectors < 1 || rep.Threads != 20 || rep.Store != "sqlite" {
		t.Fatalf("report: %+v", rep)
	}
	if rep.ThreadsWithoutSector != 0 {
		t.Fatalf("threads without a sector: %d", rep.ThreadsWithoutSector)
	}

	_, err = Run(context.Background(), Config{Threads: 1, Duration: time.Second, ClientProcess: func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, os.Args[0])
		cmd.Env = append(os.Environ(), clientChildEnv+"=fail")
		return cmd
	}})
	if err == nil || !strings.Contains(err.Error(), "the simulated workers failed on purpose") {
		t.Fatalf("a failing child process: %v; want its error", err)
	}
}

// TestRunSmall runs a short, small load: every call must succeed and be
// accounted for. How far the threads get through their script depends on
// the machine's speed, so only the first step is asserted.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("load run skipped in -short mode")
	}
	for _, steps := range []bool{false, true} {
		t.Run(fmt.Sprintf("report-steps=%v", steps), func(t *testing.T) { runSmall(t, steps) })
	}
}

func runSmall(t *testing.T, reportSteps bool) {
	rep, err := Run(context.Background(), Config{Threads: 20, Duration: 2 * time.Second, Ramp: time.Millisecond, Interval: 20 * time.Millisecond,
		PollsPerStage: 2, ReportSteps: reportSteps})
	if err != nil {
		t.Fatal(err)
	}
	reports, finals := 0, 0
	for _, m := range rep.Methods {
		switch m.Method {
		case api.MethodReportState:
			reports = m.Calls
		case api.MethodReportFinalized:
			finals = m.Calls
		}
	}
	// Every sector reports its first four steps before it polls; without
	// ReportSteps only a sector about to finalize reports.
	if reportSteps && reports < 3*rep.Sectors || !reportSteps && reports > finals+20 {
		t.Errorf("%d reports for %d sectors, %d finalized (report every step: %v)", reports, rep.Sectors, finals, reportSteps)
	}
	if rep.Errors != 0 {
		t.Fatalf("errors: %+v", rep.Methods)
	}
	calls := 0
	for _, m := range rep.Methods {
		calls += m.Calls
		if m.P50 > m.P99 || m.P99 > m.Max {
			t.Errorf("%s: percentiles out of order: %+v", m.Method, m)
		}
	}
	if calls != rep.Requests || rep.Sectors < 1 || rep.Sectors < rep.Finalized {
		t.Fatalf("report inconsistent: %+v", rep)
	}
	if rep.ThreadsWithoutSector != 0 || rep.UnansweredAtEnd < rep.Unfinished {
		t.Fatalf("threads without a sector %d, unanswered at end %d (measured %d)", rep.ThreadsWithoutSector, rep.UnansweredAtEnd, rep.Unfinished)
	}
	checkTimeline(t, rep)
	t.Logf("%d requests, %d sectors allocated, %d finalized", rep.Requests, rep.Sectors, rep.Finalized)
}

// checkTimeline: the run's seconds account for every measured call and
// each second's figures are in order.
func checkTimeline(t *testing.T, rep Report) {
	t.Helper()
	calls, writes, measuredWrites := 0, 0, 0
	for _, m := range rep.Methods {
		if !pollMethods[m.Method] {
			measuredWrites += m.Calls
		}
	}
	for _, s := range rep.Seconds {
		calls += s.Calls
		writes += s.Writes
		if s.Writes > s.Calls || s.P50 > s.P99 || s.P99 > s.Max {
			t.Errorf("second %d out of order: %+v", s.Second, s)
		}
	}
	// The timeline also holds the warm-up's calls, and ends with the run.
	if calls < rep.Requests || writes < measuredWrites || len(rep.Seconds) == 0 || len(rep.Seconds) > int((rep.Warmup+rep.Duration)/time.Second)+2 {
		t.Errorf("timeline: %d calls (%d writes) in %d seconds, report: %d calls (%d writes)", calls, writes, len(rep.Seconds), rep.Requests, measuredWrites)
	}
}

// TestRecorderTimeline: calls land in the second they started in, warm-up
// seconds are marked, calls outside the run are not counted, and the
// timeline ends with the run.
func TestRecorderTimeline(t *testing.T) {
	start := time.Unix(1000, 0)
	rec := newRecorder(start, time.Second, 4*time.Second)
	calls := []struct {
		at     time.Duration
		method string
		lat    time.Duration
	}{
		{100 * time.Millisecond, api.MethodAllocateSector, 30 * time.Millisecond},
		{900 * time.Millisecond, api.MethodPollPreCommitState, 10 * time.Millisecond},
		{1500 * time.Millisecond, api.MethodPollPreCommitState, 2 * time.Millisecond},
		{2999 * time.Millisecond, api.MethodSubmitPreCommit, 5 * time.Millisecond},
		{3 * time.Second, api.MethodWaitSeed, time.Millisecond},   // after the run's end (endAt)
		{-time.Millisecond, api.MethodWaitSeed, time.Millisecond}, // before its start
	}
	for _, c := range calls {
		rec.record(c.method, start.Add(c.at), c.lat, nil)
	}
	rec.unanswered(start.Add(2500 * time.Millisecond))
	rec.endAt(start.Add(2999 * time.Millisecond))
	want := []SecondStats{
		{Second: 0, Warmup: true, Calls: 2, Writes: 1, P50: 10 * time.Millisecond, P99: 30 * time.Millisecond, Max: 30 * time.Millisecond},
		{Second: 1, Calls: 1, P50: 2 * time.Millisecond, P99: 2 * time.Millisecond, Max: 2 * time.Millisecond},
		{Second: 2, Calls: 1, Writes: 1, Unanswered: 1, P50: 5 * time.Millisecond, P99: 5 * time.Millisecond, Max: 5 * time.Millisecond},
	}
	got := rec.timeline()
	if len(got) != len(want) {
		t.Fatalf("timeline of %d seconds, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		// Percentiles come from a histogram: within 2% above the exact ones.
		for _, p := range [][2]time.Duration{{g.P50, w.P50}, {g.P99, w.P99}} {
			if p[0] < p[1] || float64(p[0]) > 1.02*float64(p[1]) {
				t.Errorf("second %d: percentile %v, want %v (+2%%)", i, p[0], p[1])
			}
		}
		g.P50, g.P99 = w.P50, w.P99
		if g != w {
			t.Errorf("second %d: %+v, want %+v", i, g, w)
		}
	}
	if rec.unfinished.Load() != 1 || rec.unansweredAll.Load() != 1 || len(rec.lat[api.MethodPollPreCommitState]) != 1 {
		t.Fatalf("unfinished %d, unanswered %d, measured polls %d", rec.unfinished.Load(), rec.unansweredAll.Load(), len(rec.lat[api.MethodPollPreCommitState]))
	}
}

// TestLatencyHistogram: the histogram's percentiles are within 2% above
// the exact ones (pct over the sorted samples), and its maximum is exact.
func TestLatencyHistogram(t *testing.T) {
	rnd := mrand.New(mrand.NewPCG(1, 2))
	for _, tc := range []struct {
		name    string
		samples func() []time.Duration
	}{
		{"one", func() []time.Duration { return []time.Duration{7 * time.Millisecond} }},
		{"sub-microsecond", func() []time.Duration { return []time.Duration{0, 200, 999, 1000} }},
		{"uniform to 100ms", func() []time.Duration {
			var s []time.Duration
			for range 5000 {
				s = append(s, time.Duration(rnd.Int64N(int64(100*time.Millisecond))))
			}
			return s
		}},
		{"long tail", func() []time.Duration {
			var s []time.Duration
			for range 5000 {
				s = append(s, time.Duration(math.Exp(rnd.Float64()*20))*time.Nanosecond*100)
			}
			return s
		}},
		{"past ten minutes", func() []time.Duration { return []time.Duration{time.Hour, time.Millisecond} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			samples := tc.samples()
			var h latencyHistogram
			for _, d := range samples {
				h.add(d)
			}
			slices.Sort(samples)
			if h.n != len(samples) || h.max != samples[len(samples)-1] {
				t.Fatalf("n %d max %v, want %d and %v", h.n, h.max, len(samples), samples[len(samples)-1])
			}
			for _, p := range []int{1, 50, 90, 99, 100} {
				got, exact := h.percentile(p), pct(samples, p)
				if got < exact && exact > time.Microsecond || float64(got) > 1.02*float64(max(exact, time.Microsecond))+1 {
					t.Errorf("p%d: %v, exact %v", p, got, exact)
				}
			}
		})
	}
}

// TestThreadsWithoutSector: threads the run never served are reported, not
// hidden behind the percentiles of those it did. A 10 s ramp in a run of
// about 1 s leaves most threads without a first call, so without a sector.
func TestThreadsWithoutSector(t *testing.T) {
	if testing.Short() {
		t.Skip("load run skipped in -short mode")
	}
	rep, err := Run(context.Background(), Config{Threads: 20, Duration: time.Second, Ramp: 10 * time.Second, Warmup: time.Millisecond,
		Interval: 20 * time.Millisecond, PollsPerStage: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ThreadsWithoutSector < 10 || rep.ThreadsWithoutSector > 20 || int64(rep.Sectors)+rep.ThreadsWithoutSector < 20 {
		t.Fatalf("threads without a sector %d, sectors %d: want the ~18 threads the ramp never reached", rep.ThreadsWithoutSector, rep.Sectors)
	}
}

func TestLimits(t *testing.T) {
	for _, c := range []Config{{Threads: 0, Duration: time.Second}, {Threads: MaxThreads + 1, Duration: time.Second}, {Threads: 1, Duration: MaxDuration + 1}, {Threads: 1}} {
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// TestThreadScript steps one simulated thread by hand (no clock) through a
// whole sector against a real manager and the pipeline stand-in.
func TestThreadScript(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	secret, err := manager.LoadOrCreateSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := manager.NewService(ctx, manager.Options{DSN: "sqlite://" + filepath.Join(dir, "b.sqlite"), Chain: benchChain{}, Secret: secret, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	pipe := &simPipeline{st: svc.Store(), wake: make(chan struct{}, 1)}
	svc.SetPipeline(pipe)
	if _, err := svc.CreateTenant(ctx, api.TenantConfig{ID: "t", Miner: 1000, ProofType: 5}); err != nil {
		t.Fatal(err)
	}
	srv, err := svc.NewRPCServer()
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(svc.Handler(srv))
	defer hs.Close()
	it, err := svc.IssueToken(ctx, api.TokenRequest{Role: "worker", Subject: "bw0"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := rpc.Dial(ctx, hs.URL+manager.RPCPath, rpc.WithToken(it.Token), rpc.WithErrorRegistry(manager.Errors))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rec := &recorder{lat: map[string][]time.Duration{}, errs: map[string]int{}, firstErr: map[string]string{}}
	var fin, alloc atomic.Int64
	th := &thread{c: c, worker: "bw0", name: "t0", polls: 2, rnd: mrand.New(mrand.NewPCG(1, 2)), rec: rec, finalized: &fin, allocated: &alloc}
	for i := 0; i < 100 && fin.Load() == 0; i++ {
		th.step(ctx)
		pipe.tick(ctx)
	}
	if fin.Load() != 1 || alloc.Load() != 1 {
		t.Fatalf("finalized %d, allocated %d; errors %v", fin.Load(), alloc.Load(), rec.firstErr)
	}
	for _, m := range []string{api.MethodAllocateSector, api.MethodAcquirePieces, api.MethodAssignTicket, api.MethodSubmitPreCommit,
		api.MethodPollPreCommitState, api.MethodWaitSeed, api.MethodSubmitProof, api.MethodPollProofState, api.MethodReportState, api.MethodReportFinalized} {
		if len(rec.lat[m]) == 0 || rec.errs[m] != 0 {
			t.Errorf("%s: %d calls, %d errors (%s)", m, len(rec.lat[m]), rec.errs[m], rec.firstErr[m])
		}
	}
}

// TestServeClientRefuses: the child's entry point keeps the tool's limits
// and stays on loopback, whatever run it is given.
func TestServeClientRefuses(t *testing.T) {
	good := clientSpec{URL: "ws://127.0.0.1:1/rpc/v0", Transport: "ws", MaxConns: 1, Workers: []clientWorker{{Name: "w", Token: "t"}},
		Tenants: []string{"a"}, Threads: 1, ThreadsPerWorker: 1, Polls: 1, Interval: time.Second, Duration: time.Second}
	if err := good.check(); err != nil {
		t.Fatalf("a valid run refused: %v", err)
	}
	tests := map[string]func(*clientSpec){
		"remote host":      func(s *clientSpec) { s.URL = "ws://192.0.2.1:1234/rpc/v0" },
		"host name":        func(s *clientSpec) { s.URL = "ws://example.com/rpc/v0" },
		"other scheme":     func(s *clientSpec) { s.URL = "file:///etc/passwd" },
		"zero interval":    func(s *clientSpec) { s.Interval = 0 },
		"unbounded conns":  func(s *clientSpec) { s.MaxConns = 0 },
		"too long":         func(s *clientSpec) { s.Duration = MaxDuration + time.Second },
		"too many threads": func(s *clientSpec) { s.Threads = MaxThreads + 1 },
		"too few workers":  func(s *clientSpec) { s.Threads = 2 },
		"no tenants":       func(s *clientSpec) { s.Tenants = nil },
	}
	for name, change := range tests {
		spec := good
		change(&spec)
		in, _ := json.Marshal(spec)
		if err := ServeClient(context.Background(), bytes.NewReader(in), io.Discard); !errors.Is(err, ErrLimits) {
			t.Errorf("%s: %v; want ErrLimits", name, err)
		}
	}
	if err := ServeClient(context.Background(), strings.NewReader(`{"url":"ws://127.0.0.1:1","surprise":1}`), io.Discard); err == nil {
		t.Error("a run with an unknown field was accepted")
	}
}
