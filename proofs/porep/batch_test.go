package porep

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/sdr"
)

// batchFiles are the files of a sealed sector directory compared between a
// batch and a single-sector seal.
func batchFiles(proof abi.RegisteredSealProof) []string {
	names := []string{SealedFileName, UnsealedFileName, PC1OutFileName, filepath.Join(CacheDirName, PAuxFileName),
		filepath.Join(CacheDirName, "sc-02-data-tree-d.dat")}
	for l := 1; l <= proof.Layers(); l++ {
		names = append(names, filepath.Join(CacheDirName, sdr.LayerFileName(l)))
	}
	return names
}

func fileSums(t *testing.T, dir string, names []string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if n == PC1OutFileName {
			// It names its own cache directory; compare the rest.
			b = []byte(strings.ReplaceAll(string(b), dir, "DIR"))
		}
		out[n] = sha256.Sum256(b)
	}
	return out
}

// batchRequests builds a mixed batch: the golden sector (2KiB only), CC
// sectors of other miners and tickets, and data sectors with one or two
// pieces.
func batchRequests(t *testing.T, proof abi.RegisteredSealProof, n int) []SealRequest {
	t.Helper()
	var reqs []SealRequest
	pieceDir := t.TempDir()
	if proof == abi.StackedDrg2KiBV1_1 {
		g := loadGolden(t)
		reqs = append(reqs, SealRequest{Proof: proof, Miner: g.Miner, Sector: g.Sector, Ticket: hex32(t, g.Ticket)})
	}
	for i := len(reqs); i < n; i++ {
		r := SealRequest{Proof: proof, Miner: uint64(1000 + i), Sector: uint64(7 * i), Ticket: sha256.Sum256([]byte(fmt.Sprint("ticket", i)))}
		for p := range i % 3 { // 0, 1 or 2 pieces
			path := filepath.Join(pieceDir, fmt.Sprintf("piece-%d-%d", i, p))
			size := 100 + 300*p + i
			if proof != abi.StackedDrg2KiBV1_1 {
				size *= 1000
			}
			if err := os.WriteFile(path, []byte(strings.Repeat(fmt.Sprint("payload", i, p), size)[:size]), 0o644); err != nil {
				t.Fatal(err)
			}
			r.Pieces = append(r.Pieces, path)
		}
		reqs = append(reqs, r)
	}
	return reqs
}

// TestSealBatchMatchesSingle seals each sector alone with Seal and all of
// them with SealBatch, and requires the same record and the same sealed,
// unsealed, tree and layer files. The golden 2KiB sector anchors the batch
// to the lotus vector. 8MiB runs unless -short.
func TestSealBatchMatchesSingle(t *testing.T) {
	cases := []struct {
		proof abi.RegisteredSealProof
		n     int
	}{{abi.StackedDrg2KiBV1_1, 5}}
	if !testing.Short() {
		cases = append(cases, struct {
			proof abi.RegisteredSealProof
			n     int
		}{abi.StackedDrg8MiBV1_1, 2})
	}
	pc := t.TempDir()
	for _, c := range cases {
		t.Run(c.proof.String(), func(t *testing.T) {
			reqs := batchRequests(t, c.proof, c.n)
			root := t.TempDir()
			var single []*Record
			for i := range reqs {
				r := reqs[i]
				r.Dir, r.ParentCacheDir = filepath.Join(root, "single", fmt.Sprint(i)), pc
				rec, err := Seal(context.Background(), r)
				if err != nil {
					t.Fatal(err)
				}
				single = append(single, rec)
				reqs[i].Dir = filepath.Join(root, "batch", fmt.Sprint(i))
			}
			if c.proof == abi.StackedDrg2KiBV1_1 {
				if g := loadGolden(t); single[0].CommR.String() != g.CommRHex {
					t.Fatalf("golden sector comm_r %s, want %s", single[0].CommR, g.CommRHex)
				}
			}
			var pc1Calls int
			recs, err := SealBatch(context.Background(), reqs, &BatchOptions{ParentCacheDir: pc, Workers: 2,
				OnStage: func(stage string, i int) {
					if stage == StagePC1 {
						pc1Calls++
						if i != -1 {
							t.Errorf("PC1 of sector %d run alone", i)
						}
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			if pc1Calls != 1 {
				t.Errorf("batch PC1 ran %d times, want once", pc1Calls)
			}
			names := batchFiles(c.proof)
			for i, rec := range recs {
				s := single[i]
				if rec.CommR != s.CommR || rec.CommD != s.CommD || rec.CommC != s.CommC || rec.CommRLast != s.CommRLast || rec.ReplicaID != s.ReplicaID {
					t.Errorf("sector %d: batch record %+v, single %+v", i, rec, s)
				}
				got := fileSums(t, reqs[i].Dir, names)
				want := fileSums(t, filepath.Join(root, "single", fmt.Sprint(i)), names)
				for _, n := range names {
					if got[n] != want[n] {
						t.Errorf("sector %d: %s differs from the single-sector seal", i, n)
					}
				}
			}
			// A rerun is a no-op returning the same records.
			again, err := SealBatch(context.Background(), reqs, &BatchOptions{ParentCacheDir: pc})
			if err != nil {
				t.Fatal(err)
			}
			for i := range again {
				if again[i].CommR != recs[i].CommR {
					t.Errorf("rerun changed sector %d", i)
				}
			}
		})
	}
}

// TestCheckBatch covers the spec errors that must be refused before any
// work: nothing may be created on disk for them.
func TestCheckBatch(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	big := filepath.Join(dir, "big")
	empty := filepath.Join(dir, "empty")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(small, []byte("x"), 0o644))
	must(os.WriteFile(big, make([]byte, 2033), 0o644)) // 2,032 fits a 2KiB sector, 2,033 does not
	must(os.WriteFile(empty, nil, 0o644))
	p2k, p8m := abi.StackedDrg2KiBV1_1, abi.StackedDrg8MiBV1_1
	d := func(n string) string { return filepath.Join(dir, "out", n) }
	cases := []struct {
		name string
		reqs []SealRequest
		want string
	}{
		{"empty", nil, "empty batch"},
		{"two sizes", []SealRequest{{Proof: p2k, Miner: 1, Sector: 1, Dir: d("a")}, {Proof: p8m, Miner: 1, Sector: 2, Dir: d("b")}}, "one sector size"},
		{"same sector", []SealRequest{{Proof: p2k, Miner: 1, Sector: 1, Dir: d("a")}, {Proof: p2k, Miner: 1, Sector: 1, Dir: d("b")}}, "both t01-1"},
		{"same dir", []SealRequest{{Proof: p2k, Miner: 1, Sector: 1, Dir: d("a")}, {Proof: p2k, Miner: 1, Sector: 2, Dir: d("a") + "/"}}, "share the directory"},
		{"piece too big", []SealRequest{{Proof: p2k, Miner: 1, Sector: 1, Dir: d("a"), Pieces: []string{big}}}, "do not fit"},
		{"missing piece", []SealRequest{{Proof: p2k, Miner: 1, Sector: 1, Dir: d("a"), Pieces: []string{filepath.Join(dir, "nope")}}}, "no such file"},
		{"empty piece", []SealRequest{{Proof: p2k, Miner: 1, Sector: 1, Dir: d("a"), Pieces: []string{empty}}}, "empty piece"},
		{"legacy proof", []SealRequest{{Proof: abi.StackedDrg2KiBV1, Miner: 1, Sector: 1, Dir: d("a")}}, "V1 proof"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckBatch(c.reqs)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("CheckBatch = %v, want an error containing %q", err, c.want)
			}
			if _, err := SealBatch(context.Background(), c.reqs, nil); err == nil {
				t.Fatal("SealBatch accepted it")
			}
		})
	}
	// Two pieces that fit alone but not together.
	half := filepath.Join(dir, "half")
	must(os.WriteFile(half, make([]byte, 1000), 0o644)) // pads to 1,016 → 1,024 bytes
	err := CheckBatch([]SealRequest{{Proof: p2k, Miner: 1, Sector: 1, Dir: d("a"), Pieces: []string{half, half, small}}})
	if !errors.Is(err, ErrPiecesTooLarge) {
		t.Fatalf("three pieces in 2KiB: %v, want ErrPiecesTooLarge", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
		t.Fatalf("a refused batch created files (stat: %v)", err)
	}
	// The memory limit is checked before any work too.
	_, err = SealBatch(context.Background(), []SealRequest{{Proof: p2k, Miner: 1, Sector: 1, Dir: d("a")}},
		&BatchOptions{MemoryLimit: 1024})
	if !errors.Is(err, sdr.ErrBatchMemory) || !strings.Contains(err.Error(), "need") {
		t.Fatalf("memory limit: %v", err)
	}
}
