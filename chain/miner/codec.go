package miner

import (
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
	cbg "github.com/whyrusleeping/cbor-gen"

	"github.com/sealant/sealant/chain/types"
)

// ErrParams is wrapped by every params decoding error.
var ErrParams = errors.New("miner: invalid params")

// maxPrealloc caps slice pre-allocation from untrusted array headers; longer
// arrays grow by append, so memory stays proportional to the input size.
const maxPrealloc = 64

// enc is a sticky-error tuple encoder over cbor-gen's writer.
type enc struct {
	cw  *cbg.CborWriter
	err error
}

func newEnc(w io.Writer) *enc { return &enc{cw: cbg.NewCborWriter(w)} }

func (e *enc) header(maj byte, n uint64) {
	if e.err == nil {
		e.err = e.cw.WriteMajorTypeHeader(maj, n)
	}
}
func (e *enc) array(n int)   { e.header(cbg.MajArray, uint64(n)) }
func (e *enc) uint(v uint64) { e.header(cbg.MajUnsignedInt, v) }
func (e *enc) int(v int64) {
	if e.err == nil {
		e.err = types.CborWriteInt64(e.cw, v)
	}
}
func (e *enc) bytes(b []byte) {
	if e.err == nil {
		e.err = types.CborWriteBytes(e.cw, b)
	}
}
func (e *enc) bool(v bool) {
	if e.err == nil {
		e.err = types.CborWriteBool(e.cw, v)
	}
}
func (e *enc) cid(c cid.Cid) {
	if e.err == nil {
		e.err = types.CborWriteCid(e.cw, c)
	}
}
func (e *enc) optCid(c *cid.Cid) {
	if e.err != nil {
		return
	}
	if c == nil {
		_, e.err = e.cw.Write(cbg.CborNull)
		return
	}
	e.err = types.CborWriteCid(e.cw, *c)
}
func (e *enc) null() {
	if e.err == nil {
		_, e.err = e.cw.Write(cbg.CborNull)
	}
}
func (e *enc) value(m types.CborMarshaler) {
	if e.err == nil {
		e.err = m.MarshalCBOR(e.cw)
	}
}

// dec is a sticky-error tuple decoder; after the first error every read
// returns a zero value and the error is reported once at the end.
type dec struct {
	cr  *cbg.CborReader
	err error
	ctx string
}

func newDec(r io.Reader, ctx string) *dec { return &dec{cr: cbg.NewCborReader(r), ctx: ctx} }

func (d *dec) fail(err error, field string) {
	if d.err == nil && err != nil {
		d.err = fmt.Errorf("%w: %s.%s: %w", ErrParams, d.ctx, field, err)
	}
}

// array reads an array header; want ≥ 0 demands that exact length.
func (d *dec) array(want int, field string) int {
	if d.err != nil {
		return 0
	}
	n, err := types.CborReadArrayHeader(d.cr, want)
	d.fail(err, field)
	return n
}
func (d *dec) uint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, err := types.CborReadUint64(d.cr)
	d.fail(err, field)
	return v
}
func (d *dec) int(field string) int64 {
	if d.err != nil {
		return 0
	}
	v, err := types.CborReadInt64(d.cr)
	d.fail(err, field)
	return v
}
func (d *dec) bytes(max uint64, field string) []byte {
	if d.err != nil {
		return nil
	}
	v, err := types.CborReadBytes(d.cr, max)
	d.fail(err, field)
	return v
}
func (d *dec) bool(field string) bool {
	if d.err != nil {
		return false
	}
	v, err := types.CborReadBool(d.cr)
	d.fail(err, field)
	return v
}
func (d *dec) cid(field string) cid.Cid {
	if d.err != nil {
		return cid.Undef
	}
	v, err := types.CborReadCid(d.cr)
	d.fail(err, field)
	return v
}
func (d *dec) optCid(field string) *cid.Cid {
	if d.err != nil {
		return nil
	}
	v, err := types.CborReadOptionalCid(d.cr)
	d.fail(err, field)
	if !v.Defined() {
		return nil
	}
	return &v
}
func (d *dec) null(field string) bool {
	if d.err != nil {
		return false
	}
	v, err := types.CborPeekNull(d.cr)
	d.fail(err, field)
	return v
}
func (d *dec) value(u types.CborUnmarshaler, field string) {
	if d.err == nil {
		d.fail(u.UnmarshalCBOR(d.cr), field)
	}
}

// uints reads an array of unsigned integers.
func (d *dec) uints(field string) []uint64 {
	n := d.array(-1, field)
	if n == 0 || d.err != nil {
		return nil
	}
	out := make([]uint64, 0, min(n, maxPrealloc))
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.uint(field))
	}
	return out
}

func (e *enc) uints(v []uint64) {
	e.array(len(v))
	for _, x := range v {
		e.uint(x)
	}
}

// list reads an array whose elements are decoded by elem.
func list[T any](d *dec, field string, elem func(*T)) []T {
	n := d.array(-1, field)
	if n == 0 || d.err != nil {
		return nil
	}
	out := make([]T, 0, min(n, maxPrealloc))
	for i := 0; i < n && d.err == nil; i++ {
		var v T
		elem(&v)
		out = append(out, v)
	}
	return out
}

// decodeExact decodes data into v (a params type) and rejects trailing bytes.
func decodeExact(data []byte, v types.CborUnmarshaler) error {
	if err := types.DecodeExact(data, v); err != nil {
		if errors.Is(err, ErrParams) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrParams, err)
	}
	return nil
}
