package sdr_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/sdr"
)

func mustHex32(s string) (out [32]byte) {
	b, _ := hex.DecodeString(s)
	copy(out[:], b)
	return out
}

// The replica id of the golden 2KiB sector (miner t01002, sector 1).
func ExampleReplicaID() {
	ticket := mustHex32("c3a1ca12b981a8a59f9a4764edf3398edd239b2afa8ca2bbd57e0091ec193aa0")
	commD := mustHex32("fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833")
	id := sdr.ReplicaID(sdr.ProverID(1002), 1, ticket, commD, abi.StackedDrg2KiBV1_1)
	fmt.Printf("%x\n", id)
	// Output: a68a0d7a75fe874043fceffc91b63795020146a2cb3df3a68e6cf500d66ee134
}

// The 14 parents of a node: 6 DRG parents in the same layer, then 8
// expander parents in the previous layer.
func ExampleGraph_Parents() {
	g, err := sdr.NewGraph(abi.StackedDrg2KiBV1_1)
	if err != nil {
		panic(err)
	}
	var ps [abi.Degree]uint32
	g.Parents(63, ps[:])
	fmt.Println(ps[:abi.BaseDegree], ps[abi.BaseDegree:])
	// Output: [62 15 42 62 61 62] [0 15 30 30 28 42 49 38]
}

// PC1 of the golden 2KiB sector: two layer files in the cache directory.
func ExampleRunPC1() {
	dir, err := os.MkdirTemp("", "pc1")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	rid := mustHex32("a68a0d7a75fe874043fceffc91b63795020146a2cb3df3a68e6cf500d66ee134")
	res, err := sdr.RunPC1(context.Background(), dir, rid, abi.StackedDrg2KiBV1_1,
		&sdr.PC1Options{ParentCacheDir: filepath.Join(dir, "parents")})
	if err != nil {
		panic(err)
	}
	label, _ := os.ReadFile(sdr.LayerPath(dir, 2))
	fmt.Println(sdr.LayerFileName(2), len(res.LayerDigests))
	fmt.Printf("%x\n", label[:32])
	// Output:
	// sc-02-data-layer-2.dat 2
	// 06337681c0dc744732443bf231fc309ca851a20d3acd5f207b5f3d302b352f0f
}
