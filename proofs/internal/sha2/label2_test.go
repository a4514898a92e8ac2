package sha2

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestLabel2Random checks both lanes of Label2 against crypto/sha256 for
// every parent count Label accepts, with independent inputs per lane so a
// lane that reads the other's prefix or parents is caught.
func TestLabel2Random(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	impls(t, func(name string) {
		for _, n := range labelCounts() {
			for range 10 {
				var p0, p1 [LabelPrefixSize]byte
				fillRandom(rng, p0[:])
				fillRandom(rng, p1[:])
				par0 := make([]byte, n*NodeSize)
				par1 := make([]byte, n*NodeSize)
				fillRandom(rng, par0)
				fillRandom(rng, par1)
				want0, want1 := labelReference(&p0, par0), labelReference(&p1, par1)
				var got0, got1 [32]byte
				Label2(&got0, &got1, &p0, &p1, par0, par1)
				if got0 != want0 || got1 != want1 {
					t.Fatalf("%s: n=%d: Label2 = %x, %x, want %x, %x", name, n, got0, got1, want0, want1)
				}
			}
		}
	})
}

// TestLabel2Aliasing writes each lane's output over its own first parent
// block, as batch PC1 never does but the contract allows.
func TestLabel2Aliasing(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	impls(t, func(name string) {
		var p0, p1 [LabelPrefixSize]byte
		fillRandom(rng, p0[:])
		fillRandom(rng, p1[:])
		par0 := make([]byte, 14*NodeSize)
		par1 := make([]byte, 14*NodeSize)
		fillRandom(rng, par0)
		fillRandom(rng, par1)
		want0, want1 := labelReference(&p0, par0), labelReference(&p1, par1)
		Label2((*[32]byte)(par0), (*[32]byte)(par1), &p0, &p1, par0, par1)
		if [32]byte(par0[:32]) != want0 || [32]byte(par1[:32]) != want1 {
			t.Fatalf("%s: aliased Label2 differs", name)
		}
	})
}

func TestLabel2Mismatch(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Label2 with lanes of different lengths did not panic")
		}
	}()
	var d0, d1 [32]byte
	var p [LabelPrefixSize]byte
	Label2(&d0, &d1, &p, &p, make([]byte, 14*NodeSize), make([]byte, 6*NodeSize))
}

// BenchmarkLabel2 reports the time per label (two per iteration), to set
// beside BenchmarkLabel and BenchmarkStdlibLabel from the same run.
func BenchmarkLabel2(b *testing.B) {
	var p0, p1 [LabelPrefixSize]byte
	par0 := make([]byte, 14*NodeSize)
	par1 := make([]byte, 14*NodeSize)
	fillRandom(rand.New(rand.NewPCG(1, 2)), par0)
	fillRandom(rand.New(rand.NewPCG(3, 4)), par1)
	impls(b, func(name string) {
		b.Run(name, func(b *testing.B) {
			var o0, o1 [32]byte
			b.SetBytes(2 * (LabelPrefixSize + LabelBlocks*NodeSize))
			b.ReportAllocs()
			m := startCPU(b)
			for i := 0; b.Loop(); i++ {
				p0[40], p1[40] = byte(i), byte(i)
				Label2(&o0, &o1, &p0, &p1, par0, par1)
				par0[0], par1[0] = o0[0], o1[0]
			}
			m.stop("label", 2, 2*(LabelPrefixSize+LabelBlocks*NodeSize))
		})
	})
}

// BenchmarkRNDS2 measures SHA256RNDS2 on this CPU: with one chain the
// figure is its latency, with more its throughput. A label is 20
// compressions of 32 such instructions, so the throughput bounds the
// fastest label any interleaving of SHA-NI streams can reach here
// (640 × ns/rnds2), and shows when a third stream would not help: on an
// Intel Xeon (Sapphire Rapids) 2 chains already reach the throughput,
// about 3 cycles per instruction; on an AMD EPYC with AVX-512 the time per
// instruction falls as 1/chains up to 4 (1.10 ns → 0.27 ns), which is what
// Label4 is for.
func BenchmarkRNDS2(b *testing.B) {
	if !useSHANI {
		b.Skip("no SHA-NI")
	}
	for chains := 1; chains <= 4; chains++ {
		b.Run(fmt.Sprintf("chains=%d", chains), func(b *testing.B) {
			rnds2Probe(b.N, chains)
			per := float64(b.Elapsed().Nanoseconds()) / float64(b.N*8*chains)
			b.ReportMetric(per, "ns/rnds2")
			b.ReportMetric(640*per, "ns/label-floor")
		})
	}
}
