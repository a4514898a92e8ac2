package commp

import "github.com/sealant/sealant/proofs/internal/sha2"

// NodeSize is the size in bytes of a tree node (a leaf or a hash).
const NodeSize = 32

// HashPair returns the parent of two tree nodes: SHA-256(a‖b) with the two
// most significant bits of the last byte cleared (rust-fil-proofs
// filecoin-hashers sha256.rs; the "trunc254" of the multihash name). It is
// the node hash of CommP, CommD and TreeD.
func HashPair(a, b [32]byte) [32]byte {
	var out [32]byte
	sha2.HashPair(&out, &a, &b)
	return out
}

// nodeHasher reduces padded chunks to subtree roots. It holds no state any
// more (internal/sha2 needs none), but keeps the per-worker handle so the
// pipeline does not depend on how nodes are hashed.
type nodeHasher struct{}

func newNodeHasher() *nodeHasher { return &nodeHasher{} }

// reduceLevel hashes the n/2 sibling pairs of the n nodes at the front of
// buf into the front of buf and returns the number of parents. The whole
// level is one sha2.HashPairs call, which hashes in place (node i is
// written only after pair i was read) and interleaves independent pairs.
// An odd last node is paired with zero, the root of an all-zero subtree of
// the same level.
func (nh *nodeHasher) reduceLevel(buf []byte, n int, zero *[32]byte) int {
	pairs := n / 2
	sha2.HashPairs(buf[:NodeSize*pairs], buf[:2*NodeSize*pairs])
	if n%2 == 1 {
		last := (*[NodeSize]byte)(buf[NodeSize*(n-1):])
		sha2.HashPair((*[NodeSize]byte)(buf[NodeSize*pairs:]), last, zero)
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
