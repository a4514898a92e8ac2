package commp

import (
	"crypto/sha256"
	"hash"
)

// NodeSize is the size in bytes of a tree node (a leaf or a hash).
const NodeSize = 32

// HashPair returns the parent of two tree nodes: SHA-256(a‖b) with the two
// most significant bits of the last byte cleared (rust-fil-proofs
// filecoin-hashers sha256.rs; the "trunc254" of the multihash name). It is
// the node hash of CommP, CommD and TreeD.
func HashPair(a, b [32]byte) [32]byte {
	var buf [64]byte
	copy(buf[:32], a[:])
	copy(buf[32:], b[:])
	out := sha256.Sum256(buf[:])
	out[31] &= 0x3f
	return out
}

// nodeHasher hashes 64-byte sibling pairs with one reused SHA-256 state, so
// a tree reduction allocates nothing per node. crypto/sha256 uses the SHA
// extensions (SHA-NI) when the CPU has them.
type nodeHasher struct {
	h hash.Hash
}

func newNodeHasher() *nodeHasher { return &nodeHasher{h: sha256.New()} }

// reduceLevel hashes the n/2 sibling pairs of the n nodes at the front of
// buf into the front of buf (node i is overwritten only after nodes 2i and
// 2i+1 were read) and returns the number of parents. An odd last node is
// paired with zero, the root of an all-zero subtree of the same level.
func (nh *nodeHasher) reduceLevel(buf []byte, n int, zero *[32]byte) int {
	h := nh.h
	pairs := n / 2
	for i := 0; i < pairs; i++ {
		h.Reset()
		h.Write(buf[64*i : 64*i+64])
		out := h.Sum(buf[32*i : 32*i : 32*i+32])
		out[31] &= 0x3f
	}
	if n%2 == 1 {
		h.Reset()
		h.Write(buf[32*(n-1) : 32*n])
		h.Write(zero[:])
		out := h.Sum(buf[32*pairs : 32*pairs : 32*pairs+32])
		out[31] &= 0x3f
		pairs++
	}
	return pairs
}

// root reduces the padded bytes in buf (a whole number of nodes, at least
// one) in place to the root of the smallest power-of-two tree holding them,
// the missing right part being zeros. It returns the root and the tree size
// in bytes. buf is clobbered.
func (nh *nodeHasher) root(buf []byte) (root [32]byte, size uint64) {
	n := len(buf) / NodeSize
	level := 0
	for n > 1 {
		n = nh.reduceLevel(buf, n, &zeroComms[level])
		level++
	}
	copy(root[:], buf[:NodeSize])
	return root, NodeSize << level
}
