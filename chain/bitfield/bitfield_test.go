package bitfield

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"
)

// bitsToBytes packs a list of 0/1 values least-significant bit first, the
// notation used by the ref-fvm rleplus tests.
func bitsToBytes(bits []byte) []byte {
	out := make([]byte, (len(bits)+7)/8)
	for i, b := range bits {
		if b == 1 {
			out[i/8] |= 1 << (i % 8)
		}
	}
	return out
}

func seq(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func TestReferenceEncoding(t *testing.T) {
	// go-bitfield rle/rleplus_test.go TestDecode: the Rust reference encoder
	// output for this set, with the version header added.
	set := append([]uint64{0, 2, 4, 5, 6}, seq(11, 27)...)
	want := []byte{124, 71, 34, 2}
	bf, err := NewFromSet(set)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustBytes(t, bf); !bytes.Equal(got, want) {
		t.Fatalf("encode = %v, want %v", got, want)
	}
	dec, err := FromBytes(want)
	if err != nil {
		t.Fatal(err)
	}
	all, err := dec.All(100)
	if err != nil || !slices.Equal(all, set) {
		t.Fatalf("decode = %v, %v", all, err)
	}
}

func TestValidBitVectors(t *testing.T) {
	// ref-fvm ipld/bitfield rleplus tests (valid cases), as bit lists.
	tests := []struct {
		name string
		bits []byte
		want []uint64
	}{
		{"empty", nil, nil},
		{"eight ones", []byte{0, 0, 1, 0, 1, 0, 0, 0, 1}, seq(0, 7)},
		{"4-1 1-0 3-1", []byte{0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 1, 0, 0}, []uint64{0, 1, 2, 3, 5, 6, 7}},
		{"25 ones", []byte{0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0}, seq(0, 24)},
		{"17 ones", []byte{0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, seq(0, 16)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := bitsToBytes(tc.bits)
			bf, err := FromBytes(data)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := bf.All(1000)
			if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			// Re-encoding gives the canonical (trimmed) bytes of the input.
			trimmed := bytes.TrimRight(data, "\x00")
			if !bytes.Equal(mustBytes(t, bf), trimmed) {
				t.Fatalf("re-encode %x, want %x", mustBytes(t, bf), trimmed)
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	ones := func(n int) []byte { return bytes.Repeat([]byte{1}, n) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"version 1", bitsToBytes([]byte{1, 0, 1, 0, 1, 0, 0, 0, 1}), ErrVersion},
		{"trailing garbage after short 0", bitsToBytes([]byte{0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 1}), ErrNotMinimal},
		{"trailing garbage after varint 0", bitsToBytes([]byte{0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), ErrNotMinimal},
		{"last byte zero", []byte{0x54, 0x00}, ErrNotMinimal},
		{"varint not minimal", bitsToBytes(cat([]byte{0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1}, make([]byte, 8), []byte{1, 1, 1})), ErrNotMinimal},
		{"varint overflow", bitsToBytes(cat([]byte{0, 0, 1, 0, 0}, bytes.Repeat([]byte{0, 0, 0, 0, 0, 0, 0, 1}, 9), []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 1})), ErrOverflow},
		{"total overflow", bitsToBytes(cat([]byte{0, 0, 1, 0, 0}, ones(8*8), []byte{1, 1, 1, 1, 1, 1, 1, 0}, []byte{0, 0}, ones(8*8), []byte{1, 1, 1, 1, 1, 1, 1, 0}, []byte{0, 1, 0, 1, 0, 0})), ErrOverflow},
		{"long that fits short", bitsToBytes([]byte{0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1}), ErrNotMinimal},
		{"long that fits single", bitsToBytes([]byte{0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1}), ErrNotMinimal},
		{"short that fits single", bitsToBytes([]byte{0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1}), ErrNotMinimal},
		{"trailing zeros 1", bitsToBytes([]byte{0, 0, 0, 1}), ErrNotMinimal},
		{"trailing zeros 2", bitsToBytes([]byte{0, 0, 0, 0, 1, 0, 0, 1, 0}), ErrNotMinimal},
		{"trailing zeros 3", bitsToBytes([]byte{0, 0, 1, 0, 1, 0, 0, 1, 0, 1}), ErrNotMinimal},
		{"trailing zeros 4", bitsToBytes([]byte{0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0}), ErrNotMinimal},
		{"header only, first bit set", []byte{0x04}, ErrNotMinimal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromBytes(tc.data)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("FromBytes(%x) = %v, want %v", tc.data, err, tc.want)
			}
		})
	}
}

func TestMaxLengthVarint(t *testing.T) {
	// A single run of 2^64-1 set bits is the largest representable set.
	bf, err := FromRuns([]uint64{0, math.MaxUint64})
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromBytes(mustBytes(t, bf))
	if err != nil || !Equal(back, bf) || mustCount(t, back) != math.MaxUint64 {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := back.All(10); !errors.Is(err, ErrTooManyBits) {
		t.Fatalf("All on huge set: %v", err)
	}
	if _, err := NewFromSet([]uint64{math.MaxUint64}); !errors.Is(err, ErrOverflow) {
		t.Fatalf("index 2^64-1: %v", err)
	}
	if _, err := FromRuns([]uint64{1, math.MaxUint64}); !errors.Is(err, ErrOverflow) {
		t.Fatalf("run overflow: %v", err)
	}
}

func TestJSON(t *testing.T) {
	// spec/chain.md §6.3 (go-bitfield rle/rleplus.go).
	tests := []struct {
		set  []uint64
		json string
	}{
		{nil, `[0]`},
		{[]uint64{2, 3}, `[2,2]`},
		{[]uint64{0, 1, 2, 8, 9}, `[0,3,5,2]`},
		{[]uint64{5}, `[5,1]`},
	}
	for _, tc := range tests {
		bf, err := NewFromSet(tc.set)
		if err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(bf)
		if err != nil || string(out) != tc.json {
			t.Errorf("json(%v) = %s, %v; want %s", tc.set, out, err, tc.json)
		}
		var back BitField
		if err := json.Unmarshal(out, &back); err != nil || !Equal(back, bf) {
			t.Errorf("json round trip %s: %v", out, err)
		}
	}
	for _, bad := range []string{`[1,0,2]`, `{}`, `["1"]`, `[-1]`} {
		var b BitField
		if err := json.Unmarshal([]byte(bad), &b); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	var b BitField
	if err := json.Unmarshal([]byte(`[2,2,7]`), &b); err != nil || mustCount(t, b) != 2 {
		t.Errorf("trailing unset run: %v", err)
	}
}

func TestCBOR(t *testing.T) {
	bf, _ := NewFromSet([]uint64{0, 1})
	var buf bytes.Buffer
	if err := bf.MarshalCBOR(&buf); err != nil {
		t.Fatal(err)
	}
	// 00 1 01 0100 → 0b01010100 = 0x54 (high zero bits trimmed).
	if hex.EncodeToString(buf.Bytes()) != "4154" {
		t.Fatalf("cbor %x", buf.Bytes())
	}
	var back BitField
	if err := back.UnmarshalCBOR(bytes.NewReader(buf.Bytes())); err != nil || !Equal(back, bf) {
		t.Fatalf("unmarshal: %v", err)
	}
	var empty BitField
	buf.Reset()
	_ = empty.MarshalCBOR(&buf)
	if hex.EncodeToString(buf.Bytes()) != "40" {
		t.Fatalf("empty cbor %x", buf.Bytes())
	}
	for _, bad := range []string{"", "4254", "6154", "5a00008001"} {
		raw, _ := hex.DecodeString(bad)
		var x BitField
		if err := x.UnmarshalCBOR(bytes.NewReader(raw)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestRandomRoundTrip(t *testing.T) {
	// Deterministic pseudo-random sets exercise all three block kinds.
	x := uint64(0x9e3779b97f4a7c15)
	for iter := 0; iter < 300; iter++ {
		var set []uint64
		var pos uint64
		for k := 0; k < iter%40; k++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			pos += 1 + x%40
			for j := uint64(0); j < x%20+1; j++ {
				set = append(set, pos)
				pos++
			}
		}
		bf, err := NewFromSet(set)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := FromBytes(mustBytes(t, bf))
		if err != nil {
			t.Fatalf("set %v: %v", set, err)
		}
		got, _ := dec.All(1 << 20)
		if !slices.Equal(got, set) && len(set) > 0 {
			t.Fatalf("round trip mismatch")
		}
		for _, i := range set {
			if !mustHas(t, dec, i) {
				t.Fatalf("Has(%d) false", i)
			}
		}
		if mustCount(t, dec) != uint64(len(set)) {
			t.Fatalf("count %d want %d", mustCount(t, dec), len(set))
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	set := make([]uint64, 0, 2349)
	for i := uint64(0); i < 2349; i++ {
		if i%7 != 3 {
			set = append(set, i*3)
		}
	}
	bf, _ := NewFromSet(set)
	b.ReportAllocs()
	for b.Loop() {
		_ = mustBytes(b, bf)
	}
}

func BenchmarkDecode(b *testing.B) {
	set := make([]uint64, 0, 2349)
	for i := uint64(0); i < 2349; i++ {
		if i%7 != 3 {
			set = append(set, i*3)
		}
	}
	bf, _ := NewFromSet(set)
	data := mustBytes(b, bf)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := FromBytes(data); err != nil {
			b.Fatal(err)
		}
	}
}

// Helpers for go-bitfield's methods that return an error beside the value.

func mustBytes(t testing.TB, b BitField) []byte {
	t.Helper()
	out, err := Bytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustCount(t testing.TB, b BitField) uint64 {
	t.Helper()
	n, err := b.Count()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustHas(t testing.TB, b BitField, i uint64) bool {
	t.Helper()
	ok, err := b.IsSet(i)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}
