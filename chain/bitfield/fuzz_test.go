package bitfield

import (
	"bytes"
	"testing"
)

// FuzzFromBytes checks that decoding never panics and that every accepted
// encoding is canonical (re-encodes to the same bytes).
func FuzzFromBytes(f *testing.F) {
	for _, s := range [][]byte{nil, {124, 71, 34, 2}, {0x54}, {0x04}, {0xff, 0xff}, {0x00}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		bf, err := FromBytes(data)
		if err != nil {
			return
		}
		if got := mustBytes(t, bf); !bytes.Equal(got, data) {
			t.Fatalf("non-canonical accept: %x -> %x", data, got)
		}
		var buf bytes.Buffer
		if err := bf.MarshalCBOR(&buf); err == nil {
			var back BitField
			if err := back.UnmarshalCBOR(&buf); err != nil || !Equal(back, bf) {
				t.Fatalf("cbor round trip: %v", err)
			}
		}
	})
}
