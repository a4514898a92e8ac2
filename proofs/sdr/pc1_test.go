package sdr

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
func checkGoldenLayers(t *testing.T, g *golden, dir string) {
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
