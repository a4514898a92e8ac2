package sdr

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealant/sealant/proofs/abi"
)

// TestPC1512MiB is the long test (SEALANT_TEST_512MIB=1, ~2 min and 2 GiB of
// disk on 2 cores): it generates the 512MiB parent cache through RunPC1
// (which refuses a cache whose digest differs from rust-fil-proofs'
// production digest), labels both layers, logs the labelling rate and
// recomputes a sample of labels with LabelNode.
func TestPC1512MiB(t *testing.T) {
	if os.Getenv("SEALANT_TEST_512MIB") != "1" {
		t.Skip("set SEALANT_TEST_512MIB=1")
	}
	ctx := context.Background()
	proof := abi.StackedDrg512MiBV1_1
	dir := t.TempDir()
	var logs bytes.Buffer
	rid := ReplicaID(ProverID(1000), 7, [32]byte{3}, [32]byte{4}, proof)
	start := time.Now()
	res, err := RunPC1(ctx, dir, rid, proof, &PC1Options{
		ParentCacheDir: filepath.Join(dir, "parents"),
		Logger:         slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("RunPC1 512MiB total %v\n%s", time.Since(start), logs.String())
	if len(res.LayerDigests) != 2 {
		t.Fatalf("%d layers", len(res.LayerDigests))
	}

	g := mustGraph(t, proof)
	l1, err := os.ReadFile(LayerPath(dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	l2, err := os.ReadFile(LayerPath(dir, 2))
	if err != nil {
		t.Fatal(err)
	}
	var ps [abi.Degree]uint32
	for _, node := range []uint64{1, 2, 1 << 20, g.Nodes()/2 + 1, g.Nodes() - 1} {
		g.Parents(uint32(node), ps[:])
		for layer, data := range [][]byte{l1, l2} {
			var prev []byte
			if layer == 1 {
				prev = l1
			}
			want, err := LabelNode(&rid, uint32(layer+1), node, ps[:], data, prev)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want[:], data[node*32:node*32+32]) {
				t.Errorf("layer %d node %d differs from LabelNode", layer+1, node)
			}
		}
	}
}
