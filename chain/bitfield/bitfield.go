package bitfield

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	gobf "github.com/filecoin-project/go-bitfield"
	rle "github.com/filecoin-project/go-bitfield/rle"
	cbg "github.com/whyrusleeping/cbor-gen"
)

// MaxEncodedSize is the largest RLE+ encoding accepted in CBOR (32 KiB, as
// go-bitfield and ref-fvm).
const MaxEncodedSize = gobf.MaxEncodedSize

// BitField is a set of uint64 indices (go-bitfield). The zero value is the
// empty set.
type BitField = gobf.BitField

// Errors. The decoding sentinels all wrap ErrInvalid, so errors.Is(err,
// ErrInvalid) catches any malformed input.
var (
	ErrInvalid     = errors.New("bitfield: invalid rle+")
	ErrVersion     = fmt.Errorf("%w: unsupported version", ErrInvalid)
	ErrNotMinimal  = fmt.Errorf("%w: not minimally encoded", ErrInvalid)
	ErrOverflow    = fmt.Errorf("%w: length overflows uint64", ErrInvalid)
	ErrTooLarge    = fmt.Errorf("%w: encoding too large", ErrInvalid)
	ErrTooManyBits = gobf.ErrBitFieldTooMany
)

// NewFromSet returns the set of the given indices (any order, duplicates
// allowed). Index 2^64-1 cannot be represented (the total length must fit a
// uint64) and yields ErrOverflow; go-bitfield would build a set that cannot
// be encoded.
func NewFromSet(set []uint64) (BitField, error) {
	for _, i := range set {
		if i == math.MaxUint64 {
			return BitField{}, fmt.Errorf("%w: index 2^64-1", ErrOverflow)
		}
	}
	return gobf.NewFromSet(set), nil
}

// FromRuns builds a set from alternating run lengths in the Lotus JSON form
// (unset first; only the first run may be zero). A trailing unset run is
// dropped. The total length must fit a uint64.
func FromRuns(runs []uint64) (BitField, error) {
	var total uint64
	out := make([]rle.Run, 0, len(runs))
	for i, r := range runs {
		if r == 0 {
			if i != 0 {
				return BitField{}, fmt.Errorf("%w: zero-length run at position %d", ErrInvalid, i)
			}
			continue
		}
		if total > math.MaxUint64-r {
			return BitField{}, ErrOverflow
		}
		total += r
		out = append(out, rle.Run{Val: i%2 == 1, Len: r})
	}
	if len(out) > 0 && !out[len(out)-1].Val {
		out = out[:len(out)-1] // a trailing unset run carries no information
	}
	return gobf.NewFromIter(&rle.RunSliceIterator{Runs: out})
}

// Runs returns the alternating run lengths, unset first (the Lotus JSON
// form without the [0] used for the empty set).
func Runs(b BitField) ([]uint64, error) {
	it, err := b.RunIterator()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var out []uint64
	for first := true; it.HasNext(); first = false {
		r, err := it.NextRun()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if first && r.Val {
			out = append(out, 0)
		}
		out = append(out, r.Len)
	}
	return out, nil
}

// Bytes returns the canonical RLE+ encoding of b (go-bitfield's encoder).
func Bytes(b BitField) ([]byte, error) {
	it, err := b.RunIterator()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	out, err := rle.EncodeRuns(it, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return out, nil
}

// FromBytes decodes an RLE+ encoding with the consensus rules: it must
// decode, fit in a uint64 and be the one encoding of its set.
func FromBytes(data []byte) (BitField, error) {
	if len(data) == 0 {
		return gobf.New(), nil
	}
	if len(data) > MaxEncodedSize {
		return BitField{}, fmt.Errorf("%w: %d bytes, max %d", ErrTooLarge, len(data), MaxEncodedSize)
	}
	b, err := gobf.NewFromBytes(data)
	if err != nil {
		if errors.Is(err, rle.ErrWrongVersion) {
			return BitField{}, fmt.Errorf("%w: %w", ErrVersion, err)
		}
		return BitField{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return b, Check(b)
}

// Check reports whether b, typically decoded by go-bitfield's UnmarshalCBOR
// inside actor params, holds a canonical encoding; see FromBytes.
func Check(b BitField) error {
	// go-bitfield exposes the bytes it holds only through MarshalCBOR.
	var raw bytes.Buffer
	if err := b.MarshalCBOR(&raw); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if _, _, err := cbg.NewCborReader(&raw).ReadHeader(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	data := raw.Bytes()
	if len(data) > 0 && data[0]&3 != 0 {
		return fmt.Errorf("%w: %d", ErrVersion, data[0]&3)
	}
	it, err := b.RunIterator()
	if err != nil {
		return classify(err)
	}
	var total uint64
	runs := make([]rle.Run, 0, 8)
	for it.HasNext() {
		r, err := it.NextRun()
		if err != nil {
			return classify(err)
		}
		if total > math.MaxUint64-r.Len {
			return ErrOverflow
		}
		total += r.Len
		runs = append(runs, r)
	}
	canon, err := rle.EncodeRuns(&rle.RunSliceIterator{Runs: runs}, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !bytes.Equal(canon, data) {
		return fmt.Errorf("%w: %x re-encodes as %x", ErrNotMinimal, data, canon)
	}
	return nil
}

// classify maps go-bitfield's decoding errors onto this package's
// sentinels. go-bitfield has no sentinel for a length past 2^64 ("RLE+
// overflow", or "run too long" for a varint over 64 bits), so its text
// decides; either way the input is refused.
func classify(err error) error {
	switch msg := err.Error(); {
	case errors.Is(err, rle.ErrWrongVersion):
		return fmt.Errorf("%w: %w", ErrVersion, err)
	case strings.Contains(msg, "overflow") || strings.Contains(msg, "run too long"):
		return fmt.Errorf("%w: %w", ErrOverflow, err)
	default:
		return fmt.Errorf("%w: %w", ErrNotMinimal, err)
	}
}

// Equal reports whether a and b hold the same set.
func Equal(a, b BitField) bool {
	ra, errA := Runs(a)
	rb, errB := Runs(b)
	return errA == nil && errB == nil && slices.Equal(ra, rb)
}
