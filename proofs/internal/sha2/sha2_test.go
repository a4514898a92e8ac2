package sha2

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
)

// reference is the node hash built from crypto/sha256, the oracle for
// every test here.
func reference(pair []byte) [32]byte {
	out := sha256.Sum256(pair)
	out[31] &= 0x3f
	return out
}

// impls runs f once per available implementation, with useSHANI set
// accordingly (the test hook that forces the portable path on SHA-NI
// machines).
func impls(t testing.TB, f func(name string)) {
	saved := useSHANI
	defer func() { useSHANI = saved }()
	if saved {
		useSHANI = true
		f("shani")
	}
	useSHANI = false
	f("generic")
}

// TestSHANIDetected makes sure the assembly is what the other tests run on
// a machine that advertises SHA-NI; otherwise a broken feature check would
// silently leave the assembly untested.
func TestSHANIDetected(t *testing.T) {
	t.Logf("useSHANI = %v (GOARCH %s)", useSHANI, runtime.GOARCH)
	if !haveAsm || runtime.GOOS != "linux" {
		t.Skip("feature cross-check needs the amd64 assembly on linux")
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip(err)
	}
	flags := " " + string(info) + " "
	if strings.Contains(flags, " sha_ni ") && strings.Contains(flags, " avx ") && !useSHANI {
		t.Fatal("CPU reports sha_ni and avx but the SHA-NI code is not selected")
	}
}

// TestKnownAnswers pins values that do not come from crypto/sha256: the
// first levels of the zero-piece commitments (CommP of 64, 128 and 256
// zero bytes, rust-fil-proofs/go-fil-commp's published table).
func TestKnownAnswers(t *testing.T) {
	want := []string{
		"f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb0b",
		"3731bb99ac689f66eef5973e4a94da188f4ddcae580724fc6f3fd60dfd488333",
		"642a607ef886b004bf2c1978463ae1d4693ac0f410eb2d1b7a47fe205e5e750f",
	}
	impls(t, func(name string) {
		var z [32]byte
		for level, w := range want {
			HashPair(&z, &z, &z)
			if got := hex.EncodeToString(z[:]); got != w {
				t.Errorf("%s: zero commitment level %d = %s, want %s", name, level+1, got, w)
			}
		}
	})
}

// TestHashPairRandom compares HashPair with the reference on random pairs.
func TestHashPairRandom(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	rng := rand.New(rand.NewPCG(1, 2))
	impls(t, func(name string) {
		var pair [64]byte
		for i := range n {
			fillRandom(rng, pair[:])
			a, b := (*[32]byte)(pair[:32]), (*[32]byte)(pair[32:])
			var got [32]byte
			HashPair(&got, a, b)
			if want := reference(pair[:]); got != want {
				t.Fatalf("%s: pair %d %x: got %x, want %x", name, i, pair, got, want)
			}
		}
	})
}

// TestHashPairAliasing checks that dst may be either input.
func TestHashPairAliasing(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	impls(t, func(name string) {
		for range 100 {
			var a, b [32]byte
			fillRandom(rng, a[:])
			fillRandom(rng, b[:])
			want := reference(append(a[:], b[:]...))
			x, y := a, b
			HashPair(&x, &x, &y)
			if x != want {
				t.Fatalf("%s: dst = a: got %x, want %x", name, x, want)
			}
			x, y = a, b
			HashPair(&y, &x, &y)
			if y != want {
				t.Fatalf("%s: dst = b: got %x, want %x", name, y, want)
			}
		}
	})
}

// TestEdgePatterns covers inputs random data rarely produces: constant
// bytes, every single set bit and every single cleared bit, and inputs
// whose digest has the truncated bits set or clear.
func TestEdgePatterns(t *testing.T) {
	var cases [][64]byte
	for _, c := range []byte{0x00, 0xff, 0x80, 0x01, 0x3f, 0xc0, 0x55, 0xaa} {
		var p [64]byte
		for i := range p {
			p[i] = c
		}
		cases = append(cases, p)
	}
	for bit := range 512 {
		var one, zero [64]byte
		for i := range zero {
			zero[i] = 0xff
		}
		one[bit/8] |= 1 << (bit % 8)
		zero[bit/8] &^= 1 << (bit % 8)
		cases = append(cases, one, zero)
	}
	var ascending [64]byte
	for i := range ascending {
		ascending[i] = byte(i)
	}
	cases = append(cases, ascending)

	impls(t, func(name string) {
		// One call over all cases also exercises the two-way interleaved
		// path with unrelated neighbours.
		src := make([]byte, 0, 64*len(cases))
		for _, c := range cases {
			src = append(src, c[:]...)
		}
		dst := make([]byte, len(src)/2)
		HashPairs(dst, src)
		for i, c := range cases {
			want := reference(c[:])
			if !bytes.Equal(dst[32*i:32*i+32], want[:]) {
				t.Errorf("%s: case %d %x: HashPairs %x, want %x", name, i, c, dst[32*i:32*i+32], want)
			}
			var got [32]byte
			HashPair(&got, (*[32]byte)(c[:32]), (*[32]byte)(c[32:]))
			if got != want {
				t.Errorf("%s: case %d %x: HashPair %x, want %x", name, i, c, got, want)
			}
		}
	})
}

// TestHashPairsLevels hashes levels of every small length (odd and even,
// so both the interleaved loop and its one-pair tail run), into a separate
// buffer and in place.
func TestHashPairsLevels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	impls(t, func(name string) {
		for n := 0; n <= 67; n++ {
			src := make([]byte, 64*n)
			fillRandom(rng, src)
			want := make([]byte, 0, 32*n)
			for i := range n {
				r := reference(src[64*i : 64*i+64])
				want = append(want, r[:]...)
			}

			// Guard bytes around dst catch writes past the end.
			buf := make([]byte, 32*n+64)
			for i := range buf {
				buf[i] = 0xa5
			}
			dst := buf[32 : 32+32*n]
			HashPairs(dst, src)
			if !bytes.Equal(dst, want) {
				t.Fatalf("%s: n=%d: separate dst differs", name, n)
			}
			for i, c := range buf {
				if (i < 32 || i >= 32+32*n) && c != 0xa5 {
					t.Fatalf("%s: n=%d: byte %d outside dst written", name, n, i)
				}
			}

			inPlace := bytes.Clone(src)
			HashPairs(inPlace[:32*n], inPlace)
			if !bytes.Equal(inPlace[:32*n], want) {
				t.Fatalf("%s: n=%d: in-place result differs", name, n)
			}
		}
	})
}

// TestHashPairsBulk runs tens of thousands of random pairs through
// HashPairs, the path tree building uses.
func TestHashPairsBulk(t *testing.T) {
	n := 40000
	if testing.Short() {
		n = 4000
	}
	rng := rand.New(rand.NewPCG(7, 8))
	src := make([]byte, 64*n)
	fillRandom(rng, src)
	impls(t, func(name string) {
		dst := make([]byte, 32*n)
		HashPairs(dst, src)
		for i := range n {
			want := reference(src[64*i : 64*i+64])
			if !bytes.Equal(dst[32*i:32*i+32], want[:]) {
				t.Fatalf("%s: pair %d: got %x, want %x", name, i, dst[32*i:32*i+32], want)
			}
		}
	})
}

// TestHashPairsBadLength checks the documented panic on inconsistent
// lengths.
func TestHashPairsBadLength(t *testing.T) {
	for _, tc := range []struct{ dst, src int }{
		{32, 32}, {32, 128}, {16, 32}, {0, 64}, {33, 66}, {64, 64},
	} {
		t.Run(fmt.Sprintf("%d<-%d", tc.dst, tc.src), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			HashPairs(make([]byte, tc.dst), make([]byte, tc.src))
		})
	}
}

// TestPadWK derives the padding block's W+K from its bytes (0x80, 55 zero
// bytes, the bit length 512 as a big-endian uint64) with a plain schedule,
// independently of the word-level construction of padWK.
func TestPadWK(t *testing.T) {
	var block [64]byte
	block[0] = 0x80
	binary.BigEndian.PutUint64(block[56:], 64*8)
	var w [64]uint32
	for i := range 16 {
		w[i] = binary.BigEndian.Uint32(block[4*i:])
	}
	for i := 16; i < 64; i++ {
		s0 := bits.RotateLeft32(w[i-15], -7) ^ bits.RotateLeft32(w[i-15], -18) ^ w[i-15]>>3
		s1 := bits.RotateLeft32(w[i-2], -17) ^ bits.RotateLeft32(w[i-2], -19) ^ w[i-2]>>10
		w[i] = w[i-16] + s0 + w[i-7] + s1
	}
	for i := range w {
		if got, want := padWK[i], w[i]+k256[i]; got != want {
			t.Errorf("padWK[%d] = %#08x, want %#08x", i, got, want)
		}
	}
}

// FuzzHashPairs compares both implementations with crypto/sha256 on
// arbitrary levels (the input is cut to whole pairs).
func FuzzHashPairs(f *testing.F) {
	f.Add(make([]byte, 64))
	f.Add(bytes.Repeat([]byte{0xff}, 192))
	f.Add([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := data[:len(data)/64*64]
		n := len(src) / 64
		want := make([]byte, 0, 32*n)
		for i := range n {
			r := reference(src[64*i : 64*i+64])
			want = append(want, r[:]...)
		}
		impls(t, func(name string) {
			dst := make([]byte, 32*n)
			HashPairs(dst, src)
			if !bytes.Equal(dst, want) {
				t.Fatalf("%s: HashPairs differs from crypto/sha256", name)
			}
			if n > 0 {
				var got [32]byte
				HashPair(&got, (*[32]byte)(src[:32]), (*[32]byte)(src[32:64]))
				if !bytes.Equal(got[:], want[:32]) {
					t.Fatalf("%s: HashPair differs from crypto/sha256", name)
				}
			}
		})
	})
}

func fillRandom(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}
