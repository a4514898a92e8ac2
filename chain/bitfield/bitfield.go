package bitfield

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"

	cbg "github.com/whyrusleeping/cbor-gen"
)

// MaxEncodedSize is the largest RLE+ encoding accepted in CBOR (ref-fvm
// MAX_ENCODED_SIZE, 32 KiB).
const MaxEncodedSize = 32 << 10

// Errors returned by decoders.
// The specific sentinels all wrap ErrInvalid, so errors.Is(err, ErrInvalid)
// catches any malformed input.
var (
	ErrInvalid     = errors.New("bitfield: invalid rle+")
	ErrVersion     = fmt.Errorf("%w: unsupported version", ErrInvalid)
	ErrNotMinimal  = fmt.Errorf("%w: not minimally encoded", ErrInvalid)
	ErrOverflow    = fmt.Errorf("%w: length overflows uint64", ErrInvalid)
	ErrTooLarge    = fmt.Errorf("%w: encoding too large", ErrInvalid)
	ErrTooManyBits = errors.New("bitfield: too many set bits")
)

// BitField is an immutable set of uint64 indices. The zero value is the
// empty set. It is safe for concurrent reads.
type BitField struct {
	// runs alternates unset, set, unset, set… lengths. Only runs[0] may be 0
	// (when bit 0 is set); the slice is empty or has even length, so it ends
	// with a set run. This is exactly the Lotus JSON form.
	runs []uint64
}

// NewFromSet returns the set of the given indices (any order, duplicates
// allowed). Index 2^64-1 cannot be represented (the total length must fit a
// uint64) and yields ErrOverflow.
func NewFromSet(set []uint64) (BitField, error) {
	if len(set) == 0 {
		return BitField{}, nil
	}
	s := slices.Clone(set)
	slices.Sort(s)
	s = slices.Compact(s)
	if s[len(s)-1] == math.MaxUint64 {
		return BitField{}, fmt.Errorf("%w: index 2^64-1", ErrOverflow)
	}
	var runs []uint64
	var next uint64 // first index not yet covered by runs
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		runs = append(runs, s[i]-next, s[j]-s[i]+1)
		next = s[j] + 1
		i = j + 1
	}
	return BitField{runs}, nil
}

// FromRuns builds a set from alternating run lengths in the Lotus JSON form
// (unset first; only the first run may be zero). A trailing unset run is
// dropped. The total length must fit a uint64.
func FromRuns(runs []uint64) (BitField, error) {
	var total uint64
	out := make([]uint64, 0, len(runs))
	for i, r := range runs {
		if r == 0 && i != 0 {
			return BitField{}, fmt.Errorf("%w: zero-length run at position %d", ErrInvalid, i)
		}
		if total > math.MaxUint64-r {
			return BitField{}, ErrOverflow
		}
		total += r
		out = append(out, r)
	}
	if len(out)%2 == 1 {
		out = out[:len(out)-1] // trailing unset run carries no information
	}
	if len(out) == 0 {
		return BitField{}, nil
	}
	return BitField{out}, nil
}

// Runs returns a copy of the alternating run lengths (Lotus JSON form
// without the [0] used for the empty set).
func (b BitField) Runs() []uint64 { return slices.Clone(b.runs) }

// IsEmpty reports whether no bit is set.
func (b BitField) IsEmpty() bool { return len(b.runs) == 0 }

// Count returns the number of set bits.
func (b BitField) Count() uint64 {
	var n uint64
	for i := 1; i < len(b.runs); i += 2 {
		n += b.runs[i] // cannot overflow: the total of all runs fits a uint64
	}
	return n
}

// Has reports whether bit i is set.
func (b BitField) Has(i uint64) bool {
	var pos uint64
	for k, r := range b.runs {
		if i < pos+r {
			return k%2 == 1
		}
		pos += r
	}
	return false
}

// ForEach calls f for every set bit in increasing order, stopping at the
// first error.
func (b BitField) ForEach(f func(uint64) error) error {
	var pos uint64
	for k, r := range b.runs {
		if k%2 == 1 {
			for j := uint64(0); j < r; j++ {
				if err := f(pos + j); err != nil {
					return err
				}
			}
		}
		pos += r
	}
	return nil
}

// All returns the set bits in increasing order, or ErrTooManyBits if there
// are more than max (bounding memory for untrusted input).
func (b BitField) All(max uint64) ([]uint64, error) {
	n := b.Count()
	if n > max {
		return nil, fmt.Errorf("%w: %d set, max %d", ErrTooManyBits, n, max)
	}
	out := make([]uint64, 0, n)
	_ = b.ForEach(func(i uint64) error { out = append(out, i); return nil })
	return out, nil
}

// Equal reports whether both sets hold the same bits.
func (b BitField) Equal(o BitField) bool { return slices.Equal(b.runs, o.runs) }

// bitWriter appends bits least-significant first.
type bitWriter struct {
	buf  []byte
	acc  uint64
	nacc uint
}

func (w *bitWriter) write(v uint64, n uint) {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

func (w *bitWriter) writeLen(n uint64) {
	switch {
	case n == 1:
		w.write(1, 1)
	case n < 16:
		w.write(0b10, 2) // bits "0","1"
		w.write(n, 4)
	default:
		w.write(0, 2)
		var tmp [binary.MaxVarintLen64]byte
		k := binary.PutUvarint(tmp[:], n)
		for _, c := range tmp[:k] {
			w.write(uint64(c), 8)
		}
	}
}

func (w *bitWriter) finish() []byte {
	if w.nacc > 0 {
		w.buf = append(w.buf, byte(w.acc))
	}
	// Zero bits past the end read as zero, so trailing zero bytes carry no
	// information and the canonical form drops them.
	for len(w.buf) > 0 && w.buf[len(w.buf)-1] == 0 {
		w.buf = w.buf[:len(w.buf)-1]
	}
	return w.buf
}

// Bytes returns the canonical RLE+ encoding (empty for the empty set).
func (b BitField) Bytes() []byte {
	if len(b.runs) == 0 {
		return []byte{}
	}
	w := bitWriter{buf: make([]byte, 0, 1+len(b.runs))}
	w.write(0, 2) // version
	runs := b.runs
	if runs[0] == 0 {
		w.write(1, 1)
		runs = runs[1:]
	} else {
		w.write(0, 1)
	}
	for _, r := range runs {
		w.writeLen(r)
	}
	return w.finish()
}

// bitReader reads bits least-significant first; bits past the end are 0.
type bitReader struct {
	buf []byte
	pos uint64 // bit position
	end uint64 // one past the last set bit
}

func (r *bitReader) read(n uint) uint64 {
	var v uint64
	for i := uint(0); i < n; i++ {
		idx := r.pos >> 3
		if idx < uint64(len(r.buf)) && r.buf[idx]>>(r.pos&7)&1 == 1 {
			v |= 1 << i
		}
		r.pos++
	}
	return v
}

// readLen decodes one block; ok=false at the end of the data.
func (r *bitReader) readLen() (uint64, bool, error) {
	if r.pos >= r.end {
		return 0, false, nil
	}
	if r.read(1) == 1 {
		return 1, true, nil
	}
	if r.read(1) == 1 {
		n := r.read(4)
		if n < 2 {
			return 0, false, fmt.Errorf("%w: short block of length %d", ErrNotMinimal, n)
		}
		return n, true, nil
	}
	var x uint64
	var s uint
	for i := 0; ; i++ {
		if i == binary.MaxVarintLen64 {
			return 0, false, fmt.Errorf("%w: varint longer than 10 bytes", ErrOverflow)
		}
		c := r.read(8)
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, false, fmt.Errorf("%w: varint exceeds 64 bits", ErrOverflow)
			}
			if c == 0 && i > 0 {
				return 0, false, fmt.Errorf("%w: varint has a zero final byte", ErrNotMinimal)
			}
			x |= c << s
			break
		}
		x |= (c & 0x7f) << s
		s += 7
	}
	if x < 16 {
		return 0, false, fmt.Errorf("%w: long block of length %d", ErrNotMinimal, x)
	}
	return x, true, nil
}

// FromBytes decodes an RLE+ encoding with the consensus (ref-fvm) rules.
// Memory use is bounded by the input size.
func FromBytes(data []byte) (BitField, error) {
	if len(data) == 0 {
		return BitField{}, nil
	}
	last := data[len(data)-1]
	if last == 0 {
		return BitField{}, fmt.Errorf("%w: trailing zero byte", ErrNotMinimal)
	}
	r := bitReader{buf: data, end: uint64(len(data)-1)*8 + uint64(bits.Len8(last))}
	if v := r.read(2); v != 0 {
		return BitField{}, fmt.Errorf("%w: %d", ErrVersion, v)
	}
	val := r.read(1) == 1
	var runs []uint64
	if val {
		runs = append(runs, 0)
	}
	var total uint64
	for {
		n, ok, err := r.readLen()
		if err != nil {
			return BitField{}, err
		}
		if !ok {
			break
		}
		if total > math.MaxUint64-n {
			return BitField{}, ErrOverflow
		}
		total += n
		runs = append(runs, n)
		val = !val
	}
	// The next run would be a set run only if the data ended after a run of
	// zeros (or right after a "1" header): that trailing information-free
	// run makes the encoding non-unique.
	if val {
		return BitField{}, fmt.Errorf("%w: ends with a run of zeros", ErrNotMinimal)
	}
	return BitField{runs}, nil
}

// MarshalCBOR writes the RLE+ bytes as a CBOR byte string. A nil *BitField
// is null.
func (b *BitField) MarshalCBOR(w io.Writer) error {
	cw := cbg.NewCborWriter(w)
	if b == nil {
		_, err := cw.Write(cbg.CborNull)
		return err
	}
	data := b.Bytes()
	if len(data) > MaxEncodedSize {
		return fmt.Errorf("%w: %d bytes, max %d", ErrTooLarge, len(data), MaxEncodedSize)
	}
	if err := cw.WriteMajorTypeHeader(cbg.MajByteString, uint64(len(data))); err != nil {
		return err
	}
	_, err := cw.Write(data)
	return err
}

// UnmarshalCBOR reads a CBOR byte string (at most MaxEncodedSize bytes) and
// decodes it.
func (b *BitField) UnmarshalCBOR(r io.Reader) error {
	cr := cbg.NewCborReader(r)
	maj, n, err := cr.ReadHeader()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, eof(err))
	}
	if maj != cbg.MajByteString {
		return fmt.Errorf("%w: cbor major type %d, want byte string", ErrInvalid, maj)
	}
	if n > MaxEncodedSize {
		return fmt.Errorf("%w: %d bytes, max %d", ErrTooLarge, n, MaxEncodedSize)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(cr, data); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, eof(err))
	}
	v, err := FromBytes(data)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

func eof(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// MarshalJSON writes the Lotus form: run lengths starting with an unset run,
// [0] for the empty set.
func (b BitField) MarshalJSON() ([]byte, error) {
	if len(b.runs) == 0 {
		return []byte("[0]"), nil
	}
	return json.Marshal(b.runs)
}

// UnmarshalJSON reads the Lotus form.
func (b *BitField) UnmarshalJSON(data []byte) error {
	var runs []uint64
	if err := json.Unmarshal(data, &runs); err != nil {
		return fmt.Errorf("%w: json: %w", ErrInvalid, err)
	}
	v, err := FromRuns(runs)
	if err != nil {
		return err
	}
	*b = v
	return nil
}
