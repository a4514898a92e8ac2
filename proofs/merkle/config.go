package merkle

import "fmt"

// Config describes one tree as rust-fil-proofs stores it in a sector cache
// directory.
type Config struct {
	// Hasher combines child nodes (SHA256 for TreeD, Poseidon otherwise).
	Hasher Hasher
	// Shape gives the base, sub-tree and top-tree arities.
	Shape Shape
	// Leaves is the total number of leaves over all base trees (the sector
	// size / 32).
	Leaves uint64
	// Dir is the cache directory and ID the store id (IDTreeD, IDTreeC,
	// IDTreeRLast); files are named by BaseTreePath.
	Dir, ID string
	// LevelCache selects merkletree's LevelCacheStore layout (tree-r-last):
	// the leaves and the RowsToDiscard rows above them are not stored and
	// are rebuilt from the leaf source when proving. Otherwise the file is
	// a DiskStore holding every row, leaves first (tree-d, tree-c).
	LevelCache bool
	// RowsToDiscard is only used with LevelCache; see DefaultRowsToDiscard.
	RowsToDiscard int
}

// layout is the row geometry of one base tree and where each row lives in
// its file.
type layout struct {
	arity  int
	widths []uint64 // nodes per row, leaves first
	// first is the lowest stored row; offsets[l] is the node offset of row l
	// in the file for l ≥ first.
	first   int
	offsets []uint64
	nodes   uint64 // file size in nodes
}

func (c *Config) validate() error {
	if c.Hasher == nil {
		return fmt.Errorf("%w: no hasher", ErrShape)
	}
	if err := c.Shape.Validate(); err != nil {
		return err
	}
	if b := uint64(c.Shape.BaseTrees()); c.Leaves == 0 || c.Leaves%b != 0 {
		return fmt.Errorf("%w: %d leaves do not split into %d base trees", ErrShape, c.Leaves, b)
	}
	_, err := c.layout()
	return err
}

// BaseLeaves is the number of leaves of each base tree.
func (c *Config) BaseLeaves() uint64 { return c.Leaves / uint64(c.Shape.BaseTrees()) }

// Paths lists the files of the base trees, in base-tree order.
func (c *Config) Paths() []string {
	n := c.Shape.BaseTrees()
	out := make([]string, n)
	for b := range out {
		out[b] = BaseTreePath(c.Dir, c.ID, b, n)
	}
	return out
}

// FileSize is the size in bytes of each base-tree file.
func (c *Config) FileSize() (int64, error) {
	l, err := c.layout()
	if err != nil {
		return 0, err
	}
	return int64(l.nodes) * NodeSize, nil
}

func (c *Config) layout() (*layout, error) {
	w, err := LevelWidths(c.BaseLeaves(), c.Shape.Base)
	if err != nil {
		return nil, err
	}
	l := &layout{arity: c.Shape.Base, widths: w, offsets: make([]uint64, len(w))}
	if c.LevelCache {
		if c.RowsToDiscard < 0 || len(w)-1 <= c.RowsToDiscard {
			return nil, fmt.Errorf("%w: cannot discard %d rows of a %d-row tree", ErrShape, c.RowsToDiscard, len(w))
		}
		l.first = c.RowsToDiscard + 1
	}
	for r := l.first; r < len(w); r++ {
		l.offsets[r] = l.nodes
		l.nodes += w[r]
	}
	return l, nil
}

func (l *layout) stored(row int) bool { return row >= l.first }

func (l *layout) height() int { return len(l.widths) - 1 }
