package types

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	cbg "github.com/whyrusleeping/cbor-gen"
)

// BigIntMaxSerializedLen is the largest CBOR content of a BigInt (sign byte
// plus magnitude), as in go-state-types.
const BigIntMaxSerializedLen = 128

// ErrBigInt is wrapped by BigInt parsing errors.
var ErrBigInt = errors.New("types: invalid big integer")

// BigInt is an arbitrary-precision integer with Filecoin's encodings: CBOR
// is a byte string (empty for zero, else sign byte 0x00/0x01 followed by the
// minimal big-endian magnitude); JSON is a decimal string. The zero value
// (nil *big.Int) means 0. Arithmetic helpers never modify their operands.
type BigInt struct{ *big.Int }

// TokenAmount is an amount of attoFIL (10^-18 FIL).
type TokenAmount = BigInt

// AttoPerFIL is 10^18, the number of attoFIL in one FIL.
var attoPerFIL = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)

// NewInt returns v as a BigInt.
func NewInt(v int64) BigInt { return BigInt{big.NewInt(v)} }

// NewIntUnsigned returns v as a BigInt.
func NewIntUnsigned(v uint64) BigInt { return BigInt{new(big.Int).SetUint64(v)} }

// Zero returns a BigInt equal to 0.
func Zero() BigInt { return NewInt(0) }

// FromFil returns fil FIL expressed in attoFIL.
func FromFil(fil uint64) TokenAmount {
	v := new(big.Int).SetUint64(fil)
	return BigInt{v.Mul(v, attoPerFIL)}
}

// FromBig wraps a copy of v.
func FromBig(v *big.Int) BigInt {
	if v == nil {
		return BigInt{}
	}
	return BigInt{new(big.Int).Set(v)}
}

// ParseBigInt parses a base-10 integer (optionally signed), the JSON form.
func ParseBigInt(s string) (BigInt, error) {
	if s == "" || strings.TrimLeft(s, "+-") == "" {
		return BigInt{}, fmt.Errorf("%w: %q", ErrBigInt, s)
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return BigInt{}, fmt.Errorf("%w: %q", ErrBigInt, s)
	}
	if v.BitLen() > 8*(BigIntMaxSerializedLen-1) {
		return BigInt{}, fmt.Errorf("%w: %q exceeds %d bytes", ErrBigInt, s, BigIntMaxSerializedLen-1)
	}
	return BigInt{v}, nil
}

// ParseFIL parses a decimal FIL amount such as "1.5" or "0.000000000000000001"
// (at most 18 fractional digits) into attoFIL. A trailing " FIL" is allowed.
func ParseFIL(s string) (TokenAmount, error) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "FIL"))
	r, ok := new(big.Rat).SetString(s)
	if !ok || !isDecimal(s) {
		return BigInt{}, fmt.Errorf("%w: %q is not a decimal FIL amount", ErrBigInt, s)
	}
	r.Mul(r, new(big.Rat).SetInt(attoPerFIL))
	if !r.IsInt() {
		return BigInt{}, fmt.Errorf("%w: %q has more than 18 decimal places", ErrBigInt, s)
	}
	return BigInt{new(big.Int).Set(r.Num())}, nil
}

// isDecimal reports whether s is [+-]digits[.digits] (big.Rat alone would
// also accept fractions, exponents and hex).
func isDecimal(s string) bool {
	s = strings.TrimLeft(s, "+-")
	intPart, frac, hasDot := strings.Cut(s, ".")
	digits := func(x string) bool {
		if x == "" {
			return false
		}
		for i := 0; i < len(x); i++ {
			if x[i] < '0' || x[i] > '9' {
				return false
			}
		}
		return true
	}
	return digits(intPart) && (!hasDot || digits(frac))
}

// big returns the value, treating nil as zero.
func (b BigInt) big() *big.Int {
	if b.Int == nil {
		return new(big.Int)
	}
	return b.Int
}

// Nil reports whether b has no value (the zero BigInt{}); it still reads as 0.
func (b BigInt) Nil() bool { return b.Int == nil }

// IsZero reports whether b == 0 (nil counts as zero).
func (b BigInt) IsZero() bool { return b.Int == nil || b.Int.Sign() == 0 }

// Sign returns -1, 0 or +1.
func (b BigInt) Sign() int { return b.big().Sign() }

// Cmp compares b and o.
func (b BigInt) Cmp(o BigInt) int { return b.big().Cmp(o.big()) }

// Add returns b+o.
func (b BigInt) Add(o BigInt) BigInt { return BigInt{new(big.Int).Add(b.big(), o.big())} }

// Sub returns b-o.
func (b BigInt) Sub(o BigInt) BigInt { return BigInt{new(big.Int).Sub(b.big(), o.big())} }

// Mul returns b*o.
func (b BigInt) Mul(o BigInt) BigInt { return BigInt{new(big.Int).Mul(b.big(), o.big())} }

// Div returns b/o truncated towards zero; it panics if o is zero, like big.Int.
func (b BigInt) Div(o BigInt) BigInt { return BigInt{new(big.Int).Quo(b.big(), o.big())} }

// String returns the decimal value (attoFIL for token amounts); nil is "0".
func (b BigInt) String() string { return b.big().String() }

// FIL formats a token amount in FIL with trailing zeros trimmed, e.g.
// "1.5 FIL" or "0 FIL".
func (b BigInt) FIL() string {
	r := new(big.Rat).SetFrac(b.big(), attoPerFIL)
	s := strings.TrimRight(strings.TrimRight(r.FloatString(18), "0"), ".")
	return s + " FIL"
}

// Bytes returns the CBOR content form: empty for zero, else sign||magnitude.
func (b BigInt) Bytes() []byte {
	v := b.big()
	switch v.Sign() {
	case 0:
		return []byte{}
	case 1:
		return append([]byte{0}, v.Bytes()...)
	default:
		return append([]byte{1}, v.Bytes()...)
	}
}

// BigFromBytes parses the CBOR content form. It is stricter than
// go-state-types: it rejects a sign byte without magnitude and leading zero
// magnitude bytes, so that every value has exactly one encoding and decoded
// messages re-encode to the same bytes (and CID).
func BigFromBytes(buf []byte) (BigInt, error) {
	if len(buf) == 0 {
		return Zero(), nil
	}
	if len(buf) > BigIntMaxSerializedLen {
		return BigInt{}, fmt.Errorf("%w: %d bytes exceeds %d", ErrBigInt, len(buf), BigIntMaxSerializedLen)
	}
	if buf[0] > 1 {
		return BigInt{}, fmt.Errorf("%w: sign byte %#x, want 0 or 1", ErrBigInt, buf[0])
	}
	if len(buf) == 1 || buf[1] == 0 {
		return BigInt{}, fmt.Errorf("%w: non-canonical magnitude", ErrBigInt)
	}
	v := new(big.Int).SetBytes(buf[1:])
	if buf[0] == 1 {
		v.Neg(v)
	}
	return BigInt{v}, nil
}

// MarshalCBOR writes b as a CBOR byte string.
func (b BigInt) MarshalCBOR(w io.Writer) error {
	content := b.Bytes()
	if len(content) > BigIntMaxSerializedLen {
		return fmt.Errorf("%w: %d bytes exceeds %d", ErrBigInt, len(content), BigIntMaxSerializedLen)
	}
	return CborWriteBytes(cbg.NewCborWriter(w), content)
}

// UnmarshalCBOR reads a CBOR byte string BigInt.
func (b *BigInt) UnmarshalCBOR(r io.Reader) error {
	cr := cbg.NewCborReader(r)
	buf, err := CborReadBytes(cr, BigIntMaxSerializedLen)
	if err != nil {
		return fmt.Errorf("types: big int: %w", err)
	}
	v, err := BigFromBytes(buf)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCBOR, err)
	}
	*b = v
	return nil
}

// MarshalJSON writes the decimal string; nil is "0" (as Lotus).
func (b BigInt) MarshalJSON() ([]byte, error) {
	return json.Marshal(b.String())
}

// UnmarshalJSON accepts a decimal string (Lotus form) or, leniently, a bare
// JSON integer; null leaves the zero (nil) value.
func (b *BigInt) UnmarshalJSON(data []byte) error {
	s := string(data)
	if s == "null" {
		*b = BigInt{}
		return nil
	}
	if len(s) > 0 && s[0] == '"' {
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("types: big int json: %w", err)
		}
	}
	v, err := ParseBigInt(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}
