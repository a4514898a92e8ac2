package sha2

import (
	"math/rand/v2"
	"testing"
)

// TestLabel4Random checks all four lanes of Label4 against crypto/sha256
// for every parent count it accepts, with independent inputs per lane so a
// lane that reads another's prefix or parents is caught.
func TestLabel4Random(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	impls(t, func(name string) {
		for n := 2; n <= Label4MaxParents; n += 2 {
			for range 10 {
				var dst, want [4][32]byte
				var pre [4][LabelPrefixSize]byte
				var par [4][]byte
				for i := range 4 {
					fillRandom(rng, pre[i][:])
					par[i] = make([]byte, n*NodeSize)
					fillRandom(rng, par[i])
					want[i] = labelReference(&pre[i], par[i])
				}
				Label4([4]*[32]byte{&dst[0], &dst[1], &dst[2], &dst[3]},
					[4]*[LabelPrefixSize]byte{&pre[0], &pre[1], &pre[2], &pre[3]}, par)
				if dst != want {
					t.Fatalf("%s: n=%d: Label4 = %x, want %x", name, n, dst, want)
				}
			}
		}
	})
}

// TestLabel4Aliasing writes each lane's output over its own first parent
// block: the contract says dst is written after all input is read.
func TestLabel4Aliasing(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	impls(t, func(name string) {
		var pre [4][LabelPrefixSize]byte
		var par [4][]byte
		var want [4][32]byte
		var dst [4]*[32]byte
		for i := range 4 {
			fillRandom(rng, pre[i][:])
			par[i] = make([]byte, 14*NodeSize)
			fillRandom(rng, par[i])
			want[i] = labelReference(&pre[i], par[i])
			dst[i] = (*[32]byte)(par[i])
		}
		Label4(dst, [4]*[LabelPrefixSize]byte{&pre[0], &pre[1], &pre[2], &pre[3]}, par)
		for i := range 4 {
			if *dst[i] != want[i] {
				t.Fatalf("%s: aliased Label4 lane %d differs", name, i)
			}
		}
	})
}

func TestLabel4Rejects(t *testing.T) {
	var d [32]byte
	var p [LabelPrefixSize]byte
	dst := [4]*[32]byte{&d, &d, &d, &d}
	pre := [4]*[LabelPrefixSize]byte{&p, &p, &p, &p}
	ok := make([]byte, 14*NodeSize)
	for _, tc := range []struct {
		name string
		par  [4][]byte
	}{
		{"lanes differ", [4][]byte{ok, ok, ok, make([]byte, 6*NodeSize)}},
		{"too many parents", [4][]byte{make([]byte, 16*NodeSize), make([]byte, 16*NodeSize), make([]byte, 16*NodeSize), make([]byte, 16*NodeSize)}},
		{"odd count", [4][]byte{make([]byte, 5*NodeSize), make([]byte, 5*NodeSize), make([]byte, 5*NodeSize), make([]byte, 5*NodeSize)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("did not panic")
				}
			}()
			Label4(dst, pre, tc.par)
		})
	}
}

// BenchmarkLabel4 reports the time per label (four per iteration), to set
// beside BenchmarkLabel2 and BenchmarkStdlibLabel from the same run.
func BenchmarkLabel4(b *testing.B) {
	var pre [4][LabelPrefixSize]byte
	var par [4][]byte
	for i := range 4 {
		par[i] = make([]byte, 14*NodeSize)
		fillRandom(rand.New(rand.NewPCG(uint64(i), 2)), par[i])
	}
	impls(b, func(name string) {
		b.Run(name, func(b *testing.B) {
			var o [4][32]byte
			dst := [4]*[32]byte{&o[0], &o[1], &o[2], &o[3]}
			prefix := [4]*[LabelPrefixSize]byte{&pre[0], &pre[1], &pre[2], &pre[3]}
			b.SetBytes(4 * (LabelPrefixSize + LabelBlocks*NodeSize))
			b.ReportAllocs()
			m := startCPU(b)
			for i := 0; b.Loop(); i++ {
				for k := range 4 {
					pre[k][40] = byte(i)
				}
				Label4(dst, prefix, par)
				for k := range 4 {
					par[k][0] = o[k][0]
				}
			}
			m.stop("label", 4, 4*(LabelPrefixSize+LabelBlocks*NodeSize))
		})
	})
}
