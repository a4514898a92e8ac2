package sdr

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/internal/sha2"
)

// batchReplicaIDs returns n distinct replica ids: the golden sector's first,
// then ids derived from it (top bits cleared, as replica ids are).
func batchReplicaIDs(t *testing.T, n int) [][32]byte {
	ids := [][32]byte{loadGolden(t).replicaID(t)}
	for i := 1; i < n; i++ {
		id := sha256.Sum256(append(ids[0][:], byte(i)))
		id[31] &= 0x3f
		ids = append(ids, id)
	}
	return ids
}

// layerSums returns the SHA-256 of each layer file in dir.
func layerSums(t *testing.T, dir string, layers int) [][32]byte {
	t.Helper()
	var out [][32]byte
	for l := 1; l <= layers; l++ {
		b, err := os.ReadFile(LayerPath(dir, l))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sha256.Sum256(b))
	}
	return out
}

// TestPC1BatchMatchesSingle labels batches of 1 to 7 sectors with 1 to 3
// workers, so that lane groups of 4 (sha2.Label4), 2 (Label2) and 1 (Label)
// and their mixes (7 in one group: 4+2+1) all run, on the
// SHA-NI and the portable hash, and checks every layer file of every
// sector against RunPC1 on that sector alone; the golden sector is always
// in the batch, so the comparison is anchored to the lotus vector too.
// 2KiB always, 8MiB unless -short, 512MiB (two sectors, SHA-NI) with
// SEALANT_TEST_512MIB=1.
func TestPC1BatchMatchesSingle(t *testing.T) {
	proofs := []abi.RegisteredSealProof{abi.StackedDrg2KiBV1_1}
	if !testing.Short() {
		proofs = append(proofs, abi.StackedDrg8MiBV1_1)
	}
	long := os.Getenv("SEALANT_TEST_512MIB") == "1" // the long test, as TestPC1512MiB
	if long {
		proofs = append(proofs, abi.StackedDrg512MiBV1_1)
	}
	pcDir := t.TempDir()
	for _, proof := range proofs {
		n := 7
		if proof == abi.StackedDrg8MiBV1_1 {
			n = 4
		}
		if proof == abi.StackedDrg512MiBV1_1 {
			n = 2
		}
		ids := batchReplicaIDs(t, n)
		want := make([][][32]byte, len(ids))
		for i, id := range ids {
			dir := t.TempDir()
			if _, err := RunPC1(context.Background(), dir, id, proof, &PC1Options{ParentCacheDir: pcDir}); err != nil {
				t.Fatal(err)
			}
			want[i] = layerSums(t, dir, proof.Layers())
			if proof == abi.StackedDrg2KiBV1_1 && i == 0 {
				checkGoldenLayers(t, loadGolden(t), dir)
			}
		}
		type run struct{ sectors, workers int }
		runs := []run{{1, 1}, {2, 1}, {3, 2}, {4, 1}, {4, 2}, {5, 3}, {7, 1}}
		switch proof {
		case abi.StackedDrg8MiBV1_1:
			runs = []run{{3, 2}, {4, 1}}
		case abi.StackedDrg512MiBV1_1:
			runs = []run{{2, 2}}
		}
		for _, shani := range []bool{true, false} {
			if shani && !sha2.HasSHANI() || !shani && proof == abi.StackedDrg512MiBV1_1 {
				continue
			}
			for _, r := range runs {
				name := fmt.Sprintf("%s/shani=%v/sectors=%d/workers=%d", proof, shani, r.sectors, r.workers)
				t.Run(name, func(t *testing.T) {
					was := sha2.SetSHANI(shani)
					defer sha2.SetSHANI(was)
					root := t.TempDir()
					var batch []BatchSector
					for i := range r.sectors {
						batch = append(batch, BatchSector{CacheDir: filepath.Join(root, fmt.Sprint(i)), ReplicaID: ids[i]})
					}
					res, err := RunPC1Batch(context.Background(), proof, batch, &BatchOptions{ParentCacheDir: pcDir, Workers: r.workers})
					if err != nil {
						t.Fatal(err)
					}
					for i, s := range batch {
						got := layerSums(t, s.CacheDir, proof.Layers())
						for l := range got {
							if got[l] != want[i][l] {
								t.Fatalf("sector %d layer %d: %x, single-sector %x", i, l+1, got[l], want[i][l])
							}
							if res[i].LayerDigests[l] != got[l] {
								t.Fatalf("sector %d layer %d: reported digest %x, file %x", i, l+1, res[i].LayerDigests[l], got[l])
							}
						}
						// The manifest is the one RunPC1 writes: a single-sector
						// rerun on the directory keeps every layer.
						again, err := RunPC1(context.Background(), s.CacheDir, ids[i], proof, &PC1Options{ParentCacheDir: pcDir})
						if err != nil || again.Resumed != proof.Layers() {
							t.Fatalf("sector %d: RunPC1 after the batch resumed %v layers (err %v)", i, again, err)
						}
					}
				})
			}
		}
	}
}

// TestPC1BatchResume damages a finished batch as a crash in the middle of a
// layer would leave it (one sector has layer 2, the others not) and checks
// that the rerun keeps layer 1 everywhere and yields the same files.
func TestPC1BatchResume(t *testing.T) {
	proof := abi.StackedDrg2KiBV1_1
	ids := batchReplicaIDs(t, 3)
	root := t.TempDir()
	pcDir := filepath.Join(root, "parents")
	var batch []BatchSector
	for i, id := range ids {
		batch = append(batch, BatchSector{CacheDir: filepath.Join(root, fmt.Sprint(i)), ReplicaID: id})
	}
	if _, err := RunPC1Batch(context.Background(), proof, batch, &BatchOptions{ParentCacheDir: pcDir}); err != nil {
		t.Fatal(err)
	}
	var want [][][32]byte
	for _, s := range batch {
		want = append(want, layerSums(t, s.CacheDir, 2))
	}
	for _, i := range []int{1, 2} {
		m := readManifest(t, batch[i].CacheDir)
		m.Layers = m.Layers[:1]
		must(t, writeManifest(batch[i].CacheDir, m))
	}
	must(t, os.Remove(LayerPath(batch[2].CacheDir, 2)))
	res, err := RunPC1Batch(context.Background(), proof, batch, &BatchOptions{ParentCacheDir: pcDir})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range batch {
		if res[i].Resumed != 1 {
			t.Errorf("sector %d resumed %d layers, want 1", i, res[i].Resumed)
		}
		got := layerSums(t, s.CacheDir, 2)
		if got[0] != want[i][0] || got[1] != want[i][1] {
			t.Errorf("sector %d layers differ after the resume", i)
		}
	}
	// Nothing left to do: every layer kept.
	res, err = RunPC1Batch(context.Background(), proof, batch, &BatchOptions{ParentCacheDir: pcDir})
	if err != nil {
		t.Fatal(err)
	}
	for i := range batch {
		if res[i].Resumed != 2 {
			t.Errorf("complete batch: sector %d resumed %d layers, want 2", i, res[i].Resumed)
		}
	}
}

func TestPC1BatchErrors(t *testing.T) {
	proof := abi.StackedDrg2KiBV1_1
	ids := batchReplicaIDs(t, 2)
	dir := t.TempDir()
	bad := ids[0]
	bad[31] |= 0xc0
	cases := []struct {
		name    string
		sectors []BatchSector
		opts    BatchOptions
		want    error
	}{
		{"no sectors", nil, BatchOptions{}, nil},
		{"same dir twice", []BatchSector{{dir, ids[0]}, {dir, ids[1]}}, BatchOptions{}, nil},
		{"not a field element", []BatchSector{{dir, bad}}, BatchOptions{}, nil},
		{"over the memory limit", []BatchSector{{dir + "/a", ids[0]}, {dir + "/b", ids[1]}},
			BatchOptions{MemoryLimit: BatchMemory(proof, 2) - 1}, ErrBatchMemory},
		{"bad parents", []BatchSector{{dir + "/c", ids[0]}, {dir + "/d", ids[1]}},
			BatchOptions{Parents: badParents{at: 40}}, ErrNodeRange},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := RunPC1Batch(context.Background(), proof, c.sectors, &c.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
	// Refused before any work: nothing written for the too-large batch.
	if _, err := os.Stat(dir + "/a"); !os.IsNotExist(err) {
		t.Errorf("refused batch created its directory (stat: %v)", err)
	}
}

func TestBatchMemory(t *testing.T) {
	if got, want := BatchMemory(abi.StackedDrg512MiBV1_1, 4), int64(4*(2*512<<20+8<<20))+parentFeedWindowBytes+batchOverheadBytes; got != want {
		t.Fatalf("BatchMemory(512MiB, 4) = %d, want %d", got, want)
	}
}

func TestSplitBatch(t *testing.T) {
	cases := []struct {
		n, workers int
		want       string
	}{
		{4, 2, "[[0 1] [2 3]]"},
		{3, 2, "[[0 1] [2]]"},
		{1, 4, "[[0]]"},
		{5, 1, "[[0 1 2 3 4]]"},
		{5, 3, "[[0 1] [2 3] [4]]"},
	}
	for _, c := range cases {
		if got := fmt.Sprint(splitBatch(c.n, c.workers)); got != c.want {
			t.Errorf("splitBatch(%d, %d) = %s, want %s", c.n, c.workers, got, c.want)
		}
	}
}
