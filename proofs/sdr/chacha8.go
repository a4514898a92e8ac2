package sdr

import (
	"encoding/binary"
	"math/bits"
)

// chacha8 is the word stream of rand_chacha 0.3's ChaCha8Rng seeded with
// SeedableRng::from_seed: ChaCha with 8 rounds, the 32-byte seed as key, a
// 64-bit block counter in state words 12–13 starting at zero and a zero
// stream id in words 14–15. The DRG only draws u64s, which rand_core's
// BlockRng assembles from consecutive (low, high) word pairs, so the stream
// can be consumed one 16-word block at a time without crossing a pair.
type chacha8 struct {
	key     [8]uint32
	counter uint64
	block   [16]uint32
	pos     int // next word of block; 16 means "refill"
}

func (c *chacha8) seed(seed *[32]byte) {
	for i := range c.key {
		c.key[i] = binary.LittleEndian.Uint32(seed[4*i:])
	}
	c.counter = 0
	c.pos = 16
}

// nextU64 returns the next draw, like rand_core's BlockRng::next_u64.
func (c *chacha8) nextU64() uint64 {
	if c.pos >= 16 {
		chacha8Block(&c.block, &c.key, c.counter)
		c.counter++
		c.pos = 0
	}
	lo, hi := c.block[c.pos], c.block[c.pos+1]
	c.pos += 2
	return uint64(lo) | uint64(hi)<<32
}

// chacha8Block computes one 64-byte ChaCha8 block (as 16 little-endian words).
func chacha8Block(out *[16]uint32, key *[8]uint32, counter uint64) {
	const c0, c1, c2, c3 = 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 // "expand 32-byte k"
	x0, x1, x2, x3 := uint32(c0), uint32(c1), uint32(c2), uint32(c3)
	x4, x5, x6, x7 := key[0], key[1], key[2], key[3]
	x8, x9, x10, x11 := key[4], key[5], key[6], key[7]
	x12, x13, x14, x15 := uint32(counter), uint32(counter>>32), uint32(0), uint32(0)

	for range 4 { // 4 double rounds = 8 rounds
		// Column round.
		x0, x4, x8, x12 = quarterRound(x0, x4, x8, x12)
		x1, x5, x9, x13 = quarterRound(x1, x5, x9, x13)
		x2, x6, x10, x14 = quarterRound(x2, x6, x10, x14)
		x3, x7, x11, x15 = quarterRound(x3, x7, x11, x15)
		// Diagonal round.
		x0, x5, x10, x15 = quarterRound(x0, x5, x10, x15)
		x1, x6, x11, x12 = quarterRound(x1, x6, x11, x12)
		x2, x7, x8, x13 = quarterRound(x2, x7, x8, x13)
		x3, x4, x9, x14 = quarterRound(x3, x4, x9, x14)
	}

	out[0], out[1], out[2], out[3] = x0+c0, x1+c1, x2+c2, x3+c3
	out[4], out[5], out[6], out[7] = x4+key[0], x5+key[1], x6+key[2], x7+key[3]
	out[8], out[9], out[10], out[11] = x8+key[4], x9+key[5], x10+key[6], x11+key[7]
	out[12], out[13], out[14], out[15] = x12+uint32(counter), x13+uint32(counter>>32), x14, x15
}

func quarterRound(a, b, c, d uint32) (uint32, uint32, uint32, uint32) {
	a += b
	d = bits.RotateLeft32(d^a, 16)
	c += d
	b = bits.RotateLeft32(b^c, 12)
	a += b
	d = bits.RotateLeft32(d^a, 8)
	c += d
	b = bits.RotateLeft32(b^c, 7)
	return a, b, c, d
}
