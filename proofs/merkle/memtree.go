package merkle

import (
	"context"
	"fmt"
)

// MemTree is a tree held entirely in memory: every row of every base tree.
// Use it for small trees and tests; Build/Open handle sector-sized ones.
// It is safe for concurrent reads.
type MemTree struct {
	shape     Shape
	lay       *layout
	rows      [][][]Node // [base tree][row][node]
	baseRoots []Node
	subRoots  []Node
	root      Node
}

// BuildMem builds the tree of the given shape over leaves with h.
func BuildMem(h Hasher, shape Shape, leaves []Node) (*MemTree, error) {
	cfg := Config{Hasher: h, Shape: shape, Leaves: uint64(len(leaves))}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	lay, _ := cfg.layout()
	t := &MemTree{shape: shape, lay: lay}
	n := cfg.BaseLeaves()
	for b := range shape.BaseTrees() {
		rows := newRows(lay, lay.height())
		copy(rows[0], leaves[uint64(b)*n:])
		if err := hashRows(h, lay.arity, rows); err != nil {
			return nil, fmt.Errorf("merkle: base tree %d: %w", b, err)
		}
		t.rows = append(t.rows, rows)
		t.baseRoots = append(t.baseRoots, rows[lay.height()][0])
	}
	var err error
	if t.root, t.subRoots, err = combineRoots(h, shape, t.baseRoots); err != nil {
		return nil, err
	}
	return t, nil
}

// Root is the tree root.
func (t *MemTree) Root() Node { return t.root }

// Row returns row r of base tree b (0 = leaves). The slice is shared; do
// not modify it.
func (t *MemTree) Row(b, r int) []Node { return t.rows[b][r] }

// Proof returns the inclusion proof of global leaf i.
func (t *MemTree) Proof(i uint64) (*Proof, error) {
	n := t.lay.widths[0]
	if i >= n*uint64(len(t.rows)) {
		return nil, fmt.Errorf("merkle: leaf %d out of range (%d leaves)", i, n*uint64(len(t.rows)))
	}
	b, j := int(i/n), i%n
	read := func(row int, start uint64, dst []Node) error {
		copy(dst, t.rows[b][row][start:])
		return nil
	}
	leaf, path, err := baseProof(t.lay, j, read)
	if err != nil {
		return nil, err
	}
	return compoundProof(t.shape, b, t.baseRoots, t.subRoots, t.root, leaf, path), nil
}

// Root computes only the root of leaves under shape with h, without storing
// anything, using the same chunked parallel builder as Build.
func Root(ctx context.Context, h Hasher, shape Shape, src LeafSource, leaves uint64, opts *BuildOptions) (Node, error) {
	cfg := Config{Hasher: h, Shape: shape, Leaves: leaves}
	if err := cfg.validate(); err != nil {
		return Node{}, err
	}
	lay, _ := cfg.layout()
	workers := 0
	if opts != nil {
		workers = opts.Workers
	}
	if workers <= 0 {
		workers = defaultWorkers()
	}
	roots := make([]Node, shape.BaseTrees())
	for b := range roots {
		r, err := buildBase(ctx, h, lay, src, uint64(b)*cfg.BaseLeaves(), nil, workers)
		if err != nil {
			return Node{}, fmt.Errorf("merkle: base tree %d: %w", b, err)
		}
		roots[b] = r
	}
	root, _, err := combineRoots(h, shape, roots)
	return root, err
}
