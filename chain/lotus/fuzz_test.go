package lotus

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// FuzzBitFieldSlice feeds node-supplied JSON to BitField: decoding and
// expanding must never panic or allocate past the limit, a malformed value
// must fail with ErrBadResponse, and a valid one must round-trip through
// BitFieldFromSet to the same set.
func FuzzBitFieldSlice(f *testing.F) {
	for _, s := range []string{"[0]", "[]", "[2,2]", "[0,3,5,2]", "[1,0,2]", "[18446744073709551615,1]", "[0,100000]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var bf BitField
		if json.Unmarshal(data, &bf) != nil {
			return
		}
		const limit = 1 << 12
		set, err := bf.Slice(limit)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("Slice(%v): %v does not wrap ErrBadResponse", bf, err)
			}
			return
		}
		if uint64(len(set)) != bf.Count() || len(set) > limit || !slices.IsSorted(set) {
			t.Fatalf("Slice(%v) = %d bits, Count %d", bf, len(set), bf.Count())
		}
		again, err := BitFieldFromSet(set)
		if err != nil {
			t.Fatal(err)
		}
		set2, err := again.Slice(limit)
		if err != nil || !slices.Equal(set, set2) {
			t.Fatalf("round trip of %v: %v, %v", bf, set2, err)
		}
	})
}
