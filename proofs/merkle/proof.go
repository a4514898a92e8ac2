package merkle

import "fmt"

// PathElement is one row of an inclusion path (rust-fil-proofs
// merkle/proof.rs PathElement): the arity−1 siblings of the running node,
// left to right with the node's own slot left out, and Index, the node's
// position (0..arity−1) among its siblings.
type PathElement struct {
	Hashes []Node
	Index  uint64
}

// Proof is an inclusion proof in rust-fil-proofs' model (porep.md §9.3):
// a path through the base tree from the leaf upwards, then for compound
// shapes one element for the sub-tree node (siblings = the other base-tree
// roots of the group, Index = base tree number within it) and one for the
// top node. Single-tree proofs have empty Sub and Top; 32 GiB proofs
// (ProofData::Sub) have one Sub element; 64 GiB proofs (ProofData::Top) one
// Sub and one Top element. The arity of each element is len(Hashes)+1.
type Proof struct {
	Leaf Node
	Root Node
	Base []PathElement
	Sub  []PathElement
	Top  []PathElement
}

// ComputeRoot folds the path over the leaf with h: at each element the
// running hash is inserted at Index among Hashes and the group is hashed.
func (p *Proof) ComputeRoot(h Hasher) (Node, error) {
	cur := p.Leaf
	var group [16]Node
	for _, part := range [][]PathElement{p.Base, p.Sub, p.Top} {
		for lvl, e := range part {
			arity := len(e.Hashes) + 1
			if arity < 2 || arity > len(group) || e.Index >= uint64(arity) {
				return Node{}, fmt.Errorf("%w: element %d has %d siblings and index %d", ErrProofInvalid, lvl, len(e.Hashes), e.Index)
			}
			copy(group[:e.Index], e.Hashes[:e.Index])
			group[e.Index] = cur
			copy(group[e.Index+1:arity], e.Hashes[e.Index:])
			var out [1]Node
			if err := h.HashNodes(arity, out[:], group[:arity]); err != nil {
				return Node{}, fmt.Errorf("%w: %w", ErrProofInvalid, err)
			}
			cur = out[0]
		}
	}
	return cur, nil
}

// Verify checks that the path hashes Leaf to Root (rust-fil-proofs
// MerkleProof::verify). It does not check which leaf is proven; compare
// PathIndex with the challenge for that.
func (p *Proof) Verify(h Hasher) error {
	root, err := p.ComputeRoot(h)
	if err != nil {
		return err
	}
	if root != p.Root {
		return fmt.Errorf("%w: computed root %x, want %x", ErrProofInvalid, root, p.Root)
	}
	return nil
}

// PathIndex is the leaf index the path proves (rust-fil-proofs path_index):
// the base path read as digits from the top row down, plus the sub-tree and
// top-tree positions scaled by the leaves below them.
func (p *Proof) PathIndex() uint64 {
	idx, leaves := uint64(0), uint64(1)
	for _, part := range [][]PathElement{p.Base, p.Sub, p.Top} {
		for _, e := range part {
			idx += e.Index * leaves
			leaves *= uint64(len(e.Hashes) + 1)
		}
	}
	return idx
}

// ProvesChallenge reports whether the proof is for leaf challenge
// (rust-fil-proofs proves_challenge).
func (p *Proof) ProvesChallenge(challenge uint64) bool { return p.PathIndex() == challenge }

// pathElement builds the element for the node at position idx of row
// (whose group of arity nodes starting at idx−idx%arity is in group).
func pathElement(group []Node, pos uint64) PathElement {
	e := PathElement{Hashes: make([]Node, 0, len(group)-1), Index: pos}
	e.Hashes = append(e.Hashes, group[:pos]...)
	e.Hashes = append(e.Hashes, group[pos+1:]...)
	return e
}

// rowReader reads len(dst) nodes of a base-tree row starting at start.
type rowReader func(row int, start uint64, dst []Node) error

// baseProof builds the base-tree path for local leaf j, returning the leaf.
func baseProof(lay *layout, j uint64, read rowReader) (Node, []PathElement, error) {
	a := uint64(lay.arity)
	var leaf [1]Node
	if err := read(0, j, leaf[:]); err != nil {
		return Node{}, nil, err
	}
	path := make([]PathElement, 0, lay.height())
	group := make([]Node, a)
	idx := j
	for row := 0; row < lay.height(); row++ {
		pos := idx % a
		if err := read(row, idx-pos, group); err != nil {
			return Node{}, nil, err
		}
		path = append(path, pathElement(group, pos))
		idx /= a
	}
	return leaf[0], path, nil
}

// compoundProof completes a base path with the sub/top elements.
func compoundProof(s Shape, b int, baseRoots, subRoots []Node, root, leaf Node, base []PathElement) *Proof {
	p := &Proof{Leaf: leaf, Root: root, Base: base}
	if s.Sub == 0 {
		return p
	}
	g := b / s.Sub
	p.Sub = []PathElement{pathElement(baseRoots[g*s.Sub:(g+1)*s.Sub], uint64(b%s.Sub))}
	if s.Top > 0 {
		p.Top = []PathElement{pathElement(subRoots, uint64(g))}
	}
	return p
}
