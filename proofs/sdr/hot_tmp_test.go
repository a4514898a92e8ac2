package sdr

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
)

func BenchmarkBatchSizeTmp(b *testing.B) {
	for _, proof := range []abi.RegisteredSealProof{abi.StackedDrg8MiBV1_1, abi.StackedDrg512MiBV1_1} {
		g := mustGraph(b, proof)
		n := g.Nodes()
		var bufs [4][]byte
		for i := range bufs {
			var free func()
			bufs[i], free = allocLayer(int(n * 32))
			defer free()
			r := rand.New(rand.NewPCG(uint64(i), 1))
			for j := 0; j < len(bufs[i]); j += 8 {
				v := r.Uint64()
				for k := range 8 {
					bufs[i][j+k] = byte(v >> (8 * k))
				}
			}
		}
		first := n / 2
		parents := make([][abi.Degree]uint32, benchWindow)
		for i := range parents {
			g.Parents(uint32(first+uint64(i)), parents[i][:])
		}
		for _, dist := range []uint64{8, 24} {
			b.Run(fmt.Sprintf("%s/d=%d", proof, dist), func(b *testing.B) {
				ids := []*[32]byte{{7}, {8}}
				bl := newBatchLanes(2, ids, [][]byte{bufs[0], bufs[1]}, [][]byte{bufs[2], bufs[3]})
				b.ResetTimer()
				for i := range b.N {
					w := uint64(i % benchWindow)
					bl.prefetch(&parents[(w+dist)%benchWindow])
					bl.labelNode(first+w, &parents[w])
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2), "ns/label")
			})
		}
	}
}
