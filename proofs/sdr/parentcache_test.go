package sdr

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
)

// TestParentCacheDigests reproduces the production parent-cache digests of
// rust-fil-proofs (spec §11.2). 512MiB (~1 min on 2 cores) runs only with
// SEALANT_TEST_512MIB=1.
func TestParentCacheDigests(t *testing.T) {
	v := loadGraphVectors(t)
	cases := []struct {
		proof abi.RegisteredSealProof
		key   string // graph.json key, "" when the digest only comes from parent_cache.json
		heavy bool
	}{
		{abi.StackedDrg2KiBV1_1, "2KiB_id5", false},
		{abi.StackedDrg2KiBV1, "", false},
		{abi.StackedDrg8MiBV1_1, "8MiB_id6", false},
		{abi.StackedDrg8MiBV1, "", false},
		{abi.StackedDrg512MiBV1_1, "512MiB_id7", true},
	}
	for _, c := range cases {
		t.Run(c.proof.String(), func(t *testing.T) {
			if c.heavy && os.Getenv("SEALANT_TEST_512MIB") != "1" {
				t.Skip("set SEALANT_TEST_512MIB=1 to hash the 512MiB parent cache")
			}
			want, ok := ProductionParentCacheDigest(c.proof)
			if !ok {
				t.Fatal("no production digest")
			}
			if c.key != "" && v.CacheDigests[c.key] != want {
				t.Fatalf("graph.json %s = %s, table has %s", c.key, v.CacheDigests[c.key], want)
			}
			sum, err := ParentCacheDigest(context.Background(), mustGraph(t, c.proof), 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(sum[:]); got != want {
				t.Errorf("digest = %s, want %s", got, want)
			}
		})
	}
}

// TestParentCacheFileNames checks ParentCacheFileName and the digest table
// against rust-fil-proofs' parent_cache.json manifest (testdata copy).
func TestParentCacheFileNames(t *testing.T) {
	b, err := os.ReadFile("testdata/parent_cache.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]struct {
		SectorSize uint64 `json:"sector_size"`
		Digest     string `json:"digest"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for p := abi.StackedDrg2KiBV1; p <= abi.StackedDrg64GiBV1_1; p++ {
		g := mustGraph(t, p)
		name := strings.TrimSuffix(g.ParentCacheFileName(), ".cache")
		e, ok := m[name]
		if !ok {
			t.Errorf("%v: %s not in parent_cache.json", p, name)
			continue
		}
		want, _ := ProductionParentCacheDigest(p)
		if e.Digest != want || e.SectorSize != uint64(p.SectorSize()) {
			t.Errorf("%v: manifest has %d/%s, table %d/%s", p, e.SectorSize, e.Digest, p.SectorSize(), want)
		}
	}
}

// TestParentCacheFile round-trips a generated cache through the file and
// memory sources and checks they agree with the graph.
func TestParentCacheFile(t *testing.T) {
	ctx := context.Background()
	g := mustGraph(t, abi.StackedDrg2KiBV1_1)
	path := filepath.Join(t.TempDir(), g.ParentCacheFileName())
	sum, err := GenerateParentCacheFile(ctx, g, path, 2)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ProductionParentCacheDigest(g.Proof())
	if hex.EncodeToString(sum[:]) != want {
		t.Fatalf("file digest %x, want %s", sum, want)
	}
	pc, err := OpenParentCacheFile(ctx, g, path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	mem, err := NewParentCacheMem(ctx, g, 3)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []ParentSource{g, pc, mem} {
		it, err := src.Iter(0)
		if err != nil {
			t.Fatal(err)
		}
		var ps, want [abi.Degree]uint32
		for node := range g.Nodes() {
			if err := it.Next(&ps); err != nil {
				t.Fatalf("%T node %d: %v", src, node, err)
			}
			g.Parents(uint32(node), want[:])
			if ps != want {
				t.Fatalf("%T node %d = %v, want %v", src, node, ps, want)
			}
			for k := range want {
				if binary.LittleEndian.Uint32(raw[node*ParentCacheBytesPerNode+uint64(4*k):]) != want[k] {
					t.Fatalf("file node %d parent %d differs", node, k)
				}
			}
		}
		if err := it.Next(&ps); err == nil {
			t.Fatalf("%T: no end after %d nodes", src, g.Nodes())
		}
		it.Close()
	}

	// A corrupted cache of the right size is refused when verified.
	raw[100] ^= 1
	bad := filepath.Join(t.TempDir(), "bad.cache")
	if err := os.WriteFile(bad, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenParentCacheFile(ctx, g, bad, true); !errors.Is(err, ErrParentCache) {
		t.Fatalf("corrupt cache: err = %v, want ErrParentCache", err)
	}
	if err := os.WriteFile(bad, raw[:len(raw)-4], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenParentCacheFile(ctx, g, bad, false); !errors.Is(err, ErrParentCache) {
		t.Fatalf("short cache: err = %v, want ErrParentCache", err)
	}
}

func TestWriteParentCacheCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	_, err := WriteParentCache(ctx, mustGraph(t, abi.StackedDrg8MiBV1_1), &buf, 2)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
