package sdr

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
)

// graphVectors mirrors testdata/graph.json (copied from shared/vectors).
type graphVectors struct {
	Examples2KiB struct {
		DRG map[string][]uint32 `json:"drg"`
		Exp map[string][]uint32 `json:"exp"`
	} `json:"examples_2KiB_id5"`
	Examples32GiB struct {
		DRG map[string][]uint32 `json:"drg"`
	} `json:"examples_32GiB_id8"`
	DRGSeed2KiB     string            `json:"drg_seed_2KiB_id5"`
	FeistelKeys2KiB []string          `json:"feistel_keys_2KiB_id5"`
	CacheDigests    map[string]string `json:"parent_cache_sha256"`
}

func loadGraphVectors(t testing.TB) *graphVectors {
	t.Helper()
	b, err := os.ReadFile("testdata/graph.json")
	if err != nil {
		t.Fatal(err)
	}
	var v graphVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func mustGraph(t testing.TB, p abi.RegisteredSealProof) *Graph {
	t.Helper()
	g, err := NewGraph(p)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGraphSeeds(t *testing.T) {
	v := loadGraphVectors(t)
	g := mustGraph(t, abi.StackedDrg2KiBV1_1)
	seed := g.DRGSeed()
	if got := hex.EncodeToString(seed[:]); got != v.DRGSeed2KiB {
		t.Errorf("drg seed = %s, want %s", got, v.DRGSeed2KiB)
	}
	keys := g.FeistelKeys()
	for i, want := range v.FeistelKeys2KiB {
		if got := fmt.Sprintf("0x%016x", keys[i]); got != want {
			t.Errorf("feistel key %d = %s, want %s", i, got, want)
		}
	}
}

func TestGraphParentExamples(t *testing.T) {
	v := loadGraphVectors(t)
	type example struct {
		proof abi.RegisteredSealProof
		kind  string
		node  string
		want  []uint32
	}
	var cases []example
	for n, want := range v.Examples2KiB.DRG {
		cases = append(cases, example{abi.StackedDrg2KiBV1_1, "drg", n, want})
	}
	for n, want := range v.Examples2KiB.Exp {
		cases = append(cases, example{abi.StackedDrg2KiBV1_1, "exp", n, want})
	}
	for n, want := range v.Examples32GiB.DRG {
		cases = append(cases, example{abi.StackedDrg32GiBV1_1, "drg", n, want})
	}
	if len(cases) != 9 {
		t.Fatalf("loaded %d examples, want 9", len(cases))
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v/%s/%s", c.proof, c.kind, c.node), func(t *testing.T) {
			g := mustGraph(t, c.proof)
			n, err := strconv.ParseUint(c.node, 10, 32)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]uint32, len(c.want))
			if c.kind == "drg" {
				g.BaseParents(uint32(n), got)
			} else {
				g.ExpParents(uint32(n), got)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("parents(%d) = %v, want %v", n, got, c.want)
			}
			var all [abi.Degree]uint32
			g.Parents(uint32(n), all[:])
			part := all[:abi.BaseDegree]
			if c.kind == "exp" {
				part = all[abi.BaseDegree:]
			}
			if !slices.Equal(part, c.want) {
				t.Errorf("Parents(%d) = %v, want %v in the %s part", n, all, c.want, c.kind)
			}
		})
	}
}

// TestFeistelTable checks that the memoised round table gives the same
// expander parents as direct BLAKE2b evaluation, for every id and size.
func TestFeistelTable(t *testing.T) {
	for _, p := range abi.SealProofs() {
		direct := mustGraph(t, p)
		warm := mustGraph(t, p)
		if p.SectorSize() <= abi.SectorSize512MiB {
			warm.Warm()
		} else if testing.Short() {
			continue
		} else {
			warm.Warm() // 32/64GiB: 3·2^17 BLAKE2b calls
		}
		var a, b [abi.ExpansionDegree]uint32
		for _, node := range []uint64{0, 1, 2, 1000, direct.Nodes()/2 + 3, direct.Nodes() - 1} {
			direct.ExpParents(uint32(node), a[:])
			warm.ExpParents(uint32(node), b[:])
			if a != b {
				t.Errorf("%v node %d: direct %v, table %v", p, node, a, b)
			}
			for _, x := range a {
				if uint64(x) >= direct.Nodes() {
					t.Errorf("%v node %d: parent %d out of range", p, node, x)
				}
			}
		}
	}
}
