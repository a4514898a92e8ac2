package types

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/ipfs/go-cid"
	cbg "github.com/whyrusleeping/cbor-gen"
)

// ErrCBOR is wrapped by every CBOR decoding error in the chain packages.
var ErrCBOR = errors.New("types: invalid cbor")

// MaxParamsLen bounds byte strings read from CBOR (cbor-gen's ByteArrayMaxLen,
// 2 MiB), which also bounds allocations driven by untrusted length headers.
const MaxParamsLen = cbg.ByteArrayMaxLen

// maxCidLen bounds the byte string holding a tag-42 CID (as cbor-gen).
const maxCidLen = 512

func cborErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCBOR, fmt.Sprintf(format, args...))
}

// eofErr maps a bare io.EOF in the middle of a value to io.ErrUnexpectedEOF.
func eofErr(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %w", ErrCBOR, io.ErrUnexpectedEOF)
	}
	if errors.Is(err, ErrCBOR) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrCBOR, err)
}

// CborReadHeader reads one canonical CBOR header. Non-canonical lengths and
// indefinite-length items are rejected (by cbor-gen).
func CborReadHeader(cr *cbg.CborReader) (byte, uint64, error) {
	maj, n, err := cr.ReadHeader()
	if err != nil {
		return 0, 0, eofErr(err)
	}
	return maj, n, nil
}

// CborReadArrayHeader reads an array header and checks its length is want
// (want < 0 accepts any length up to cbor-gen's MaxLength).
func CborReadArrayHeader(cr *cbg.CborReader, want int) (int, error) {
	maj, n, err := CborReadHeader(cr)
	if err != nil {
		return 0, err
	}
	if maj != cbg.MajArray {
		return 0, cborErr("major type %d, want array", maj)
	}
	if want >= 0 && n != uint64(want) {
		return 0, cborErr("array of %d fields, want %d", n, want)
	}
	if n > cbg.MaxLength {
		return 0, cborErr("array of %d elements exceeds %d", n, cbg.MaxLength)
	}
	return int(n), nil
}

// CborReadUint64 reads an unsigned integer (major type 0).
func CborReadUint64(cr *cbg.CborReader) (uint64, error) {
	maj, n, err := CborReadHeader(cr)
	if err != nil {
		return 0, err
	}
	if maj != cbg.MajUnsignedInt {
		return 0, cborErr("major type %d, want unsigned int", maj)
	}
	return n, nil
}

// CborReadInt64 reads a signed integer (major type 0 or 1) that fits int64.
func CborReadInt64(cr *cbg.CborReader) (int64, error) {
	maj, n, err := CborReadHeader(cr)
	if err != nil {
		return 0, err
	}
	switch maj {
	case cbg.MajUnsignedInt:
		if n > math.MaxInt64 {
			return 0, cborErr("integer %d overflows int64", n)
		}
		return int64(n), nil
	case cbg.MajNegativeInt:
		if n > math.MaxInt64 {
			return 0, cborErr("negative integer -1-%d overflows int64", n)
		}
		return -1 - int64(n), nil
	default:
		return 0, cborErr("major type %d, want integer", maj)
	}
}

// CborWriteInt64 writes v as major type 0 (v ≥ 0) or 1 (v < 0).
func CborWriteInt64(cw *cbg.CborWriter, v int64) error {
	if v >= 0 {
		return cw.WriteMajorTypeHeader(cbg.MajUnsignedInt, uint64(v))
	}
	return cw.WriteMajorTypeHeader(cbg.MajNegativeInt, uint64(-v-1))
}

// CborReadBytes reads a byte string of at most max bytes. An empty byte
// string decodes to nil (as cbor-gen generated code does).
func CborReadBytes(cr *cbg.CborReader, max uint64) ([]byte, error) {
	maj, n, err := CborReadHeader(cr)
	if err != nil {
		return nil, err
	}
	if maj != cbg.MajByteString {
		return nil, cborErr("major type %d, want byte string", maj)
	}
	if n > max {
		return nil, cborErr("byte string of %d bytes exceeds %d", n, max)
	}
	if n == 0 {
		return nil, nil
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(cr, buf); err != nil {
		return nil, eofErr(err)
	}
	return buf, nil
}

// CborWriteBytes writes b as a byte string (nil and empty both give 0x40).
func CborWriteBytes(cw *cbg.CborWriter, b []byte) error {
	if err := cw.WriteMajorTypeHeader(cbg.MajByteString, uint64(len(b))); err != nil {
		return err
	}
	_, err := cw.Write(b)
	return err
}

// CborPeekNull consumes a CBOR null if it is next and reports whether it did.
func CborPeekNull(cr *cbg.CborReader) (bool, error) {
	b, err := cr.ReadByte()
	if err != nil {
		return false, eofErr(err)
	}
	if b == cbg.CborNull[0] {
		return true, nil
	}
	if err := cr.UnreadByte(); err != nil {
		return false, eofErr(err)
	}
	return false, nil
}

// CborReadCid reads a tag-42 CID. The CID must be canonical: re-encoding it
// must give the same bytes (go-cid's Cast accepts a few non-canonical forms,
// e.g. CIDv0 inside a tag, that would not round-trip).
func CborReadCid(cr *cbg.CborReader) (cid.Cid, error) {
	maj, n, err := CborReadHeader(cr)
	if err != nil {
		return cid.Undef, err
	}
	if maj != cbg.MajTag || n != 42 {
		return cid.Undef, cborErr("major type %d value %d, want tag 42 (cid)", maj, n)
	}
	buf, err := CborReadBytes(cr, maxCidLen)
	if err != nil {
		return cid.Undef, err
	}
	if len(buf) < 2 || buf[0] != 0 {
		return cid.Undef, cborErr("cid bytes lack the 0x00 multibase prefix")
	}
	c, err := cid.Cast(buf[1:])
	if err != nil {
		return cid.Undef, cborErr("cid: %v", err)
	}
	if !bytes.Equal(c.Bytes(), buf[1:]) {
		return cid.Undef, cborErr("non-canonical cid bytes")
	}
	return c, nil
}

// CborWriteCid writes c as tag 42 + byte string (0x00 || c.Bytes()).
func CborWriteCid(cw *cbg.CborWriter, c cid.Cid) error {
	if !c.Defined() {
		return fmt.Errorf("types: cannot encode undefined cid")
	}
	return cbg.WriteCid(cw, c)
}

// CborReadOptionalCid reads a tag-42 CID or null (cid.Undef).
func CborReadOptionalCid(cr *cbg.CborReader) (cid.Cid, error) {
	null, err := CborPeekNull(cr)
	if err != nil || null {
		return cid.Undef, err
	}
	return CborReadCid(cr)
}

// CborWriteOptionalCid writes c, or null when c is undefined.
func CborWriteOptionalCid(cw *cbg.CborWriter, c cid.Cid) error {
	if !c.Defined() {
		_, err := cw.Write(cbg.CborNull)
		return err
	}
	return CborWriteCid(cw, c)
}

// CborUnmarshaler is implemented by every decodable chain type.
type CborUnmarshaler interface {
	UnmarshalCBOR(io.Reader) error
}

// CborMarshaler is implemented by every encodable chain type.
type CborMarshaler interface {
	MarshalCBOR(io.Writer) error
}

// DecodeExact decodes data into v and fails if bytes remain after the value.
func DecodeExact(data []byte, v CborUnmarshaler) error {
	r := bytes.NewReader(data)
	if err := v.UnmarshalCBOR(r); err != nil {
		return err
	}
	if r.Len() != 0 {
		return cborErr("%d trailing bytes after value", r.Len())
	}
	return nil
}

// EncodeBytes encodes v into a fresh byte slice.
func EncodeBytes(v CborMarshaler) ([]byte, error) {
	var buf bytes.Buffer
	if err := v.MarshalCBOR(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
