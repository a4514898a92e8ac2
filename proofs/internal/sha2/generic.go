package sha2

import (
	"encoding/binary"
	"math/bits"
)

// Round constants (FIPS 180-4 §4.2.2).
var k256 = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

// Initial hash value (FIPS 180-4 §5.3.3).
var iv = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

// padWK is W[t]+K[t] of the second block of every 64-byte message: 0x80,
// 55 zero bytes, the bit length 512 as a 64-bit big-endian integer. The
// block does not depend on the message, so neither does its schedule.
var padWK = func() (wk [64]uint32) {
	var w [64]uint32
	w[0] = 0x80000000
	w[15] = 512
	for t := 16; t < 64; t++ {
		w[t] = sigma1(w[t-2]) + w[t-7] + sigma0(w[t-15]) + w[t-16]
	}
	for t := range w {
		wk[t] = w[t] + k256[t]
	}
	return wk
}()

func sigma0(x uint32) uint32 {
	return bits.RotateLeft32(x, -7) ^ bits.RotateLeft32(x, -18) ^ x>>3
}

func sigma1(x uint32) uint32 {
	return bits.RotateLeft32(x, -17) ^ bits.RotateLeft32(x, -19) ^ x>>10
}

// rounds runs the 64 rounds of one compression on h with the given W+K,
// without the feed-forward.
func rounds(h *[8]uint32, wk *[64]uint32) {
	a, b, c, d, e, f, g, hh := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
	for t := 0; t < 64; t++ {
		s1 := bits.RotateLeft32(e, -6) ^ bits.RotateLeft32(e, -11) ^ bits.RotateLeft32(e, -25)
		ch := e&f ^ ^e&g
		t1 := hh + s1 + ch + wk[t]
		s0 := bits.RotateLeft32(a, -2) ^ bits.RotateLeft32(a, -13) ^ bits.RotateLeft32(a, -22)
		maj := a&b ^ a&c ^ b&c
		t2 := s0 + maj
		hh, g, f, e, d, c, b, a = g, f, e, d+t1, c, b, a, t1+t2
	}
	h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7] = a, b, c, d, e, f, g, hh
}

// hashWords returns H of the 16 big-endian message words w.
func hashWords(dst *[NodeSize]byte, w *[64]uint32) {
	for t := 16; t < 64; t++ {
		w[t] = sigma1(w[t-2]) + w[t-7] + sigma0(w[t-15]) + w[t-16]
	}
	for t := range w {
		w[t] += k256[t]
	}
	h := iv
	rounds(&h, w)
	for i := range h {
		h[i] += iv[i]
	}
	mid := h
	rounds(&h, &padWK)
	for i := range h {
		binary.BigEndian.PutUint32(dst[4*i:], h[i]+mid[i])
	}
	dst[31] &= 0x3f
}

// hashPairGeneric is HashPair in portable Go. The message is loaded before
// dst is written, so dst may alias a or b.
func hashPairGeneric(dst, a, b *[NodeSize]byte) {
	var w [64]uint32
	for i := range 8 {
		w[i] = binary.BigEndian.Uint32(a[4*i:])
		w[8+i] = binary.BigEndian.Uint32(b[4*i:])
	}
	hashWords(dst, &w)
}

// hashPairsGeneric is HashPairs in portable Go; lengths are checked by the
// caller.
func hashPairsGeneric(dst, src []byte) {
	var w [64]uint32
	for i := 0; i < len(dst)/NodeSize; i++ {
		pair := src[64*i : 64*i+64]
		for j := range 16 {
			w[j] = binary.BigEndian.Uint32(pair[4*j:])
		}
		hashWords((*[NodeSize]byte)(dst[NodeSize*i:]), &w)
	}
}

// compress runs one SHA-256 compression of the 64-byte block on h,
// feed-forward included.
func compress(h *[8]uint32, block []byte) {
	var w [64]uint32
	block = block[:64]
	for j := range 16 {
		w[j] = binary.BigEndian.Uint32(block[4*j:])
	}
	for t := 16; t < 64; t++ {
		w[t] = sigma1(w[t-2]) + w[t-7] + sigma0(w[t-15]) + w[t-16]
	}
	for t := range w {
		w[t] += k256[t]
	}
	mid := *h
	rounds(h, &w)
	for i := range h {
		h[i] += mid[i]
	}
}

// labelGeneric is Label in portable Go; len(parents) is checked by the
// caller. The 37 parent blocks are 18 whole 64-byte blocks, which never
// straddle the cyclic wrap because the block count is even (or 37, when
// there is no wrap), and a last block holding parent block 36 and the
// padding.
func labelGeneric(dst *[NodeSize]byte, prefix *[LabelPrefixSize]byte, parents []byte) {
	h := iv
	compress(&h, prefix[:])
	labelFinish(dst, &h, parents)
}

// labelFinish hashes the 37 parent blocks and the padding on the chaining
// value h after the prefix block and writes the label.
func labelFinish(dst *[NodeSize]byte, h *[8]uint32, parents []byte) {
	p := 0
	for range (LabelBlocks - 1) / 2 {
		compress(h, parents[p:p+64])
		if p += 64; p == len(parents) {
			p = 0
		}
	}
	var last [64]byte
	copy(last[:NodeSize], parents[p:])
	last[NodeSize] = 0x80
	binary.BigEndian.PutUint64(last[56:], (LabelPrefixSize+LabelBlocks*NodeSize)*8)
	compress(h, last[:])
	for i := range h {
		binary.BigEndian.PutUint32(dst[4*i:], h[i])
	}
	dst[31] &= 0x3f
}

// Midstate words are kept in the SHA-NI register order, F E B A H G D C
// (the state words a..h as indices 5 4 1 0 7 6 3 2), so that the assembly
// loads and stores it directly; midOrder maps Midstate index to state word.
var midOrder = [8]int{5, 4, 1, 0, 7, 6, 3, 2}

func (m *Midstate) get() (h [8]uint32) {
	for i, j := range midOrder {
		h[j] = m.w[i]
	}
	return h
}

func (m *Midstate) set(h *[8]uint32) {
	for i, j := range midOrder {
		m.w[i] = h[j]
	}
}

// prefixMidstate is PrefixMidstate in Go (both builds use it: it runs once
// per layer, not per node).
func prefixMidstate(m *Midstate, prefix *[LabelPrefixSize]byte) {
	h := iv
	compress(&h, prefix[:])
	m.set(&h)
}

// labelFromGeneric is LabelFrom in portable Go. mid is read before nextMid
// is written, so they may be the same.
func labelFromGeneric(dst *[NodeSize]byte, mid *Midstate, parents []byte, next *[LabelPrefixSize]byte, nextMid *Midstate) {
	h := mid.get()
	prefixMidstate(nextMid, next)
	labelFinish(dst, &h, parents)
}
