package poseidon

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

type vectorFile struct {
	Vectors []struct {
		Arity int    `json:"arity"`
		Out   string `json:"out"`
	} `json:"vectors"`
	RoundConstantsFirst map[string][]string `json:"round_constants_first"`
	PartialRounds       map[string]int      `json:"partial_rounds"`
}

func loadVectors(t *testing.T) vectorFile {
	t.Helper()
	raw, err := os.ReadFile("testdata/poseidon.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) == 0 {
		t.Fatal("no vectors in testdata/poseidon.json")
	}
	return v
}

// seq returns the field elements 0, 1, …, n−1 (neptune's test preimage).
func seq(n int) []fr.Element {
	out := make([]fr.Element, n)
	for i := range out {
		out[i].SetUint64(uint64(i))
	}
	return out
}

func TestNeptuneVectors(t *testing.T) {
	v := loadVectors(t)
	for _, tc := range v.Vectors {
		in := seq(tc.Arity)
		c := mustConstants(tc.Arity)
		want := tc.Out
		got, err := Hash(in)
		if err != nil {
			t.Fatalf("arity %d: %v", tc.Arity, err)
		}
		if g := hexLE(got); g != want {
			t.Errorf("arity %d optimised: got %s want %s", tc.Arity, g, want)
		}
		if g := hexLE(c.hashReference(in)); g != want {
			t.Errorf("arity %d reference: got %s want %s", tc.Arity, g, want)
		}
		// The fixed-arity entry points must agree with the generic one.
		var fixed fr.Element
		switch tc.Arity {
		case 2:
			fixed = Hash2(in[0], in[1])
		case 4:
			fixed = Hash4((*[4]fr.Element)(in))
		case 8:
			fixed = Hash8((*[8]fr.Element)(in))
		case 11:
			fixed = Hash11((*[11]fr.Element)(in))
		default:
			continue
		}
		if g := hexLE(fixed); g != want {
			t.Errorf("arity %d fixed entry point: got %s want %s", tc.Arity, g, want)
		}
	}
}

func hexLE(e fr.Element) string {
	b := ElementToBytes(e)
	return hex.EncodeToString(b[:])
}

func TestRoundNumbers(t *testing.T) {
	// neptune round_numbers.rs test_round_numbers_against_known_values.
	known := []struct{ t, rp int }{
		{2, 55}, {3, 55}, {4, 56}, {5, 56}, {6, 56}, {7, 56}, {8, 57}, {9, 57},
		{10, 57}, {11, 57}, {12, 57}, {13, 57}, {14, 57}, {15, 57}, {16, 59},
		{17, 59}, {25, 59}, {37, 60}, {65, 61},
	}
	for _, k := range known {
		rf, rp := RoundNumbers(k.t)
		if rf != 8 || rp != k.rp {
			t.Errorf("t=%d: got (%d,%d) want (8,%d)", k.t, rf, rp, k.rp)
		}
	}
	v := loadVectors(t)
	for name, want := range v.PartialRounds {
		var w int
		if _, err := fmtSscanf(name, &w); err != nil {
			t.Fatalf("bad key %q", name)
		}
		if _, rp := RoundNumbers(w); rp != want {
			t.Errorf("%s: R_P %d want %d", name, rp, want)
		}
	}
}

func TestGrainConstants(t *testing.T) {
	v := loadVectors(t)
	c3 := mustConstants(2)
	for i, want := range v.RoundConstantsFirst["t3"] {
		if got := "0x" + bigHex(c3.rc[i]); got != want {
			t.Errorf("t3 rc[%d] = %s want %s", i, got, want)
		}
	}
	// neptune parameters/round_constants-1-1-255-9-8-57-…txt: first three
	// and last of the 585 constants for t = 9.
	c9 := mustConstants(8)
	if len(c9.rc) != 585 {
		t.Fatalf("t9: %d constants, want 585", len(c9.rc))
	}
	for _, k := range []struct {
		i    int
		want string
	}{
		{0, "6ce90d12c4045fe08c3caddb776dd84ac52b4ae7e48cd49443984154f2f4c2f9"},
		{1, "0ccd9b480c84022b25a75b52c8e89d80b4fa6378d32e58f3a175504940bcec39"},
		{2, "513ad11016ab7bb8c7ce9ae51256040e062487edf7168d206ba1b86dfe963629"},
		{584, "3b3a75eb91b0f723bcc4ab7e449e4a011b8960063efe74670c05e545519d9a8c"},
	} {
		if got := bigHex(c9.rc[k.i]); got != k.want {
			t.Errorf("t9 rc[%d] = %s want %s", k.i, got, k.want)
		}
	}
}

func bigHex(e fr.Element) string {
	var b big.Int
	e.BigInt(&b)
	s := b.Text(16)
	for len(s) < 64 {
		s = "0" + s
	}
	return s
}

func TestMDS(t *testing.T) {
	for _, arity := range []int{2, 4, 8, 11} {
		c := mustConstants(arity)
		tw := c.width
		var one fr.Element
		for i := range tw {
			for j := range tw {
				// M[i][j]·(i+t+j) must be 1.
				var d, p fr.Element
				d.SetUint64(uint64(i + tw + j))
				p.Mul(&c.mds[i][j], &d)
				if !p.Equal(one.SetOne()) {
					t.Fatalf("arity %d: M[%d][%d] wrong", arity, i, j)
				}
			}
		}
	}
}

// TestOptimisedMatchesReference checks the sparse schedule against the
// textbook permutation on random inputs for every supported arity.
func TestOptimisedMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for arity := MinArity; arity <= MaxArity; arity++ {
		c := mustConstants(arity)
		for range 20 {
			in := randElems(rng, arity)
			if a, b := c.hash(in), c.hashReference(in); !a.Equal(&b) {
				t.Fatalf("arity %d: optimised %s != reference %s", arity, hexLE(a), hexLE(b))
			}
		}
	}
}

func randElems(rng *rand.Rand, n int) []fr.Element {
	out := make([]fr.Element, n)
	for i := range out {
		var b [32]byte
		for j := 0; j < 32; j += 8 {
			u := rng.Uint64()
			for k := range 8 {
				b[j+k] = byte(u >> (8 * k))
			}
		}
		b[31] &= 0x3f
		out[i], _ = ElementFromBytes(b)
	}
	return out
}

func TestHashArityErrors(t *testing.T) {
	for _, n := range []int{0, MaxArity + 1, 40} {
		if _, err := Hash(make([]fr.Element, n)); !errors.Is(err, ErrArity) {
			t.Errorf("arity %d: err = %v, want ErrArity", n, err)
		}
	}
}

func TestElementBytes(t *testing.T) {
	var mod [32]byte
	p := fr.Modulus().Bytes() // big-endian
	for i := range p {
		mod[len(p)-1-i] = p[i]
	}
	cases := []struct {
		name string
		b    [32]byte
		ok   bool
	}{
		{"zero", [32]byte{}, true},
		{"one", [32]byte{1}, true},
		{"p-1", func() [32]byte { m := mod; m[0]--; return m }(), true},
		{"p", mod, false},
		{"all-ff", func() [32]byte {
			var m [32]byte
			for i := range m {
				m[i] = 0xff
			}
			return m
		}(), false},
		{"2^254-1", func() [32]byte {
			var m [32]byte
			for i := range m {
				m[i] = 0xff
			}
			m[31] = 0x3f
			return m
		}(), true},
	}
	for _, tc := range cases {
		e, err := ElementFromBytes(tc.b)
		if tc.ok != (err == nil) {
			t.Errorf("%s: err = %v", tc.name, err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrNonCanonical) {
				t.Errorf("%s: error %v is not ErrNonCanonical", tc.name, err)
			}
			continue
		}
		if back := ElementToBytes(e); back != tc.b {
			t.Errorf("%s: round trip %x != %x", tc.name, back, tc.b)
		}
	}
}

func FuzzElementFromBytes(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) != 32 {
			return
		}
		b := [32]byte(in)
		e, err := ElementFromBytes(b)
		var v big.Int
		for i := 31; i >= 0; i-- {
			v.Lsh(&v, 8)
			v.Or(&v, big.NewInt(int64(b[i])))
		}
		canonical := v.Cmp(fr.Modulus()) < 0
		if canonical != (err == nil) {
			t.Fatalf("%x: canonical=%v err=%v", b, canonical, err)
		}
		if err == nil && ElementToBytes(e) != b {
			t.Fatalf("%x: round trip mismatch", b)
		}
	})
}

var sink fr.Element

func BenchmarkHash2(b *testing.B) {
	in := seq(2)
	b.ReportAllocs()
	defer startCPU().report(b)
	for b.Loop() {
		sink = Hash2(in[0], in[1])
	}
}

func BenchmarkHash8(b *testing.B) {
	in := (*[8]fr.Element)(seq(8))
	b.ReportAllocs()
	defer startCPU().report(b)
	for b.Loop() {
		sink = Hash8(in)
	}
}

func BenchmarkHash11(b *testing.B) {
	in := (*[11]fr.Element)(seq(11))
	b.ReportAllocs()
	defer startCPU().report(b)
	for b.Loop() {
		sink = Hash11(in)
	}
}

func BenchmarkHash8Reference(b *testing.B) {
	c := mustConstants(8)
	in := seq(8)
	b.ReportAllocs()
	defer startCPU().report(b)
	for b.Loop() {
		sink = c.hashReference(in)
	}
}

func BenchmarkFrMul(b *testing.B) {
	x, y := seq(3)[1], seq(3)[2]
	x.SetUint64(0x1234567890abcdef)
	b.ReportAllocs()
	defer startCPU().report(b)
	for b.Loop() {
		x.Mul(&x, &y)
	}
	sink = x
}

// TestConcurrentUse hashes from several goroutines, including the first use
// of an arity's constants, and checks every result against a sequential run.
func TestConcurrentUse(t *testing.T) {
	in := seq(13)
	want, err := Hash(in)
	if err != nil {
		t.Fatal(err)
	}
	want8 := Hash8((*[8]fr.Element)(in[:8]))
	errs := make(chan string, 8)
	for range 8 {
		go func() {
			got, err := Hash(in)
			got8 := Hash8((*[8]fr.Element)(in[:8]))
			switch {
			case err != nil:
				errs <- err.Error()
			case !got.Equal(&want) || !got8.Equal(&want8):
				errs <- "mismatch"
			default:
				errs <- ""
			}
		}()
	}
	for range 8 {
		if e := <-errs; e != "" {
			t.Fatal(e)
		}
	}
}
