package merkle

import (
	"crypto/sha256"
	"fmt"
	"unsafe"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/sealant/sealant/proofs/internal/sha2"
	"github.com/sealant/sealant/proofs/poseidon"
)

// Node is one 32-byte tree node (leaf or interior) in Filecoin's on-disk
// form: for Poseidon trees a little-endian canonical field element, for the
// SHA-256 tree a digest with its top two bits cleared.
type Node = [32]byte

// NodeSize is the size of a Node in bytes.
const NodeSize = 32

// Hasher combines the children of interior nodes. It is the merkletree
// crate's Algorithm::multi_node: the hash of a node does not depend on its
// height, only on its children left to right.
//
// Implementations must be safe for concurrent use.
type Hasher interface {
	// Name identifies the hasher in errors.
	Name() string
	// HashNodes sets dst[i] to the hash of src[i*arity : (i+1)*arity] for
	// every i. len(src) must be arity*len(dst).
	HashNodes(arity int, dst, src []Node) error
}

// SHA256 is the TreeD / CommD hasher: SHA-256 of the concatenated children
// with the two most significant bits of the little-endian result cleared
// (rust-fil-proofs Sha256Hasher, trim_to_fr32). Filecoin uses it with
// arity 2 only.
var SHA256 Hasher = sha256Hasher{}

// Poseidon is the TreeC / TreeR_last hasher: neptune Poseidon of the
// children as field elements, arity = number of children (8 for base trees,
// 8 or 2 for the sub/top combination of 32/64 GiB sectors). Non-canonical
// inputs are rejected with poseidon.ErrNonCanonical.
var Poseidon Hasher = poseidonHasher{}

type sha256Hasher struct{}

func (sha256Hasher) Name() string { return "sha256-trunc254" }

func (sha256Hasher) HashNodes(arity int, dst, src []Node) error {
	if err := checkHashArgs(arity, dst, src); err != nil {
		return err
	}
	if arity == 2 {
		// The binary node hash shared with CommP/CommD: one call per
		// level, so the SHA-NI code hashes independent pairs interleaved
		// with no per-node overhead. A []Node is contiguous bytes, and
		// sha2.HashPairs accepts dst == src as well as disjoint buffers.
		sha2.HashPairs(nodesAsBytes(dst), nodesAsBytes(src))
		return nil
	}
	for i := range dst {
		group := src[i*arity : (i+1)*arity]
		dst[i] = sha256.Sum256(nodesAsBytes(group))
		dst[i][31] &= 0x3f
	}
	return nil
}

type poseidonHasher struct{}

func (poseidonHasher) Name() string { return "poseidon" }

func (poseidonHasher) HashNodes(arity int, dst, src []Node) error {
	if err := checkHashArgs(arity, dst, src); err != nil {
		return err
	}
	if arity > poseidon.MaxArity {
		return fmt.Errorf("merkle: poseidon arity %d: %w", arity, poseidon.ErrArity)
	}
	var in [poseidon.MaxArity]fr.Element
	for i := range dst {
		group := src[i*arity : (i+1)*arity]
		for k := range group {
			e, err := poseidon.ElementFromBytes(group[k])
			if err != nil {
				return fmt.Errorf("merkle: node %d: %w", i*arity+k, err)
			}
			in[k] = e
		}
		var h fr.Element
		switch arity {
		case 8:
			h = poseidon.Hash8((*[8]fr.Element)(in[:8]))
		case 2:
			h = poseidon.Hash2(in[0], in[1])
		default:
			var err error
			if h, err = poseidon.Hash(in[:arity]); err != nil {
				return fmt.Errorf("merkle: %w", err)
			}
		}
		dst[i] = poseidon.ElementToBytes(h)
	}
	return nil
}

func checkHashArgs(arity int, dst, src []Node) error {
	if arity < 2 {
		return fmt.Errorf("%w: arity %d", ErrShape, arity)
	}
	if len(src) != arity*len(dst) {
		return fmt.Errorf("merkle: %d children for %d parents of arity %d", len(src), len(dst), arity)
	}
	return nil
}

// nodesAsBytes views a node slice as its bytes without copying. Node is a
// [32]byte array, so a []Node is one contiguous run of 32·len bytes.
func nodesAsBytes(n []Node) []byte {
	if len(n) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&n[0])), len(n)*NodeSize)
}
