package sdr

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
)

// golden mirrors testdata/seal-2k-golden.json (shared/vectors, spec §11.1).
type golden struct {
	ProofID    int64             `json:"proof_id"`
	Miner      uint64            `json:"miner"`
	Sector     uint64            `json:"sector"`
	ProverID   string            `json:"prover_id"`
	Ticket     string            `json:"ticket"`
	CommD      string            `json:"comm_d_hex"`
	ReplicaID  string            `json:"replica_id"`
	Layer1     map[string]string `json:"layer1_labels"`
	Layer1File string            `json:"layer1_file_sha256"`
	Layer2     map[string]string `json:"layer2_labels"`
	Layer2File string            `json:"layer2_file_sha256"`
}

func loadGolden(t testing.TB) *golden {
	t.Helper()
	b, err := os.ReadFile("testdata/seal-2k-golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

func hex32(t testing.TB, s string) [32]byte {
	t.Helper()
	var out [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad 32-byte hex %q", s)
	}
	copy(out[:], b)
	return out
}

func (g *golden) replicaID(t testing.TB) [32]byte { return hex32(t, g.ReplicaID) }

func TestReplicaIDGolden(t *testing.T) {
	g := loadGolden(t)
	prover := ProverID(g.Miner)
	if got := hex.EncodeToString(prover[:]); got != g.ProverID {
		t.Fatalf("ProverID(%d) = %s, want %s", g.Miner, got, g.ProverID)
	}
	got := ReplicaID(prover, g.Sector, hex32(t, g.Ticket), hex32(t, g.CommD), abi.RegisteredSealProof(g.ProofID))
	if hex.EncodeToString(got[:]) != g.ReplicaID {
		t.Fatalf("ReplicaID = %x, want %s", got, g.ReplicaID)
	}
	// The sector number is big-endian and every input matters.
	other := ReplicaID(prover, g.Sector<<56, hex32(t, g.Ticket), hex32(t, g.CommD), abi.RegisteredSealProof(g.ProofID))
	if other == got {
		t.Fatal("replica id ignores the sector number byte order")
	}
	if got[31]&0xc0 != 0 {
		t.Fatal("replica id has its top two bits set")
	}
}

// checkGoldenLayers compares the layer files in dir with the golden labels.
func checkGoldenLayers(t testing.TB, g *golden, dir string) {
	t.Helper()
	for i, c := range []struct {
		labels map[string]string
		file   string
	}{{g.Layer1, g.Layer1File}, {g.Layer2, g.Layer2File}} {
		layer := i + 1
		data, err := os.ReadFile(LayerPath(dir, layer))
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != c.file {
			t.Errorf("layer %d file sha256 = %x, want %s", layer, got, c.file)
		}
		for n, want := range c.labels {
			node, _ := strconv.Atoi(n)
			if got := hex.EncodeToString(data[node*32 : node*32+32]); got != want {
				t.Errorf("layer %d node %d = %s, want %s", layer, node, got, want)
			}
		}
	}
}

func TestPC1Golden2KiB(t *testing.T) {
	g := loadGolden(t)
	dir := t.TempDir()
	res, err := RunPC1(context.Background(), dir, g.replicaID(t), abi.StackedDrg2KiBV1_1,
		&PC1Options{ParentCacheDir: filepath.Join(dir, "parents")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed != 0 || len(res.LayerDigests) != 2 {
		t.Fatalf("result = %+v, want 2 fresh layers", res)
	}
	checkGoldenLayers(t, g, dir)
	if hex.EncodeToString(res.LayerDigests[1][:]) != g.Layer2File {
		t.Errorf("reported layer 2 digest %x, want %s", res.LayerDigests[1], g.Layer2File)
	}
}

// TestLabelNodeGolden recomputes every golden label with the slow,
// verification path, from on-the-fly parents.
func TestLabelNodeGolden(t *testing.T) {
	g := loadGolden(t)
	rid := g.replicaID(t)
	gr := mustGraph(t, abi.StackedDrg2KiBV1_1)
	n := gr.Nodes()
	layers := [][]byte{make([]byte, n*32), make([]byte, n*32)}
	var ps [abi.Degree]uint32
	for l := range layers {
		var prev []byte
		if l > 0 {
			prev = layers[l-1]
		}
		for node := range n {
			gr.Parents(uint32(node), ps[:])
			lab, err := LabelNode(&rid, uint32(l+1), node, ps[:], layers[l], prev)
			if err != nil {
				t.Fatal(err)
			}
			copy(layers[l][node*32:], lab[:])
		}
	}
	for l, want := range []map[string]string{g.Layer1, g.Layer2} {
		for nstr, w := range want {
			node, _ := strconv.Atoi(nstr)
			if got := hex.EncodeToString(layers[l][node*32 : node*32+32]); got != w {
				t.Errorf("LabelNode layer %d node %d = %s, want %s", l+1, node, got, w)
			}
		}
	}
	// ParentBlocks + LabelFromBlocks is what a C1 labeling proof verifies.
	gr.Parents(63, ps[:])
	blocks, err := ParentBlocks(2, 63, ps[:], layers[1], layers[0])
	if err != nil {
		t.Fatal(err)
	}
	lab, err := LabelFromBlocks(&rid, 2, 63, blocks)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(lab[:], layers[1][63*32:64*32]) {
		t.Errorf("LabelFromBlocks(2, 63) = %x, want %x", lab, layers[1][63*32:64*32])
	}
}

func runGolden(t *testing.T, dir string, rid [32]byte) *PC1Result {
	t.Helper()
	res, err := RunPC1(context.Background(), dir, rid, abi.StackedDrg2KiBV1_1,
		&PC1Options{ParentCacheDir: filepath.Join(dir, "parents")})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestPC1Resume simulates crashes at the points that matter: the files a
// crash can leave behind are torn temporaries, a missing or short layer, a
// layer whose bytes changed, or another sector's files.
func TestPC1Resume(t *testing.T) {
	g := loadGolden(t)
	rid := g.replicaID(t)
	cases := []struct {
		name        string
		damage      func(t *testing.T, dir string)
		wantResumed int
	}{
		{"complete", func(*testing.T, string) {}, 2},
		{"crash during layer 2", func(t *testing.T, dir string) {
			// Layer 2 was being written: a torn temporary and no manifest entry.
			b, _ := os.ReadFile(LayerPath(dir, 2))
			must(t, os.WriteFile(LayerPath(dir, 2)+".tmp", b[:1000], 0o644))
			must(t, os.Remove(LayerPath(dir, 2)))
			m := readManifest(t, dir)
			m.Layers = m.Layers[:1]
			must(t, writeManifest(dir, m))
		}, 1},
		{"torn layer 2 file", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(LayerPath(dir, 2))
			must(t, os.WriteFile(LayerPath(dir, 2), b[:len(b)/2], 0o644))
		}, 1},
		{"layer 2 bytes changed", func(t *testing.T, dir string) {
			flipByte(t, LayerPath(dir, 2), 77)
		}, 1},
		{"layer 1 bytes changed", func(t *testing.T, dir string) {
			flipByte(t, LayerPath(dir, 1), 5)
		}, 0},
		{"manifest lost", func(t *testing.T, dir string) {
			must(t, os.Remove(filepath.Join(dir, ManifestFileName)))
		}, 0},
		{"manifest garbage", func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, ManifestFileName), []byte("{not json"), 0o644))
		}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			runGolden(t, dir, rid)
			c.damage(t, dir)
			res := runGolden(t, dir, rid)
			if res.Resumed != c.wantResumed {
				t.Errorf("resumed %d layers, want %d", res.Resumed, c.wantResumed)
			}
			checkGoldenLayers(t, g, dir)
			if m := readManifest(t, dir); len(m.Layers) != 2 {
				t.Errorf("manifest has %d layers after the rerun", len(m.Layers))
			}
		})
	}
}

// TestPC1ReplacesBadParentCache plants a parent cache of the right size but
// wrong content where RunPC1 looks for it: it must be detected by digest and
// regenerated, and the labels must still be golden.
func TestPC1ReplacesBadParentCache(t *testing.T) {
	g := loadGolden(t)
	dir := t.TempDir()
	gr := mustGraph(t, abi.StackedDrg2KiBV1_1)
	pdir := filepath.Join(dir, "parents")
	must(t, os.MkdirAll(pdir, 0o755))
	path := filepath.Join(pdir, gr.ParentCacheFileName())
	must(t, os.WriteFile(path, make([]byte, gr.ParentCacheSize()), 0o644))
	runGolden(t, dir, g.replicaID(t))
	checkGoldenLayers(t, g, dir)
	b, err := os.ReadFile(path)
	must(t, err)
	want, _ := ProductionParentCacheDigest(abi.StackedDrg2KiBV1_1)
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != want {
		t.Fatalf("parent cache not replaced: %x", sum)
	}
}

// TestPC1OtherSector checks that layers of another replica in the same
// cache dir are never reused.
func TestPC1OtherSector(t *testing.T) {
	g := loadGolden(t)
	dir := t.TempDir()
	other := g.replicaID(t)
	other[0] ^= 1
	runGolden(t, dir, other)
	res := runGolden(t, dir, g.replicaID(t))
	if res.Resumed != 0 {
		t.Fatalf("reused %d layers of another sector", res.Resumed)
	}
	checkGoldenLayers(t, g, dir)
}

func TestPC1Errors(t *testing.T) {
	g := loadGolden(t)
	rid := g.replicaID(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	gr := mustGraph(t, abi.StackedDrg2KiBV1_1)
	if _, err := RunPC1(ctx, dir, rid, abi.StackedDrg2KiBV1_1, &PC1Options{Parents: gr}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	if _, err := os.Stat(LayerPath(dir, 1)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cancelled run left a layer file: %v", err)
	}
	bad := rid
	bad[31] |= 0x80
	if _, err := RunPC1(context.Background(), dir, bad, abi.StackedDrg2KiBV1_1, &PC1Options{Parents: gr}); err == nil {
		t.Error("accepted a replica id that is not a field element")
	}
	if _, err := RunPC1(context.Background(), dir, rid, abi.RegisteredSealProof(99), &PC1Options{Parents: gr}); !errors.Is(err, ErrBadProof) {
		t.Errorf("bad proof: err = %v", err)
	}
}

// TestPC1FastPathMatchesLabelNode runs the streaming labeller on the 8MiB
// graph (no golden labels exist at that size) and recomputes a sample of
// labels with the independent verification path.
func TestPC1FastPathMatchesLabelNode(t *testing.T) {
	if testing.Short() {
		t.Skip("8MiB PC1")
	}
	ctx := context.Background()
	proof := abi.StackedDrg8MiBV1_1
	gr := mustGraph(t, proof)
	mem, err := NewParentCacheMem(ctx, gr, 0)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rid := ReplicaID(ProverID(1000), 42, [32]byte{1}, [32]byte{2}, proof)
	if _, err := RunPC1(ctx, dir, rid, proof, &PC1Options{Parents: mem}); err != nil {
		t.Fatal(err)
	}
	l1, err := os.ReadFile(LayerPath(dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	l2, err := os.ReadFile(LayerPath(dir, 2))
	if err != nil {
		t.Fatal(err)
	}
	n := gr.Nodes()
	for _, node := range []uint64{0, 1, 2, 3, 4095, 65535, 65536, n / 2, n - 2, n - 1} {
		for layer, data := range [][]byte{l1, l2} {
			var prev []byte
			if layer == 1 {
				prev = l1
			}
			want, err := LabelNode(&rid, uint32(layer+1), node, mem.Parents(node), data, prev)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want[:], data[node*32:node*32+32]) {
				t.Errorf("layer %d node %d: PC1 %x, LabelNode %x", layer+1, node, data[node*32:node*32+32], want)
			}
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, off int) {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	b[off] ^= 0x01
	must(t, os.WriteFile(path, b, 0o644))
}

func readManifest(t *testing.T, dir string) *manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ManifestFileName))
	must(t, err)
	var m manifest
	must(t, json.Unmarshal(b, &m))
	return &m
}

// badParents is a ParentSource that yields a parent past the layer.
type badParents struct{ at uint64 }

func (b badParents) Iter(first uint64) (ParentIter, error) {
	return &badIter{bad: b.at, node: first}, nil
}

type badIter struct{ bad, node uint64 }

func (it *badIter) Next(ps *[abi.Degree]uint32) error {
	*ps = [abi.Degree]uint32{}
	if it.node == it.bad {
		ps[abi.Degree-1] = 1 << 30
	}
	it.node++
	return nil
}

func (it *badIter) Close() error { return nil }

func TestPC1RejectsBadParents(t *testing.T) {
	g := loadGolden(t)
	_, err := RunPC1(context.Background(), t.TempDir(), g.replicaID(t), abi.StackedDrg2KiBV1_1,
		&PC1Options{Parents: badParents{at: 40}})
	if !errors.Is(err, ErrNodeRange) {
		t.Fatalf("err = %v, want ErrNodeRange", err)
	}
}

// FuzzPC1Manifest feeds arbitrary manifest bytes (the one file PC1 parses)
// to a resumed run over genuine layer files: whatever the manifest says, the
// result must be the golden layers and no panic.
func FuzzPC1Manifest(f *testing.F) {
	g := loadGolden(f)
	rid := g.replicaID(f)
	seedDir := f.TempDir()
	gr := mustGraph(f, abi.StackedDrg2KiBV1_1)
	if _, err := RunPC1(context.Background(), seedDir, rid, abi.StackedDrg2KiBV1_1, &PC1Options{Parents: gr}); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(seedDir, ManifestFileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"version":1,"proof":5,"replica_id":"` + g.ReplicaID + `","nodes":64,"layers":[{"layer":2,"sha256":"00"}]}`))
	f.Add([]byte(`{"version":1,"proof":5,"replica_id":"` + g.ReplicaID + `","nodes":64,"layers":[{"layer":1,"sha256":"` + g.Layer1File + `"},{"layer":1,"sha256":"` + g.Layer1File + `"},{"layer":3}]}`))
	f.Add([]byte("null"))
	l1, _ := os.ReadFile(LayerPath(seedDir, 1))
	l2, _ := os.ReadFile(LayerPath(seedDir, 2))
	f.Fuzz(func(t *testing.T, m []byte) {
		dir := t.TempDir()
		must(t, os.WriteFile(LayerPath(dir, 1), l1, 0o644))
		must(t, os.WriteFile(LayerPath(dir, 2), l2, 0o644))
		must(t, os.WriteFile(filepath.Join(dir, ManifestFileName), m, 0o644))
		if _, err := RunPC1(context.Background(), dir, rid, abi.StackedDrg2KiBV1_1, &PC1Options{Parents: gr}); err != nil {
			t.Fatal(err)
		}
		checkGoldenLayers(t, g, dir)
	})
}
