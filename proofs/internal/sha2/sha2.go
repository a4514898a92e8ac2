package sha2

import "fmt"

// NodeSize is the size in bytes of a tree node and of a node hash.
const NodeSize = 32

// HashPair sets *dst to H(a, b): SHA-256 of the 64 bytes a‖b with the two
// most significant bits of dst[31] cleared. dst may be a or b.
func HashPair(dst, a, b *[NodeSize]byte) {
	if useSHANI {
		hashPairSHANI(dst, a, b)
		return
	}
	hashPairGeneric(dst, a, b)
}

// HashPairs hashes one tree level: for every i, dst[32i:32i+32] is set to H
// of the pair src[64i:64i+64]. len(src) must be 2·len(dst) and a multiple
// of 64; other lengths are a programming error and panic.
//
// dst may start at the same address as src (in-place reduction of a level
// into the front of its own buffer: node i is written only after pair i was
// read); any other overlap gives unspecified results.
func HashPairs(dst, src []byte) {
	if len(src)%(2*NodeSize) != 0 || len(src) != 2*len(dst) {
		panic(fmt.Sprintf("sha2: HashPairs of %d source bytes into %d: need 64n into 32n", len(src), len(dst)))
	}
	n := len(dst) / NodeSize
	if n == 0 {
		return
	}
	if useSHANI {
		hashPairsSHANI(&dst[0], &src[0], n)
		return
	}
	hashPairsGeneric(dst, src)
}
