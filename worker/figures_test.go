package worker

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/porep"
)

// The figures of the issue, behind SEALANT_FIGURES=1 (they take a while
// and their numbers depend on the machine):
//
//	SEALANT_FIGURES=1 go test ./worker -run Figure -v

func figures(t *testing.T) {
	if os.Getenv("SEALANT_FIGURES") == "" {
		t.Skip("set SEALANT_FIGURES=1")
	}
}

// TestFigureThroughput: 2KiB devnet sectors per minute one worker with 4
// threads completes end to end (allocation to confirmed delivery) against
// the in-test manager, whose chain answers at once: this is the worker's
// own pipeline rate, without block times.
func TestFigureThroughput(t *testing.T) {
	figures(t)
	const sectors = 40
	f := newFakeManager(t, sectors)
	cfg, root := testConfig(t, f.URL, 4, "")
	for i := range cfg.Threads {
		cfg.Threads[i].Sealing.RPCPollingInterval = Duration(5 * time.Millisecond)
		cfg.Threads[i].Sealing.SealInterval = Duration(5 * time.Millisecond)
		cfg.Threads[i].Sealing.Workers = 1
	}
	f.target = api.DeliveryTarget{Architecture: api.ArchProviderProves, StorePath: filepath.Join(root, "store")}
	var before syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	runWorker(t, cfg, Options{})
	waitFinished(t, f, sectors)
	wall := time.Since(start)
	var after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := cpuSeconds(after) - cpuSeconds(before)
	t.Logf("%d 2KiB sectors, 1 worker × 4 threads, GOMAXPROCS=%d: %.2fs wall → %.1f sectors/minute (CPU %.1fs, %.0f%% of %d cores)",
		sectors, runtime.GOMAXPROCS(0), wall.Seconds(), sectors/wall.Minutes(), cpu, 100*cpu/wall.Seconds()/float64(runtime.NumCPU()), runtime.NumCPU())
}

func cpuSeconds(r syscall.Rusage) float64 {
	return time.Duration(r.Utime.Nano() + r.Stime.Nano()).Seconds()
}

// TestFigurePC18MiB: CPU utilisation of PC1 for an 8MiB sector, with 1
// and with all cores' worth of labelling goroutines.
func TestFigurePC18MiB(t *testing.T) {
	figures(t)
	parents := t.TempDir()
	for _, workers := range []int{1, runtime.NumCPU()} {
		dir := t.TempDir()
		req := porep.SealRequest{Proof: abi.RegisteredSealProof(6), Miner: 1000, Sector: 1, Dir: dir,
			ParentCacheDir: parents, Workers: workers}
		if _, err := porep.SealUpTo(context.Background(), req, porep.StageTreeD); err != nil {
			t.Fatal(err)
		}
		var ticket [32]byte
		ticket[0] = 1
		if _, err := porep.SetTicket(dir, ticket); err != nil {
			t.Fatal(err)
		}
		req.Ticket = ticket
		// Warm the parent cache so it is not counted.
		if workers == 1 {
			warm := req
			warm.Dir = t.TempDir()
			if _, err := porep.SealUpTo(context.Background(), warm, porep.StagePC1); err != nil {
				t.Fatal(err)
			}
		}
		var before, after syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &before)
		start := time.Now()
		if _, err := porep.SealUpTo(context.Background(), req, porep.StagePC1); err != nil {
			t.Fatal(err)
		}
		wall := time.Since(start)
		syscall.Getrusage(syscall.RUSAGE_SELF, &after)
		cpu := cpuSeconds(after) - cpuSeconds(before)
		t.Logf("8MiB PC1, %d workers: %.2fs wall, %.2fs CPU = %.0f%% of one core, %.0f%% of %d cores",
			workers, wall.Seconds(), cpu, 100*cpu/wall.Seconds(), 100*cpu/wall.Seconds()/float64(runtime.NumCPU()), runtime.NumCPU())
	}
}
