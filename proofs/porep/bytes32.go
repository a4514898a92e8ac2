package porep

import (
	"encoding/hex"
	"fmt"
)

// Bytes32 is a 32-byte value (a commitment, ticket, seed or tree node) that
// serialises to JSON the way serde serialises Rust's [u8; 32]: an array of 32
// integers. Decoding is strict — exactly 32 integers in 0..255 — because a
// lax decoder would let a tampered C1 file through with silently dropped or
// zero-filled bytes.
type Bytes32 [32]byte

// MarshalJSON encodes b as an array of 32 integers.
func (b Bytes32) MarshalJSON() ([]byte, error) {
	out := make([]byte, 0, 32*4+2)
	out = append(out, '[')
	for i, v := range b {
		if i > 0 {
			out = append(out, ',')
		}
		out = fmt.Appendf(out, "%d", v)
	}
	return append(out, ']'), nil
}

// UnmarshalJSON decodes an array of exactly 32 integers in 0..255, written
// without leading zeros, signs, fractions or exponents (as serde writes
// them). It parses by hand: C1 files hold hundreds of thousands of these.
func (b *Bytes32) UnmarshalJSON(data []byte) error {
	i := 0
	skip := func() {
		for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t') {
			i++
		}
	}
	bad := func(what string) error {
		return fmt.Errorf("porep: 32-byte value: %s at offset %d of %.40q", what, i, data)
	}
	skip()
	if i >= len(data) || data[i] != '[' {
		return bad("want '['")
	}
	i++
	for n := 0; n < 32; n++ {
		skip()
		if n > 0 {
			if i >= len(data) || data[i] != ',' {
				return bad("want ',' (fewer than 32 elements?)")
			}
			i++
			skip()
		}
		start := i
		v := 0
		for i < len(data) && data[i] >= '0' && data[i] <= '9' && i-start < 4 {
			v = v*10 + int(data[i]-'0')
			i++
		}
		switch {
		case i == start:
			return bad("want a byte value")
		case i-start > 1 && data[start] == '0':
			return bad("leading zero")
		case v > 255 || i-start > 3:
			return bad("value out of byte range")
		}
		b[n] = byte(v)
	}
	skip()
	if i >= len(data) || data[i] != ']' {
		return bad("want ']' (more than 32 elements?)")
	}
	i++
	skip()
	if i != len(data) {
		return bad("trailing data")
	}
	return nil
}

// String returns b as lower-case hex.
func (b Bytes32) String() string { return hex.EncodeToString(b[:]) }
