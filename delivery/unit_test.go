package delivery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/merkle"
)

func TestLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	var slept time.Duration
	l := NewLimiter(1 << 20) // 1 MiB/s, burst 256 KiB
	l.now = func() time.Time { return now }
	l.sleep = func(_ context.Context, d time.Duration) error { slept += d; now = now.Add(d); return nil }
	// 4 MiB at 1 MiB/s with a 256 KiB burst: 3.75 s of waiting.
	for range 64 {
		if err := l.Wait(context.Background(), 64<<10); err != nil {
			t.Fatal(err)
		}
	}
	want := 3750 * time.Millisecond
	if d := slept - want; d < -time.Millisecond || d > time.Millisecond {
		t.Fatalf("slept %s, want %s", slept, want)
	}
	if NewLimiter(0) != nil || NewLimiter(-5) != nil {
		t.Fatal("a zero or negative limit must not throttle")
	}
	var nl *Limiter
	if err := nl.Wait(context.Background(), 1<<30); err != nil {
		t.Fatal(err)
	}
}

func TestExpectedFiles(t *testing.T) {
	id := struct{ m, n uint64 }{1000, 5}
	cases := []struct {
		proof abi.RegisteredSealProof
		trees int
	}{
		{abi.StackedDrg2KiBV1_1, 1}, {abi.StackedDrg512MiBV1_1, 1}, {abi.StackedDrg32GiBV1_1, 8}, {abi.StackedDrg64GiBV1_1, 16},
	}
	for _, c := range cases {
		exp, err := ExpectedFiles(sectorID(id.m, id.n), c.proof)
		if err != nil {
			t.Fatal(err)
		}
		if len(exp) != 3+c.trees {
			t.Errorf("%s: %d files, want %d", c.proof, len(exp), 3+c.trees)
		}
		if exp[0].Name != "sealed/s-t01000-5" || exp[0].Size != int64(c.proof.SectorSize()) {
			t.Errorf("%s: %+v", c.proof, exp[0])
		}
		if c.trees > 1 && exp[3].Name != "cache/s-t01000-5/sc-02-data-tree-r-last-0.dat" {
			t.Errorf("%s: %s", c.proof, exp[3].Name)
		}
	}
	if _, err := ExpectedFiles(sectorID(1, 1), 99); err == nil {
		t.Error("unknown proof accepted")
	}
}

func TestParseTAux(t *testing.T) {
	dir, rec := sealed(t)
	good := readAll(t, dir+"/cache/t_aux")
	if err := parseTAux(good, rec.Proof); err != nil {
		t.Fatalf("porep's own t_aux: %v", err)
	}
	if err := parseTAux(good, abi.StackedDrg8MiBV1_1); err == nil {
		t.Error("2KiB t_aux accepted for an 8MiB sector")
	}
	for _, n := range []int{0, 7, 8, len(good) - 1} {
		if err := parseTAux(good[:n], rec.Proof); err == nil {
			t.Errorf("truncated to %d accepted", n)
		}
	}
	if err := parseTAux(append(good, 0), rec.Proof); err == nil {
		t.Error("trailing byte accepted")
	}
	// rows_to_discard of every store: the u64 after the id, option tag and
	// size.
	setRows := func(id string, v uint64) []byte {
		b := bytes.Clone(good)
		i := bytes.Index(b, []byte(id))
		if i < 0 {
			t.Fatalf("no %s in t_aux", id)
		}
		binary.LittleEndian.PutUint64(b[i+len(id)+1+8:], v)
		return b
	}
	for _, c := range []struct {
		id   string
		rows uint64
	}{
		{"layer-1", 1 << 56}, {"layer-2", 1}, {"layer-1", 6}, {merkle.IDTreeD, 6}, {merkle.IDTreeD, 1 << 40},
		{merkle.IDTreeC, 2}, {merkle.IDTreeC, 1 << 56}, {merkle.IDTreeRLast, 0},
	} {
		if err := parseTAux(setRows(c.id, c.rows), rec.Proof); err == nil {
			t.Errorf("%s rows_to_discard %d accepted", c.id, c.rows)
		}
	}
	// Values a tree of that shape can have are accepted (rust-fil-proofs
	// versions differ on them).
	if err := parseTAux(setRows(merkle.IDTreeC, 1), rec.Proof); err != nil {
		t.Errorf("tree-c rows_to_discard 1: %v", err)
	}
}

func FuzzParseTAux(f *testing.F) {
	dir, rec := sealed(f)
	f.Add(readAll(f, dir+"/cache/t_aux"))
	f.Add([]byte{})
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = parseTAux(b, rec.Proof) // must not panic or over-allocate
	})
}

func FuzzCheckFileSet(f *testing.F) {
	s := newTestSector(f, 9)
	f.Add(mustJSON(f, s.md))
	f.Add([]byte(`{"id":{"miner":1,"number":2},"proof_type":5,"files":[{"name":"../x","size":-1}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var md = s.md
		if err := jsonUnmarshal(raw, &md); err != nil {
			return
		}
		files, err := checkFileSet(&md)
		if err != nil {
			return
		}
		// Whatever passes names only layout files of this sector.
		exp, _ := ExpectedFiles(md.ID, abi.RegisteredSealProof(md.ProofType))
		if len(files) != len(exp) {
			t.Fatalf("%d files pass, %d expected", len(files), len(exp))
		}
		for i := range files {
			if files[i].Name != exp[i].Name {
				t.Fatalf("file %q passed, want %q", files[i].Name, exp[i].Name)
			}
		}
	})
}

func BenchmarkTransfer2KiB(b *testing.B) {
	e := newEnv(b, nil)
	s := newTestSector(b, 900)
	c := testClient()
	b.SetBytes(totalSize(s.files))
	b.ReportAllocs()
	sealedPath, cacheDir := s.path(b, "sealed"), dirOf(s.path(b, "p_aux"))
	for i := 0; b.Loop(); i++ {
		s.id.Number = uint64(1000 + i)
		s.md.ID = s.id
		fs, err := DescribeFiles(context.Background(), s.id, abi.StackedDrg2KiBV1_1, sealedPath, cacheDir)
		if err != nil {
			b.Fatal(err)
		}
		s.files, s.md.Files = fs, SectorFiles(fs)
		if err := e.deliver(b, s, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchTransfer runs end to end on a small sector (the CLI runs 512 MiB).
func TestBenchTransferSmall(t *testing.T) {
	rep, err := BenchTransfer(context.Background(), BenchConfig{Proof: abi.StackedDrg8MiBV1_1, ChunkSize: 1 << 20, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Bytes < 8<<20 || rep.MBps <= 0 || rep.LoopbackMBps <= 0 || rep.DiskMBps <= 0 || rep.HashedCopyMBps <= 0 ||
		rep.DiskCommitMBps <= 0 || rep.CeilingMBps <= 0 || rep.RatioCeiling <= 0 || rep.CommitBytes != DefaultCommitBytes {
		t.Fatalf("report %+v", rep)
	}
	// The ceiling is the lower of the CPU budget and the disk, never the
	// raw loopback.
	if rep.CPUBoundMBps > 0 && rep.CeilingMBps != min(rep.CPUBoundMBps, rep.DiskCommitMBps) {
		t.Fatalf("ceiling %.0f, CPU budget %.0f, disk %.0f", rep.CeilingMBps, rep.CPUBoundMBps, rep.DiskCommitMBps)
	}
}

// The sender's prefix hashes equal SHA-256 of the file's prefix, whether
// taken from a kept state, hashed on from a lower one, or from scratch.
func TestPrefixHashes(t *testing.T) {
	data := make([]byte, 3<<20+123)
	for i := range data {
		data[i] = byte(i * 7)
	}
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ph := newPrefixHashes(f)
	cases := []struct {
		name string
		off  int64
		keep bool // keep the state reached, for the next cases
	}{
		{"zero", 0, false},
		{"from scratch", 1 << 20, true},
		{"kept", 1 << 20, false},
		{"on from a kept state", 2<<20 + 5, true},
		{"below the kept states", 1000, false},
		{"whole file", int64(len(data)), false},
	}
	for _, tc := range cases {
		h, err := ph.at(context.Background(), tc.off)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got, want := [32]byte(h.Sum(nil)), sha256.Sum256(data[:tc.off]); got != want {
			t.Errorf("%s: prefix hash at %d is %x, want %x", tc.name, tc.off, got, want)
		}
		if !tc.keep {
			delete(ph.states, tc.off)
		}
	}
	if _, err := ph.at(context.Background(), int64(len(data))+1); err == nil {
		t.Error("a prefix longer than the file hashed without error")
	}
}
