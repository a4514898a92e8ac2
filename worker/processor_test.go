package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/commp"
)

var (
	extprocOnce sync.Once
	extprocBin  string
	extprocErr  error
)

// buildExtproc compiles testdata/extproc once per test binary run and
// skips the test if that is impossible (no go toolchain).
func buildExtproc(t *testing.T) string {
	t.Helper()
	bin, err := extprocPath()
	if err != nil {
		t.Skipf("cannot build the test processor: %v", err)
	}
	return bin
}

func extprocPath() (string, error) {
	extprocOnce.Do(func() {
		dir, err := os.MkdirTemp("", "extproc")
		if err != nil {
			extprocErr = err
			return
		}
		extprocBin = filepath.Join(dir, "extproc")
		out, err := exec.Command("go", "build", "-o", extprocBin, "./testdata/extproc").CombinedOutput()
		if err != nil {
			extprocErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	return extprocBin, extprocErr
}

type echoTask struct {
	Echo    string `json:"echo"`
	DelayMS int    `json:"delay_ms,omitempty"`
	Fail    string `json:"fail,omitempty"`
}

func newTestPool(t *testing.T, stage string, cfg ExtProcessor, limits *Limits) *Pool {
	t.Helper()
	if limits == nil {
		limits = NewLimits(nil, nil)
	}
	p := &Pool{stage: stage, limits: limits, procs: []*ExtProc{NewExtProc(stage, cfg, "", nil)}}
	t.Cleanup(p.Close)
	return p
}

// TestExtProcProtocol: concurrent tasks answered out of order are matched
// by id, err_msg becomes a *TaskError, and a noise line is skipped.
func TestExtProcProtocol(t *testing.T) {
	bin := buildExtproc(t)
	p := newTestPool(t, "pc1", ExtProcessor{Bin: bin, Args: []string{"pc1"}, Concurrent: 4}, nil)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out struct{ Echo string }
			// Later tasks finish first: responses arrive out of order.
			errs[i] = p.Run(context.Background(), echoTask{Echo: fmt.Sprint(i), DelayMS: (8 - i) * 20}, &out)
			if errs[i] == nil && out.Echo != fmt.Sprint(i) {
				errs[i] = fmt.Errorf("task %d got echo %q", i, out.Echo)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	err := p.Run(context.Background(), echoTask{Fail: "disk full"}, nil)
	var te *TaskError
	if !errors.As(err, &te) || te.Msg != "disk full" || te.Stage != "pc1" {
		t.Errorf("failing task: %v", err)
	}
	if n := p.procs[0].Starts(); n != 1 {
		t.Errorf("process started %d times", n)
	}
}

// TestExtProcCrashRestart: a processor that dies mid-task is restarted
// and the task is sent again.
func TestExtProcCrashRestart(t *testing.T) {
	bin := buildExtproc(t)
	marker := filepath.Join(t.TempDir(), "crashed")
	p := newTestPool(t, "pc2", ExtProcessor{Bin: bin, Args: []string{"pc2"},
		Envs: map[string]string{"EXTPROC_CRASH_MARKER": marker}}, nil)
	var out struct{ Echo string }
	if err := p.Run(context.Background(), echoTask{Echo: "again"}, &out); err != nil || out.Echo != "again" {
		t.Fatalf("got %+v, %v", out, err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatal("the processor never crashed")
	}
	if n := p.procs[0].Starts(); n != 2 {
		t.Errorf("process started %d times, want 2", n)
	}
}

// TestExtProcNotReady: a wrong ready line is refused.
func TestExtProcNotReady(t *testing.T) {
	bin := buildExtproc(t)
	p := newTestPool(t, "c2", ExtProcessor{Bin: bin, Args: []string{"c2"},
		Envs: map[string]string{"EXTPROC_READY": "pc1 processor ready"}}, nil)
	if err := p.Run(context.Background(), echoTask{}, nil); !errors.Is(err, ErrProcessorNotReady) {
		t.Fatalf("got %v", err)
	}
}

// TestLimitsAndLocks: a stage limit and a named lock shared by two stages
// admit one holder at a time.
func TestLimitsAndLocks(t *testing.T) {
	l := NewLimits(map[string]int{"pc1": 1}, map[string]int{"gpu": 1})
	for _, tc := range []struct{ a, b [2]any }{
		{[2]any{"pc1", []string(nil)}, [2]any{"pc1", []string(nil)}},
		{[2]any{"pc2", []string{"gpu"}}, [2]any{"c2", []string{"gpu"}}},
	} {
		rel, err := l.acquire(context.Background(), tc.a[0].(string), tc.a[1].([]string))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		if _, err := l.acquire(ctx, tc.b[0].(string), tc.b[1].([]string)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%v then %v: second acquire got %v, want to wait", tc.a, tc.b, err)
		}
		cancel()
		rel()
		rel2, err := l.acquire(context.Background(), tc.b[0].(string), tc.b[1].([]string))
		if err != nil {
			t.Fatal(err)
		}
		rel2()
	}
}

// TestC2ExternalProcessorCrash seals on a "real network" (no devnet) with
// the test program as [[processors.c2]] that crashes on its first task:
// the sector still finishes, with the program's proof.
func TestC2ExternalProcessorCrash(t *testing.T) {
	bin := buildExtproc(t)
	f := newFakeManager(t, 1)
	f.devnet = false
	marker := filepath.Join(t.TempDir(), "crashed")
	cfg, root := testConfig(t, f.URL, 1, fmt.Sprintf(`
[[processors.c2]]
bin = %q
args = ["c2"]
envs = { EXTPROC_CRASH_MARKER = %q }
`, bin, marker))
	f.target = api.DeliveryTarget{Architecture: api.ArchProviderProves, StorePath: filepath.Join(root, "store")}
	runWorker(t, cfg, Options{})
	id := waitFinished(t, f, 1)[0]
	s, _ := f.sector(id)
	if len(s.proof) != 192 {
		t.Errorf("proof of %d bytes", len(s.proof))
	}
	if _, err := os.Stat(marker); err != nil {
		t.Error("the c2 processor never crashed")
	}
}

// TestC2UnavailableOnRealNetwork: without a C2 processor a real-network
// sector stops at C2 with a message that says what to configure.
func TestC2UnavailableOnRealNetwork(t *testing.T) {
	f := newFakeManager(t, 1)
	f.devnet = false
	cfg, _ := testConfig(t, f.URL, 1, "")
	w, _, _ := runWorker(t, cfg, Options{})
	deadline := time.Now().Add(30 * time.Second)
	for {
		info := w.List()[0]
		if info.Paused {
			if info.Stage != "C1Done" || !strings.Contains(info.Error, "external c2 processor") {
				t.Errorf("paused with %+v", info)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not paused: %+v", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := f.count(api.MethodSubmitProof); n != 0 {
		t.Errorf("submitted %d proofs without a prover", n)
	}
}

// TestSealantProcessors runs TreeD, PC1, PC2 and C2 in Sealant's own processors
// (the test binary re-executed in processor mode, i.e. what `sealant
// processor STAGE` serves) and checks the CommR against an in-process seal.
func TestSealantProcessors(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	self, _ := os.Executable()
	f := newFakeManager(t, 1)
	var extra strings.Builder
	for _, st := range []string{"tree_d", "pc1", "pc2", "c2"} {
		fmt.Fprintf(&extra, "\n[[processors.%s]]\nbin = %q\nenvs = { %s = %q }\n", st, self, envChildProcessor, st)
	}
	cfg, root := testConfig(t, f.URL, 1, extra.String())
	f.target = api.DeliveryTarget{Architecture: api.ArchProviderProves, StorePath: filepath.Join(root, "store")}
	runWorker(t, cfg, Options{Self: self})
	id := waitFinished(t, f, 1)[0]
	s, _ := f.sector(id)
	want := expectedCommR(t, root, id, s.ticket.Ticket, nil)
	if s.precommit.CommR != commp.SealedCID(want).String() {
		t.Fatalf("comm_r %s, want %s", s.precommit.CommR, commp.SealedCID(want))
	}
}

// TestForeignProcessors routes stages through testdata/fpproc, a
// processor that is not Sealant and checks every field it receives as
// filecoin-proofs would: with PC2 and C2 there (PC1 in-process), with PC1,
// PC2 and C2 there, and with TreeD and PC1 there (PC2, C2 in-process), a
// worker seals, precommits and proves a sector whose CommR equals an
// in-process seal's.
func TestForeignProcessors(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	bin := filepath.Join(t.TempDir(), "fpproc")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/fpproc").CombinedOutput(); err != nil {
		t.Skipf("cannot build the test processor: %v: %s", err, out)
	}
	// The reduced pc1out Sealant used to send ({registered_proof, comm_d})
	// is refused, and the processor keeps serving.
	p := newTestPool(t, "pc2", ExtProcessor{Bin: bin, Args: []string{"pc2"}}, nil)
	cache := t.TempDir()
	for i, task := range []any{
		map[string]any{"pc1out": map[string]any{"registered_proof": "StackedDrg2KiBV1_1", "comm_d": make([]int, 32)}, "cache_dir": cache, "sealed_file": filepath.Join(cache, "s")},
		map[string]any{"cache_dir": cache, "sealed_file": filepath.Join(cache, "s")},
	} {
		var te *TaskError
		if err := p.Run(context.Background(), task, nil); !errors.As(err, &te) || !strings.Contains(te.Msg, "fpproc:") {
			t.Errorf("task %d: %v", i, err)
		}
	}
	if p.procs[0].Starts() != 1 {
		t.Errorf("processor started %d times", p.procs[0].Starts())
	}
	for _, stages := range [][]string{{"pc2", "c2"}, {"pc1", "pc2", "c2"}, {"tree_d", "pc1"}} {
		t.Run(strings.Join(stages, "+"), func(t *testing.T) {
			f := newFakeManager(t, 1)
			parents := t.TempDir()
			log := filepath.Join(t.TempDir(), "fpproc.log")
			var extra strings.Builder
			for _, st := range stages {
				fmt.Fprintf(&extra, "\n[[processors.%s]]\nbin = %q\nargs = [%q]\nenvs = { FPPROC_PARENT_CACHE = %q, FPPROC_LOG = %q }\n", st, bin, st, parents, log)
			}
			cfg, root := testConfig(t, f.URL, 1, extra.String())
			f.target = api.DeliveryTarget{Architecture: api.ArchProviderProves, StorePath: filepath.Join(root, "store")}
			runWorker(t, cfg, Options{})
			id := waitFinished(t, f, 1)[0]
			s, _ := f.sector(id)
			want := expectedCommR(t, root, id, s.ticket.Ticket, nil)
			if s.precommit.CommR != commp.SealedCID(want).String() {
				t.Fatalf("comm_r %s, want %s", s.precommit.CommR, commp.SealedCID(want))
			}
			if f.count(api.MethodSubmitProof) == 0 {
				t.Error("no proof submitted")
			}
			if served, _ := os.ReadFile(log); string(served) != strings.Join(stages, "\n")+"\n" {
				t.Errorf("fpproc served %q, want %v", served, stages)
			}
		})
	}
}

// BenchmarkExtProcRoundTrip is the protocol overhead of one task: encode,
// write a line, the child's answer, decode (the test program answers at
// once).
func BenchmarkExtProcRoundTrip(b *testing.B) {
	bin, err := extprocPath()
	if err != nil {
		b.Skipf("no test processor: %v", err)
	}
	p := &Pool{stage: "pc1", limits: NewLimits(nil, nil), procs: []*ExtProc{NewExtProc("pc1", ExtProcessor{Bin: bin, Args: []string{"pc1"}}, "", nil)}}
	defer p.Close()
	var out struct{ Echo string }
	if err := p.Run(context.Background(), echoTask{Echo: "warm"}, &out); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Run(context.Background(), echoTask{Echo: "x"}, &out); err != nil {
			b.Fatal(err)
		}
	}
}
