package worker

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/porep"
)

// testConfig writes a worker config for threads sealing 2KiB sectors
// against manager url, with fast intervals, and returns it parsed.
func testConfig(t testing.TB, url string, threads int, extra string) (*Config, string) {
	t.Helper()
	root := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, `[worker]
name = "w1"
admin_listen = "127.0.0.1:0"
ping_interval = "1s"
parent_cache_dir = %q

[[manager]]
name = "m1"
url = %q

[sealing]
allowed_sizes = ["2KiB"]
retry_backoff = "100ms"
retry_backoff_max = "1s"
seal_interval = "100ms"
rpc_polling_interval = "50ms"
resubmit_delay = "50ms"
workers = 1

[[attached]]
name = "p1"
location = "persist"
`, filepath.Join(root, "parents"), url)
	for i := range threads {
		fmt.Fprintf(&b, "\n[[sealing_thread]]\nname = \"t%d\"\nlocation = \"t%d\"\n", i, i)
	}
	b.WriteString(extra)
	path := filepath.Join(root, "worker.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, root
}

// expectedCommR seals the sector independently with porep.Seal.
func expectedCommR(t testing.TB, root string, id api.SectorID, ticket [32]byte, pieces []string) porep.Bytes32 {
	t.Helper()
	rec, err := porep.Seal(context.Background(), porep.SealRequest{
		Proof: abi.RegisteredSealProof(5), Miner: id.Miner, Sector: id.Number, Ticket: ticket,
		Pieces: pieces, Dir: t.TempDir(), ParentCacheDir: filepath.Join(root, "parents"), Workers: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec.CommR
}

func waitFinished(t testing.TB, f *fakeManager, n int) []api.SectorID {
	t.Helper()
	var ids []api.SectorID
	timeout := time.After(60 * time.Second)
	for len(ids) < n {
		select {
		case id := <-f.finished:
			ids = append(ids, id)
		case <-timeout:
			t.Fatalf("only %d of %d sectors finished", len(ids), n)
		}
	}
	return ids
}

func runWorker(t testing.TB, cfg *Config, o Options) (*Worker, context.CancelFunc, chan error) {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	w, err := New(context.Background(), cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return w, cancel, done
}

// TestSealCCSectorArch1 seals a CC sector end to end in-process and
// delivers it to a provider store (architecture 1) elsewhere on disk.
func TestSealCCSectorArch1(t *testing.T) {
	f := newFakeManager(t, 1)
	cfg, root := testConfig(t, f.URL, 1, "")
	store := filepath.Join(root, "provider-store")
	f.target = api.DeliveryTarget{Architecture: api.ArchProviderProves, StorePath: store}
	w, _, _ := runWorker(t, cfg, Options{})
	id := waitFinished(t, f, 1)[0]

	s, _ := f.sector(id)
	want := expectedCommR(t, root, id, s.ticket.Ticket, nil)
	if s.precommit.CommR != commp.SealedCID(want).String() {
		t.Fatalf("precommit comm_r %s, independent seal gives %s", s.precommit.CommR, commp.SealedCID(want))
	}
	f.mu.Lock()
	cpu := s.cpu
	f.mu.Unlock()
	// Every compute stage is metered; PC1 (tens of ms even at 2KiB) must
	// show CPU time.
	for _, st := range []string{StageAddPieces, StageTreeD, StagePC1, StagePC2, StageC1, StageC2, "finalize"} {
		if _, ok := cpu[st]; !ok {
			t.Errorf("no cpu seconds reported for %s: %v", st, cpu)
		}
	}
	if cpu[StagePC1] <= 0 {
		t.Errorf("pc1 used no cpu: %v", cpu)
	}
	if s.finalized == nil || len(s.finalized.Files) < 4 {
		t.Fatalf("finalized info %+v", s.finalized)
	}
	names := map[string]bool{}
	for _, fl := range s.finalized.Files {
		names[fl.Name] = true
		sum, size, err := fileSHA256(context.Background(), filepath.Join(store, fl.Name))
		if err != nil || [32]byte(sum) != [32]byte(fl.SHA256) || size != fl.Size {
			t.Errorf("delivered %s: %v (sum ok %v)", fl.Name, err, [32]byte(sum) == [32]byte(fl.SHA256))
		}
	}
	for _, n := range []string{"sealed/s-t01000-1", "cache/s-t01000-1/p_aux", "cache/s-t01000-1/t_aux", "cache/s-t01000-1/sc-02-data-tree-r-last.dat"} {
		if !names[n] {
			t.Errorf("finalized files lack %s: %v", n, names)
		}
	}
	if names["unsealed/s-t01000-1"] {
		t.Error("a CC sector kept its unsealed file")
	}
	// MayCleanUp: the worker's persist copy goes once the thread resets.
	deadline := time.Now().Add(20 * time.Second)
	for {
		info := w.List()[0]
		_, err := os.Stat(filepath.Join(root, "persist", "sealed", "s-t01000-1"))
		if info.State == "Empty" && os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread %+v, persist copy: %v", info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	hist, err := readLog(filepath.Join(root, "t0", archiveDir, "s-t01000-1.jsonl"))
	if err != nil || len(hist) < 15 {
		t.Fatalf("archived event log: %d entries, %v", len(hist), err)
	}
	if last := hist[len(hist)-1]; last.To != "Finished" {
		t.Errorf("last logged transition %+v", last)
	}
}

// TestSealDataSectorInPlace seals a sector with one piece fetched over
// file://, checks its CommP, keeps the unsealed file, and delivers in place
// (the persist store is the provider's store): nothing may be deleted.
func TestSealDataSectorInPlace(t *testing.T) {
	f := newFakeManager(t, 1)
	cfg, root := testConfig(t, f.URL, 1, "")
	payload := make([]byte, 1000)
	for i := range payload {
		payload[i] = byte(i * 31)
	}
	piece := filepath.Join(root, "piece.bin")
	if err := os.WriteFile(piece, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	cp, err := commp.FromReader(context.Background(), strings.NewReader(string(payload)), 1)
	if err != nil {
		t.Fatal(err)
	}
	f.pieces = []api.Piece{{PieceCID: commp.PieceCID(cp.Commitment).String(), Size: uint64(cp.PieceSize),
		PayloadSize: uint64(len(payload)), SourceURL: "file://" + piece}}
	f.target = api.DeliveryTarget{Architecture: api.ArchProviderProves, StorePath: filepath.Join(root, "persist")}
	w, _, _ := runWorker(t, cfg, Options{})
	id := waitFinished(t, f, 1)[0]
	s, _ := f.sector(id)
	want := expectedCommR(t, root, id, s.ticket.Ticket, []string{piece})
	if s.precommit.CommR != commp.SealedCID(want).String() {
		t.Fatalf("comm_r %s, want %s", s.precommit.CommR, commp.SealedCID(want))
	}
	// Liveness bound only (a hang would otherwise last until go test's
	// -timeout); speed is measured by benchmarks, not here.
	for deadline := time.Now().Add(20 * time.Second); w.List()[0].State != "Empty"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("thread stuck in %s after delivery", w.List()[0].State)
		}
	}
	for _, n := range []string{"sealed/s-t01000-1", "unsealed/s-t01000-1", "cache/s-t01000-1/p_aux"} {
		if _, err := os.Stat(filepath.Join(root, "persist", n)); err != nil {
			t.Errorf("in-place delivery lost %s: %v", n, err)
		}
	}
}

// TestBadPieceCommP: a payload whose CommP differs from the deal's never
// gets sealed; the failure is temporary (the source may be fixed), so the
// thread retries and finally pauses.
func TestBadPieceCommP(t *testing.T) {
	f := newFakeManager(t, 1)
	cfg, root := testConfig(t, f.URL, 1, "")
	cfg.Threads[0].Sealing.MaxRetries = 1
	piece := filepath.Join(root, "piece.bin")
	if err := os.WriteFile(piece, make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	other, _ := commp.FromReader(context.Background(), strings.NewReader(strings.Repeat("x", 1000)), 1)
	f.pieces = []api.Piece{{PieceCID: commp.PieceCID(other.Commitment).String(), Size: uint64(other.PieceSize),
		PayloadSize: 1000, SourceURL: piece}}
	w, _, _ := runWorker(t, cfg, Options{})
	deadline := time.Now().Add(20 * time.Second)
	for {
		info := w.List()[0]
		if info.Paused {
			if !strings.Contains(info.Error, "commp") || info.Stage != "PiecesAcquired" {
				t.Errorf("paused with %+v", info)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread never paused: %+v", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
