package merkle

import (
	"errors"
	"fmt"
	"math/bits"
	"path/filepath"
	"strconv"
)

// Sentinel errors.
var (
	// ErrShape reports a tree size or shape that the merkletree layout
	// cannot represent (leaf count not a power of the arity, unsupported
	// arity, too many rows discarded, …).
	ErrShape = errors.New("merkle: invalid tree shape")
	// ErrProofInvalid reports an inclusion proof that does not hash to its
	// root, or is malformed.
	ErrProofInvalid = errors.New("merkle: invalid inclusion proof")
	// ErrStore reports a tree file whose size or contents do not match the
	// configuration it is opened with.
	ErrStore = errors.New("merkle: inconsistent tree store")
)

// Cache-directory ids of the trees rust-fil-proofs writes (CacheKey in
// storage-proofs-porep/src/stacked/vanilla/cache.rs).
const (
	IDTreeD     = "tree-d"
	IDTreeC     = "tree-c"
	IDTreeRLast = "tree-r-last"
)

// DefaultRowsToDiscardSetting is rust-fil-proofs' settings default
// (FIL_PROOFS_ROWS_TO_DISCARD, DEFAULT_ROWS_TO_DISCARD = 2) that caps the
// rows discarded from arity-8 tree-r-last files.
const DefaultRowsToDiscardSetting = 2

// Shape is a compound tree shape (rust-fil-proofs SectorShape*): base trees
// of arity Base over the leaves, optionally combined by Sub-ary nodes into
// sub-trees and those by a Top-ary root. Sub = Top = 0 is a single base
// tree; Top > 0 requires Sub > 0.
type Shape struct {
	Base, Sub, Top int
}

// Sector tree shapes of TreeC and TreeR_last (filecoin-proofs constants.rs).
var (
	// ShapeBase is SectorShapeBase (2 KiB, 8 MiB, 512 MiB): one oct tree.
	ShapeBase = Shape{Base: 8}
	// ShapeSub8 is SectorShapeSub8 (32 GiB): 8 oct trees joined by one
	// arity-8 node.
	ShapeSub8 = Shape{Base: 8, Sub: 8}
	// ShapeTop2 is SectorShapeTop2 (64 GiB): 16 oct trees, two arity-8
	// sub-tree nodes, one arity-2 root.
	ShapeTop2 = Shape{Base: 8, Sub: 8, Top: 2}
	// ShapeBinary is the single binary tree used for TreeD.
	ShapeBinary = Shape{Base: 2}
)

// ShapeForSectorSize returns the TreeC/TreeR_last shape of a production
// sector size in bytes.
func ShapeForSectorSize(size uint64) (Shape, error) {
	switch size {
	case 2 << 10, 8 << 20, 512 << 20:
		return ShapeBase, nil
	case 32 << 30:
		return ShapeSub8, nil
	case 64 << 30:
		return ShapeTop2, nil
	}
	return Shape{}, fmt.Errorf("%w: no tree shape for sector size %d", ErrShape, size)
}

// BaseTrees is the number of base trees (1, Sub, or Sub·Top).
func (s Shape) BaseTrees() int {
	n := 1
	if s.Sub > 0 {
		n *= s.Sub
	}
	if s.Top > 0 {
		n *= s.Top
	}
	return n
}

// Validate checks that the arities are powers of two the hashers support.
func (s Shape) Validate() error {
	ok := func(a int) bool { return a >= 2 && a <= 16 && a&(a-1) == 0 }
	switch {
	case !ok(s.Base):
		return fmt.Errorf("%w: base arity %d", ErrShape, s.Base)
	case s.Sub != 0 && !ok(s.Sub):
		return fmt.Errorf("%w: sub-tree arity %d", ErrShape, s.Sub)
	case s.Top != 0 && !ok(s.Top):
		return fmt.Errorf("%w: top-tree arity %d", ErrShape, s.Top)
	case s.Top != 0 && s.Sub == 0:
		return fmt.Errorf("%w: top arity without sub arity", ErrShape)
	}
	return nil
}

// LevelWidths returns the number of nodes in each row of a base tree with
// the given leaf count, leaves first and root last. The leaf count must be
// arity^h with h ≥ 1 (merkletree requires a full tree).
func LevelWidths(leaves uint64, arity int) ([]uint64, error) {
	if arity < 2 || arity&(arity-1) != 0 {
		return nil, fmt.Errorf("%w: arity %d is not a power of two ≥ 2", ErrShape, arity)
	}
	shift := uint(bits.TrailingZeros(uint(arity)))
	if leaves < uint64(arity) || leaves&(leaves-1) != 0 || uint(bits.TrailingZeros64(leaves))%shift != 0 {
		return nil, fmt.Errorf("%w: %d leaves is not a power of arity %d", ErrShape, leaves, arity)
	}
	var w []uint64
	for n := leaves; n >= 1; n >>= shift {
		w = append(w, n)
		if n == 1 {
			break
		}
	}
	return w, nil
}

// TreeLen is the number of nodes of a full base tree (merkletree
// get_merkle_tree_len), i.e. the node count of a DiskStore file.
func TreeLen(leaves uint64, arity int) (uint64, error) {
	w, err := LevelWidths(leaves, arity)
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, x := range w {
		n += x
	}
	return n, nil
}

// CacheLen is the number of nodes a LevelCacheStore file keeps for a base
// tree (merkletree get_merkle_tree_cache_size): the rows above the leaves
// and the rowsToDiscard rows just above them. As in merkletree, at least
// the root row and one more must remain, i.e. rowsToDiscard < rows − 1.
func CacheLen(leaves uint64, arity, rowsToDiscard int) (uint64, error) {
	w, err := LevelWidths(leaves, arity)
	if err != nil {
		return 0, err
	}
	if rowsToDiscard < 0 || len(w)-1 <= rowsToDiscard {
		return 0, fmt.Errorf("%w: cannot discard %d rows of a %d-row tree", ErrShape, rowsToDiscard, len(w))
	}
	var n uint64
	for _, x := range w[rowsToDiscard+1:] {
		n += x
	}
	return n, nil
}

// DefaultRowsToDiscard is rust-fil-proofs' default_rows_to_discard for a
// base tree (storage-proofs-core/src/util.rs) with the default setting of 2:
// 0 for trees of at most two rows, 1 for three rows, otherwise
// min(rows−2, 7) for arity 2, min(rows−2, 5) for arity 4 and
// min(rows−2, 2) for other arities.
func DefaultRowsToDiscard(leaves uint64, arity int) int {
	w, err := LevelWidths(leaves, arity)
	if err != nil {
		return 0
	}
	rows := len(w)
	switch {
	case rows <= 2:
		return 0
	case rows == 3:
		return 1
	}
	limit := DefaultRowsToDiscardSetting
	switch arity {
	case 2:
		limit = 7
	case 4:
		limit = 5
	}
	return min(rows-2, limit)
}

// DataPath is the file rust-fil-proofs (merkletree StoreConfig::data_path)
// uses for a store id in a cache directory: <dir>/sc-02-data-<id>.dat.
func DataPath(dir, id string) string {
	return filepath.Join(dir, "sc-02-data-"+id+".dat")
}

// BaseTreePath is the file of base tree b out of count: the plain DataPath
// for single-tree sectors, DataPath(dir, id-b) otherwise (split_config).
func BaseTreePath(dir, id string, b, count int) string {
	if count == 1 {
		return DataPath(dir, id)
	}
	return DataPath(dir, id+"-"+strconv.Itoa(b))
}
