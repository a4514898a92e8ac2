package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/worker/sectorfsm"
)

// TestDemoEndToEnd runs the whole demo with one CC and one data sector per
// tenant and checks the summary through its JSON form (the `sealant devnet
// --json` contract): both tenants, their architectures, every sector
// proven, delivered and verified, the Architecture 1 sectors proven in an
// accepted WindowPoSt, and the figures filled in. It waits for a WindowPoSt
// deadline, so it takes about a minute.
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo (chain, manager, workers, signers, receiver): about a minute")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var progress bytes.Buffer
	sum, err := Run(ctx, Config{Dir: t.TempDir(), Sectors: 2, Timeout: 150 * time.Second, WaitWindowPoSt: true,
		Logger: log, Progress: &progress})
	if err != nil {
		t.Logf("progress:\n%s", progress.String())
		t.Logf("component warnings:\n%s", tail(logs.String(), 4000))
		t.Fatalf("demo: %v", err)
	}
	raw, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Tenants []struct {
			Miner        string `json:"miner"`
			Proven       int    `json:"proven"`
			Delivered    int    `json:"delivered"`
			Verified     int    `json:"verified"`
			Architecture int    `json:"architecture"`
			PoRep        string `json:"porep"`
			Messages     int    `json:"messages"`
			WindowPoSt   int    `json:"windowpost"`
			Stages       []StageTime
		} `json:"tenants"`
		ElapsedS float64 `json:"elapsed_s"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Tenants) != 3 {
		t.Fatalf("tenants = %d, want 3: %s", len(got.Tenants), raw)
	}
	archs := map[int]bool{}
	poreps := map[string]int{}
	for _, tn := range got.Tenants {
		archs[tn.Architecture] = true
		poreps[tn.PoRep]++
		if !strings.HasPrefix(tn.Miner, "t0") && !strings.HasPrefix(tn.Miner, "f0") {
			t.Errorf("miner %q is not an ID address", tn.Miner)
		}
		if tn.Proven != 2 || tn.Delivered != 2 || tn.Verified != 2 {
			t.Errorf("%s: proven %d delivered %d verified %d, want 2 each", tn.Miner, tn.Proven, tn.Delivered, tn.Verified)
		}
		// At least one PreCommit and one ProveCommit message each; an
		// NI tenant sends ProveCommitSectorsNI only.
		if min := map[string]int{"ni": 1, "interactive": 2}[tn.PoRep]; tn.Messages < min {
			t.Errorf("%s: %d messages, want ≥ %d", tn.Miner, tn.Messages, min)
		}
		// The provider proves Architecture 1 sectors itself.
		if tn.Architecture == 1 && tn.WindowPoSt != 2 {
			t.Errorf("%s: %d sectors in an accepted WindowPoSt, want 2", tn.Miner, tn.WindowPoSt)
		}
		if len(tn.Stages) == 0 {
			t.Errorf("%s: no stage times", tn.Miner)
		}
	}
	if !archs[1] || !archs[2] {
		t.Errorf("architectures %v, want 1 and 2", archs)
	}
	if poreps["ni"] != 1 || poreps["interactive"] != 2 {
		t.Errorf("porep kinds %v, want one ni and two interactive", poreps)
	}
	if got.ElapsedS <= 0 {
		t.Errorf("elapsed_s = %v", got.ElapsedS)
	}
	if !sum.OK {
		t.Errorf("summary not OK: %s", sum.Error)
	}
	if !strings.Contains(progress.String(), "sp1") || !strings.Contains(progress.String(), "sp2") {
		t.Errorf("progress has no per-tenant line:\n%s", progress.String())
	}
}

// TestRunNeedsDir checks the one required field.
func TestRunNeedsDir(t *testing.T) {
	if _, err := Run(context.Background(), Config{}); err == nil {
		t.Fatal("Run without Dir succeeded")
	}
}

// TestRunCancelled: a cancelled context ends the run with the context's
// error and leaves no component running (the deferred teardown returns).
func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Config{Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		t.Fatal("cancelled run succeeded")
	}
	if errors.Is(err, ErrDemo) {
		t.Fatalf("cancelled run reported a demo failure instead of the cancellation: %v", err)
	}
}

// TestPiecePayload: pieces are reproducible, distinct, full-size and give a
// 2KiB piece.
func TestPiecePayload(t *testing.T) {
	const n = pieceSize / 128 * 127
	tests := []struct {
		a, b     string
		ia, ib   int
		wantSame bool
	}{
		{"sp1", "sp1", 0, 0, true},
		{"sp1", "sp1", 0, 1, false},
		{"sp1", "sp2", 0, 0, false},
	}
	for _, tc := range tests {
		pa, pb := piecePayload(tc.a, tc.ia, n), piecePayload(tc.b, tc.ib, n)
		if len(pa) != n || len(pb) != n {
			t.Fatalf("lengths %d %d, want %d", len(pa), len(pb), n)
		}
		if bytes.Equal(pa, pb) != tc.wantSame {
			t.Errorf("%s/%d vs %s/%d: same = %v, want %v", tc.a, tc.ia, tc.b, tc.ib, !tc.wantSame, tc.wantSame)
		}
	}
	res, err := commp.FromReader(context.Background(), bytes.NewReader(piecePayload("sp1", 0, n)), 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.PieceSize != pieceSize {
		t.Errorf("piece size %d, want %d", res.PieceSize, pieceSize)
	}
}

// TestDeliveredFiles: the unsealed copy is not part of a delivery.
func TestDeliveredFiles(t *testing.T) {
	in := []string{"sealed/s-t01000-1", "unsealed/s-t01000-1", "cache/s-t01000-1/p_aux", "cache/s-t01000-1/t_aux", "cache/s-t01000-1/sc-02-data-tree-r-last.dat"}
	var fs []api.SectorFile
	for _, n := range in {
		fs = append(fs, api.SectorFile{Name: n})
	}
	got := deliveredFiles(fs)
	if len(got) != 4 {
		t.Fatalf("kept %d files, want 4: %v", len(got), got)
	}
	for _, f := range got {
		if strings.HasPrefix(f.Name, "unsealed/") {
			t.Errorf("kept %s", f.Name)
		}
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// TestStageBoundsAreStates: the stage table names real sector states, in
// the order a sector reaches them, so that stage times come from the
// histories the workers report.
func TestStageBoundsAreStates(t *testing.T) {
	prev := -1
	order := map[sectorfsm.State]int{}
	for i, s := range sectorfsm.States() {
		order[s] = i
	}
	for _, b := range stageBounds {
		st, err := sectorfsm.ParseState(b.end)
		if err != nil {
			t.Fatalf("stage %q ends at %q: %v", b.stage, b.end, err)
		}
		if order[st] <= prev {
			t.Errorf("stage %q ends at %s, not after the previous stage's end", b.stage, b.end)
		}
		prev = order[st]
	}
}

// TestDemoForeignProcessors runs the demo with every worker's PC2 and C2
// routed to worker/testdata/fpproc, a processor that is not Sealant and
// checks each task as filecoin-proofs would: each tenant's sector must be
// precommitted, proven on the devnet and verified, and the processor's log
// must show it served both stages.
func TestDemoForeignProcessors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo with external processors: about a minute")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fpproc")
	if out, err := exec.Command("go", "build", "-o", bin, "../worker/testdata/fpproc").CombinedOutput(); err != nil {
		t.Skipf("cannot build the test processor: %v: %s", err, out)
	}
	logPath := filepath.Join(dir, "fpproc.log")
	var extra strings.Builder
	for _, st := range []string{"pc2", "c2"} {
		fmt.Fprintf(&extra, "\n[[processors.%s]]\nbin = %q\nargs = [%q]\nenvs = { FPPROC_PARENT_CACHE = %q, FPPROC_LOG = %q }\n",
			st, bin, st, filepath.Join(dir, "fpproc-parents"), logPath)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var logs bytes.Buffer
	sum, err := Run(ctx, Config{Dir: filepath.Join(dir, "demo"), Sectors: 1, Timeout: 150 * time.Second,
		WorkerExtra: extra.String(), Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Logf("component warnings:\n%s", tail(logs.String(), 4000))
		t.Fatalf("demo: %v", err)
	}
	for _, tn := range sum.Tenants {
		if tn.Proven != 1 || tn.Verified != 1 {
			t.Errorf("%s: proven %d verified %d, want 1", tn.Tenant, tn.Proven, tn.Verified)
		}
	}
	served, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, line := range strings.Fields(string(served)) {
		count[line]++
	}
	for _, st := range []string{"pc2", "c2"} {
		if n := count[st]; n < 2 {
			t.Errorf("fpproc served %s %d times, want one per sector (2):\n%s", st, n, served)
		}
	}
}

// TestDemoBatchThreads runs the demo with batch threads of two members
// instead of lone threads: every sector of the three tenants (interactive
// and NI) must be proven and verified, and the workers' logs must show
// batch PC1 rounds of two sectors, each of one tenant and proof.
func TestDemoBatchThreads(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo with batch threads: about a minute")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sum, err := Run(ctx, Config{Dir: t.TempDir(), Sectors: 2, Timeout: 150 * time.Second, BatchSize: 2, ThreadsPerWorker: 4, Logger: log})
	if err != nil {
		t.Logf("logs:\n%s", tail(logs.String(), 6000))
		t.Fatalf("demo: %v", err)
	}
	for _, tn := range sum.Tenants {
		if tn.Proven != 2 || tn.Verified != 2 {
			t.Errorf("%s: proven %d verified %d, want 2", tn.Tenant, tn.Proven, tn.Verified)
		}
	}
	pairs := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `msg="batch pc1"`) && strings.Contains(line, "sectors=2") && strings.Contains(line, "err=<nil>") {
			pairs++
		}
	}
	if pairs == 0 {
		t.Errorf("no batch PC1 of two sectors in the workers' logs:\n%s", tail(logs.String(), 4000))
	}
	t.Logf("batch PC1 rounds of two sectors: %d", pairs)
}
