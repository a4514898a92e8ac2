package fr32

import (
	"encoding/binary"
	"fmt"
)

// mask62 keeps the low 62 bits of the last 64-bit word of an element: bits
// 254 and 255 of every element must be zero.
const mask62 = 1<<62 - 1

var le = binary.LittleEndian

// Pad Fr32-pads in into out. len(in) must be a multiple of 127 and len(out)
// must be len(in)/127*128; like cipher.Block it panics otherwise, because a
// mismatch is a programming error, not bad data. in and out must not
// overlap.
func Pad(in, out []byte) {
	if len(in)%UnpaddedBlockSize != 0 || len(out) != len(in)/UnpaddedBlockSize*PaddedBlockSize {
		panic(fmt.Sprintf("fr32: Pad: bad lengths in=%d out=%d", len(in), len(out)))
	}
	for len(in) >= UnpaddedBlockSize {
		padBlock((*[UnpaddedBlockSize]byte)(in), (*[PaddedBlockSize]byte)(out))
		in = in[UnpaddedBlockSize:]
		out = out[PaddedBlockSize:]
	}
}

// Unpad reverses Pad: len(in) must be a multiple of 128 and len(out) must be
// len(in)/128*127, otherwise it panics. The two top bits of every element are
// ignored (they are zero in any output of Pad). in and out must not overlap.
func Unpad(in, out []byte) {
	if len(in)%PaddedBlockSize != 0 || len(out) != len(in)/PaddedBlockSize*UnpaddedBlockSize {
		panic(fmt.Sprintf("fr32: Unpad: bad lengths in=%d out=%d", len(in), len(out)))
	}
	for len(in) >= PaddedBlockSize {
		unpadBlock((*[PaddedBlockSize]byte)(in), (*[UnpaddedBlockSize]byte)(out))
		in = in[PaddedBlockSize:]
		out = out[UnpaddedBlockSize:]
	}
}

// padBlock expands one 127-byte block. The input is viewed as sixteen 64-bit
// little-endian words w0..w15 (w15 has only 56 bits). Element k starts at
// bit 254k, i.e. 2k bits below a word boundary, so each output word is two
// adjacent input words joined by a shift of 2k bits — four words per
// element, no bit loops.
func padBlock(in *[UnpaddedBlockSize]byte, out *[PaddedBlockSize]byte) {
	w0 := le.Uint64(in[0:])
	w1 := le.Uint64(in[8:])
	w2 := le.Uint64(in[16:])
	w3 := le.Uint64(in[24:])
	w4 := le.Uint64(in[32:])
	w5 := le.Uint64(in[40:])
	w6 := le.Uint64(in[48:])
	w7 := le.Uint64(in[56:])
	w8 := le.Uint64(in[64:])
	w9 := le.Uint64(in[72:])
	w10 := le.Uint64(in[80:])
	w11 := le.Uint64(in[88:])
	w12 := le.Uint64(in[96:])
	w13 := le.Uint64(in[104:])
	w14 := le.Uint64(in[112:])
	w15 := le.Uint64(in[119:]) >> 8 // bytes 120..126; avoids reading past the block

	// element 0: bits 0..253
	le.PutUint64(out[0:], w0)
	le.PutUint64(out[8:], w1)
	le.PutUint64(out[16:], w2)
	le.PutUint64(out[24:], w3&mask62)
	// element 1: bits 254..507 (shift 62 = 64-2)
	le.PutUint64(out[32:], w3>>62|w4<<2)
	le.PutUint64(out[40:], w4>>62|w5<<2)
	le.PutUint64(out[48:], w5>>62|w6<<2)
	le.PutUint64(out[56:], (w6>>62|w7<<2)&mask62)
	// element 2: bits 508..761
	le.PutUint64(out[64:], w7>>60|w8<<4)
	le.PutUint64(out[72:], w8>>60|w9<<4)
	le.PutUint64(out[80:], w9>>60|w10<<4)
	le.PutUint64(out[88:], (w10>>60|w11<<4)&mask62)
	// element 3: bits 762..1015
	le.PutUint64(out[96:], w11>>58|w12<<6)
	le.PutUint64(out[104:], w12>>58|w13<<6)
	le.PutUint64(out[112:], w13>>58|w14<<6)
	le.PutUint64(out[120:], (w14>>58|w15<<6)&mask62)
}

// unpadBlock is the inverse of padBlock: it reassembles the 1016-bit stream
// from the low 254 bits of each element.
func unpadBlock(in *[PaddedBlockSize]byte, out *[UnpaddedBlockSize]byte) {
	a0 := le.Uint64(in[0:])
	a1 := le.Uint64(in[8:])
	a2 := le.Uint64(in[16:])
	a3 := le.Uint64(in[24:]) & mask62
	b0 := le.Uint64(in[32:])
	b1 := le.Uint64(in[40:])
	b2 := le.Uint64(in[48:])
	b3 := le.Uint64(in[56:]) & mask62
	c0 := le.Uint64(in[64:])
	c1 := le.Uint64(in[72:])
	c2 := le.Uint64(in[80:])
	c3 := le.Uint64(in[88:]) & mask62
	d0 := le.Uint64(in[96:])
	d1 := le.Uint64(in[104:])
	d2 := le.Uint64(in[112:])
	d3 := le.Uint64(in[120:]) & mask62

	le.PutUint64(out[0:], a0)
	le.PutUint64(out[8:], a1)
	le.PutUint64(out[16:], a2)
	le.PutUint64(out[24:], a3|b0<<62)
	le.PutUint64(out[32:], b0>>2|b1<<62)
	le.PutUint64(out[40:], b1>>2|b2<<62)
	le.PutUint64(out[48:], b2>>2|b3<<62)
	le.PutUint64(out[56:], b3>>2|c0<<60)
	le.PutUint64(out[64:], c0>>4|c1<<60)
	le.PutUint64(out[72:], c1>>4|c2<<60)
	le.PutUint64(out[80:], c2>>4|c3<<60)
	le.PutUint64(out[88:], c3>>4|d0<<58)
	le.PutUint64(out[96:], d0>>6|d1<<58)
	le.PutUint64(out[104:], d1>>6|d2<<58)
	le.PutUint64(out[112:], d2>>6|d3<<58)
	// The last word holds 56 bits (bytes 120..126). Write it through the
	// overlapping window 119..126 so that no store leaves the block; byte 119
	// is rewritten with the value just stored above.
	le.PutUint64(out[119:], (d3>>6)<<8|uint64(out[119]))
}
