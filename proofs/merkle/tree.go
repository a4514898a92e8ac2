package merkle

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Tree is a built tree opened from its cache-directory files, for reading
// roots and generating inclusion proofs. It is safe for concurrent use.
type Tree struct {
	cfg       Config
	lay       *layout
	files     []*os.File
	src       LeafSource
	baseRoots []Node
	subRoots  []Node
	root      Node
}

// Open opens the base-tree files of cfg, checks their sizes against the
// layout and recomputes the compound root from the stored base roots. src
// provides the leaves and is required for LevelCache trees (the sealed
// replica for tree-r-last); it is unused otherwise and may be nil.
func Open(cfg Config, src LeafSource) (*Tree, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.LevelCache && src == nil {
		return nil, errNoSource
	}
	lay, _ := cfg.layout()
	t := &Tree{cfg: cfg, lay: lay, src: src}
	want := int64(lay.nodes) * NodeSize
	for _, p := range cfg.Paths() {
		f, err := os.Open(p)
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("merkle: open tree: %w", err)
		}
		t.files = append(t.files, f)
		st, err := f.Stat()
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("merkle: open tree: %w", err)
		}
		if st.Size() != want {
			t.Close()
			return nil, fmt.Errorf("%w: %s is %d bytes, want %d", ErrStore, p, st.Size(), want)
		}
		var r [1]Node
		if err := readNodes(f, r[:], lay.nodes-1); err != nil {
			t.Close()
			return nil, fmt.Errorf("merkle: read root of %s: %w", p, err)
		}
		t.baseRoots = append(t.baseRoots, r[0])
	}
	var err error
	t.root, t.subRoots, err = combineRoots(cfg.Hasher, cfg.Shape, t.baseRoots)
	if err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// Close closes the tree files.
func (t *Tree) Close() error {
	var errs []error
	for _, f := range t.files {
		errs = append(errs, f.Close())
	}
	t.files = nil
	return errors.Join(errs...)
}

// Root is the tree root (comm_d, comm_c or comm_r_last).
func (t *Tree) Root() Node { return t.root }

// BaseRoots returns the roots of the base trees in order.
func (t *Tree) BaseRoots() []Node { return append([]Node(nil), t.baseRoots...) }

// Proof returns the inclusion proof of leaf i (a global leaf index).
//
// For LevelCache trees the discarded rows are rebuilt, as merkletree
// gen_cached_proof does, from the arity^(RowsToDiscard+1) leaves around i
// read from the leaf source; the rebuilt sub-tree root is checked against
// the stored row above it, so a replica that does not match the tree file
// gives ErrStore instead of a proof that fails later.
func (t *Tree) Proof(i uint64) (*Proof, error) {
	if i >= t.cfg.Leaves {
		return nil, fmt.Errorf("merkle: leaf %d out of range (%d leaves)", i, t.cfg.Leaves)
	}
	n := t.cfg.BaseLeaves()
	b, j := int(i/n), i%n
	f := t.files[b]
	lay := t.lay

	var (
		seg      [][]Node // rebuilt rows 0..lay.first of the segment around j
		segStart uint64   // first leaf of the segment (base-local)
	)
	read := func(row int, start uint64, dst []Node) error {
		if lay.stored(row) {
			return readNodes(f, dst, lay.offsets[row]+start)
		}
		if seg == nil {
			var err error
			if seg, segStart, err = t.rebuildSegment(b, j); err != nil {
				return err
			}
		}
		rowStart := segStart / (lay.widths[0] / lay.widths[row])
		copy(dst, seg[row][start-rowStart:])
		return nil
	}
	leaf, path, err := baseProof(lay, j, read)
	if err != nil {
		return nil, fmt.Errorf("merkle: proof of leaf %d: %w", i, err)
	}
	return compoundProof(t.cfg.Shape, b, t.baseRoots, t.subRoots, t.root, leaf, path), nil
}

// rebuildSegment recomputes rows 0..first of the sub-tree holding base-local
// leaf j of base tree b and checks its root against the stored row.
func (t *Tree) rebuildSegment(b int, j uint64) ([][]Node, uint64, error) {
	lay := t.lay
	rows := newRows(lay, lay.first)
	width := uint64(len(rows[0]))
	start := j - j%width
	if err := t.src.ReadLeaves(rows[0], uint64(b)*t.cfg.BaseLeaves()+start); err != nil {
		return nil, 0, err
	}
	if err := hashRows(t.cfg.Hasher, lay.arity, rows); err != nil {
		return nil, 0, err
	}
	var stored [1]Node
	if err := readNodes(t.files[b], stored[:], lay.offsets[lay.first]+start/width); err != nil {
		return nil, 0, err
	}
	if stored[0] != rows[lay.first][0] {
		return nil, 0, fmt.Errorf("%w: leaves %d..%d of base tree %d do not hash to the cached row", ErrStore, start, start+width, b)
	}
	return rows, start, nil
}

func readNodes(r io.ReaderAt, dst []Node, off uint64) error {
	buf := nodesAsBytes(dst)
	n, err := r.ReadAt(buf, int64(off)*NodeSize)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}
