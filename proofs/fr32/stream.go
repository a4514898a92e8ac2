package fr32

import (
	"errors"
	"fmt"
	"io"
)

// streamBlocks is the number of Fr32 blocks the streaming adapters convert
// per batch: 256 blocks = 32 KiB of padded data, large enough to amortise
// the per-call overhead of the underlying reader or writer and small enough
// to stay in L1/L2 cache.
const streamBlocks = 256

// ErrClosed is returned by a pad writer's Write after Close.
var ErrClosed = errors.New("fr32: write to closed pad writer")

// NewPadReader returns a reader that yields the Fr32 padding of the bytes
// read from r. The output is always a whole number of 128-byte blocks: when
// r's length is not a multiple of 127, the last block is completed with zero
// bytes before padding (the zero-fill that CommP and add-piece apply). A
// read error other than io.EOF is returned after the blocks completed before
// it; the incomplete tail is then dropped.
//
// The returned reader is not safe for concurrent use.
func NewPadReader(r io.Reader) io.Reader {
	return &converter{
		r:       r,
		in:      make([]byte, streamBlocks*UnpaddedBlockSize),
		out:     make([]byte, streamBlocks*PaddedBlockSize),
		inBlock: UnpaddedBlockSize,
		outBlk:  PaddedBlockSize,
		conv:    Pad,
	}
}

// NewUnpadReader returns a reader that yields the raw bytes encoded in the
// Fr32-padded stream r (127 bytes per 128-byte block; the two top bits of
// each element are ignored). If r ends inside a block, the complete blocks
// are returned and then an error wrapping ErrTruncated.
//
// The returned reader is not safe for concurrent use.
func NewUnpadReader(r io.Reader) io.Reader {
	return &converter{
		r:       r,
		in:      make([]byte, streamBlocks*PaddedBlockSize),
		out:     make([]byte, streamBlocks*UnpaddedBlockSize),
		inBlock: PaddedBlockSize,
		outBlk:  UnpaddedBlockSize,
		conv:    Unpad,
		tail: func(n int) error {
			return fmt.Errorf("%w: %d trailing bytes", ErrTruncated, n)
		},
	}
}

// converter is the shared engine of the pad and unpad readers: it gathers
// whole input blocks from r, converts them in one batch and serves the
// result.
type converter struct {
	r       io.Reader
	in      []byte
	inLen   int // bytes buffered in in
	out     []byte
	outPos  int // next byte of out to serve
	outLen  int // valid bytes in out
	inBlock int
	outBlk  int
	conv    func(in, out []byte)
	// tail, when set, turns a partial final input block of n bytes into an
	// error (unpadding); when nil the block is zero-filled (padding).
	tail func(n int) error
	err  error // sticky error from r (io.EOF included), served after data
}

func (c *converter) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for c.outPos == c.outLen {
		if c.err != nil {
			return 0, c.err
		}
		c.fill()
	}
	n := copy(p, c.out[c.outPos:c.outLen])
	c.outPos += n
	return n, nil
}

// fill reads until at least one whole block is buffered or r fails, then
// converts every whole block. It leaves the outcome in c.out or c.err.
func (c *converter) fill() {
	var rerr error
	for c.inLen < c.inBlock && rerr == nil {
		var n int
		n, rerr = c.r.Read(c.in[c.inLen:])
		c.inLen += n
	}
	blocks := c.inLen / c.inBlock
	rest := c.inLen - blocks*c.inBlock
	if rerr != nil && rest > 0 {
		if rerr == io.EOF {
			if c.tail != nil {
				rerr = c.tail(rest)
			} else {
				blocks++
				clear(c.in[c.inLen : blocks*c.inBlock])
				c.inLen = blocks * c.inBlock
				rest = 0
			}
		}
	}
	c.conv(c.in[:blocks*c.inBlock], c.out[:blocks*c.outBlk])
	c.outPos, c.outLen = 0, blocks*c.outBlk
	copy(c.in, c.in[blocks*c.inBlock:c.inLen])
	c.inLen = rest
	if rerr != nil {
		c.err = rerr
	}
}

// NewPadWriter returns a writer that Fr32-pads everything written to it and
// writes the padded bytes to w in batches. Close flushes the final partial
// block, completed with zero bytes, and does not close w. The first error
// from w is sticky and returned by every later call.
//
// The returned writer is not safe for concurrent use.
func NewPadWriter(w io.Writer) io.WriteCloser {
	return &padWriter{
		w:   w,
		in:  make([]byte, 0, streamBlocks*UnpaddedBlockSize),
		out: make([]byte, streamBlocks*PaddedBlockSize),
	}
}

type padWriter struct {
	w      io.Writer
	in     []byte
	out    []byte
	err    error
	closed bool
}

func (pw *padWriter) Write(p []byte) (int, error) {
	if pw.closed {
		return 0, ErrClosed
	}
	if pw.err != nil {
		return 0, pw.err
	}
	written := 0
	for len(p) > 0 {
		n := copy(pw.in[len(pw.in):cap(pw.in)], p)
		pw.in = pw.in[:len(pw.in)+n]
		p = p[n:]
		if len(pw.in) == cap(pw.in) {
			if err := pw.flush(len(pw.in) / UnpaddedBlockSize); err != nil {
				return written, err
			}
		}
		written += n
	}
	return written, nil
}

// flush pads and writes the first blocks buffered blocks.
func (pw *padWriter) flush(blocks int) error {
	Pad(pw.in[:blocks*UnpaddedBlockSize], pw.out[:blocks*PaddedBlockSize])
	if _, err := pw.w.Write(pw.out[:blocks*PaddedBlockSize]); err != nil {
		pw.err = fmt.Errorf("fr32: pad writer: %w", err)
		return pw.err
	}
	pw.in = pw.in[:copy(pw.in, pw.in[blocks*UnpaddedBlockSize:])]
	return nil
}

// Close pads and writes the buffered tail (zero-filling the last block). It
// is idempotent.
func (pw *padWriter) Close() error {
	if pw.closed {
		return pw.err
	}
	pw.closed = true
	if pw.err != nil || len(pw.in) == 0 {
		return pw.err
	}
	blocks := (len(pw.in) + UnpaddedBlockSize - 1) / UnpaddedBlockSize
	n := len(pw.in)
	pw.in = pw.in[:blocks*UnpaddedBlockSize]
	clear(pw.in[n:])
	return pw.flush(blocks)
}
