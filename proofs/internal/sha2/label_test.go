package sha2

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// labelReference builds the whole 1,248-byte label message with the parent
// blocks repeated cyclically and hashes it with crypto/sha256.
func labelReference(prefix *[LabelPrefixSize]byte, parents []byte) [32]byte {
	n := len(parents) / NodeSize
	msg := append([]byte{}, prefix[:]...)
	for i := range LabelBlocks {
		msg = append(msg, parents[NodeSize*(i%n):NodeSize*(i%n+1)]...)
	}
	out := sha256.Sum256(msg)
	out[31] &= 0x3f
	return out
}

// labelCounts are the parent block counts Label accepts: every even count
// up to 36 (SDR uses 6 and 14) and 37.
func labelCounts() []int {
	var ns []int
	for n := 2; n <= 36; n += 2 {
		ns = append(ns, n)
	}
	return append(ns, LabelBlocks)
}

func TestLabelRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	impls(t, func(name string) {
		for _, n := range labelCounts() {
			for range 20 {
				var prefix [LabelPrefixSize]byte
				fillRandom(rng, prefix[:])
				parents := make([]byte, n*NodeSize)
				fillRandom(rng, parents)
				want := labelReference(&prefix, parents)
				var got [32]byte
				Label(&got, &prefix, parents)
				if got != want {
					t.Fatalf("%s: n=%d: Label = %x, want %x", name, n, got, want)
				}
			}
		}
	})
}

// TestLabelSDRShape uses a real-looking prefix (replica ID, big-endian
// layer and node, zeros) and distinct parents so that a block taken from
// the wrong place in the cycle changes the result.
func TestLabelSDRShape(t *testing.T) {
	var prefix [LabelPrefixSize]byte
	for i := range 32 {
		prefix[i] = byte(i + 1)
	}
	binary.BigEndian.PutUint32(prefix[32:], 2)
	impls(t, func(name string) {
		for _, n := range []int{6, 14} {
			parents := make([]byte, n*NodeSize)
			for i := range parents {
				parents[i] = byte(i/NodeSize + 0x40)
			}
			for node := uint64(1); node < 1<<40; node = node*3 + 1 {
				binary.BigEndian.PutUint64(prefix[36:], node)
				want := labelReference(&prefix, parents)
				var got [32]byte
				Label(&got, &prefix, parents)
				if got != want {
					t.Fatalf("%s: n=%d node=%d: Label = %x, want %x", name, n, node, got, want)
				}
			}
		}
	})
}

// TestLabelAliasing writes the label over its own first parent, as PC1
// never does but the documentation allows.
func TestLabelAliasing(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	impls(t, func(name string) {
		var prefix [LabelPrefixSize]byte
		fillRandom(rng, prefix[:])
		parents := make([]byte, 14*NodeSize)
		fillRandom(rng, parents)
		want := labelReference(&prefix, parents)
		Label((*[32]byte)(parents), &prefix, parents)
		if !bytes.Equal(parents[:32], want[:]) {
			t.Fatalf("%s: in-place Label = %x, want %x", name, parents[:32], want)
		}
	})
}

func TestLabelBadLength(t *testing.T) {
	var prefix [LabelPrefixSize]byte
	var dst [32]byte
	for _, n := range []int{0, 31, 32, 3 * 32, 38 * 32, 40 * 32, 37*32 + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Label with %d parent bytes did not panic", n)
				}
			}()
			Label(&dst, &prefix, make([]byte, n))
		}()
	}
}

// TestLabelFromChain labels consecutive nodes the way PC1 does, with one
// Midstate updated in place (nextMid == mid), against crypto/sha256, and
// checks that a midstate written by one implementation is read correctly
// by the other (the word order is shared).
func TestLabelFromChain(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var prefix [LabelPrefixSize]byte
	fillRandom(rng, prefix[:32])
	binary.BigEndian.PutUint32(prefix[32:], 3)
	impls(t, func(name string) {
		for _, n := range labelCounts() {
			parents := make([]byte, n*NodeSize)
			var mid Midstate
			binary.BigEndian.PutUint64(prefix[36:], 100)
			PrefixMidstate(&mid, &prefix)
			for node := uint64(100); node < 110; node++ {
				fillRandom(rng, parents)
				binary.BigEndian.PutUint64(prefix[36:], node)
				want := labelReference(&prefix, parents)
				next := prefix
				binary.BigEndian.PutUint64(next[36:], node+1)
				var got [32]byte
				LabelFrom(&got, &mid, parents, &next, &mid)
				if got != want {
					t.Fatalf("%s: n=%d node=%d: LabelFrom = %x, want %x", name, n, node, got, want)
				}
				var wantMid Midstate
				prefixMidstate(&wantMid, &next)
				if mid != wantMid {
					t.Fatalf("%s: n=%d node=%d: next midstate %x, want %x", name, n, node, mid.w, wantMid.w)
				}
			}
		}
	})
	if !useSHANI {
		return
	}
	// Midstate from the assembly, label from Go, and the reverse.
	parents := make([]byte, 14*NodeSize)
	fillRandom(rng, parents)
	binary.BigEndian.PutUint64(prefix[36:], 5)
	want := labelReference(&prefix, parents)
	var m0, m1, m2 Midstate
	var got [32]byte
	PrefixMidstate(&m0, &prefix)
	LabelFrom(&got, &m0, parents, &prefix, &m1) // assembly: m1 = midstate of the same prefix
	if m1 != m0 {
		t.Fatalf("assembly midstate %x, Go midstate %x", m1.w, m0.w)
	}
	useSHANI = false
	defer func() { useSHANI = true }()
	LabelFrom(&got, &m1, parents, &prefix, &m2)
	if got != want {
		t.Fatalf("Go label from assembly midstate = %x, want %x", got, want)
	}
}

func TestLabelFromBadLength(t *testing.T) {
	var prefix [LabelPrefixSize]byte
	var dst [32]byte
	var m Midstate
	defer func() {
		if recover() == nil {
			t.Error("LabelFrom with 7 parent blocks did not panic")
		}
	}()
	LabelFrom(&dst, &m, make([]byte, 7*NodeSize), &prefix, &m)
}

// FuzzLabel compares both implementations with crypto/sha256; the input is
// the prefix followed by parent data cut to an accepted block count.
func FuzzLabel(f *testing.F) {
	f.Add(make([]byte, 64+6*32))
	f.Add(bytes.Repeat([]byte{0xff}, 64+14*32))
	f.Add(bytes.Repeat([]byte{0xa5, 0x5a}, (64+37*32)/2))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < LabelPrefixSize+2*NodeSize {
			return
		}
		prefix := (*[LabelPrefixSize]byte)(data)
		n := min((len(data)-LabelPrefixSize)/NodeSize, LabelBlocks)
		if n != LabelBlocks {
			n &^= 1
		}
		parents := data[LabelPrefixSize : LabelPrefixSize+n*NodeSize]
		want := labelReference(prefix, parents)
		impls(t, func(name string) {
			var got [32]byte
			Label(&got, prefix, parents)
			if got != want {
				t.Fatalf("%s: n=%d: Label = %x, want %x", name, n, got, want)
			}
			var mid Midstate
			PrefixMidstate(&mid, prefix)
			LabelFrom(&got, &mid, parents, prefix, &mid)
			if got != want {
				t.Fatalf("%s: n=%d: LabelFrom = %x, want %x", name, n, got, want)
			}
		})
	})
}

// BenchmarkLabel is one SDR label hash (20 compressions) from a prefix and
// 14 unique parents, the layer ≥ 2 shape; BenchmarkStdlibLabel is the
// crypto/sha256 equivalent over the pre-built 1,248-byte message.
func BenchmarkLabel(b *testing.B) {
	var prefix [LabelPrefixSize]byte
	parents := make([]byte, 14*NodeSize)
	fillRandom(rand.New(rand.NewPCG(1, 2)), parents)
	impls(b, func(name string) {
		b.Run(name, func(b *testing.B) {
			var out [32]byte
			b.SetBytes(LabelPrefixSize + LabelBlocks*NodeSize)
			b.ReportAllocs()
			m := startCPU(b)
			for i := 0; b.Loop(); i++ {
				prefix[40] = byte(i)
				Label(&out, &prefix, parents)
				prefix[0] = out[0]
			}
			m.stop("label", 1, LabelPrefixSize+LabelBlocks*NodeSize)
		})
	})
}

// BenchmarkLabelFrom is the pipelined form PC1 uses: 19 compressions on
// the chain, the next node's prefix block alongside.
func BenchmarkLabelFrom(b *testing.B) {
	var prefix [LabelPrefixSize]byte
	parents := make([]byte, 14*NodeSize)
	fillRandom(rand.New(rand.NewPCG(1, 2)), parents)
	impls(b, func(name string) {
		b.Run(name, func(b *testing.B) {
			var out [32]byte
			var mid Midstate
			PrefixMidstate(&mid, &prefix)
			b.SetBytes(LabelPrefixSize + LabelBlocks*NodeSize)
			b.ReportAllocs()
			m := startCPU(b)
			for i := 0; b.Loop(); i++ {
				prefix[40] = byte(i)
				LabelFrom(&out, &mid, parents, &prefix, &mid)
				parents[0] = out[0]
			}
			m.stop("label", 1, LabelPrefixSize+LabelBlocks*NodeSize)
		})
	})
}

func BenchmarkStdlibLabel(b *testing.B) {
	var msg [LabelPrefixSize + LabelBlocks*NodeSize]byte
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	m := startCPU(b)
	for i := 0; b.Loop(); i++ {
		msg[40] = byte(i)
		out := sha256.Sum256(msg[:])
		msg[0] = out[0]
	}
	m.stop("label", 1, float64(len(msg)))
}
