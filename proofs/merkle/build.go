package merkle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// maxChunkLeaves bounds the leaves one worker hashes at a time (1 MiB of
// leaves). Chunks are whole sub-trees, so workers never share a parent.
const maxChunkLeaves = 1 << 15

// BuildOptions tunes Build. The zero value is fine.
type BuildOptions struct {
	// Workers is the number of hashing goroutines; 0 means GOMAXPROCS.
	Workers int
}

// Build hashes the leaves from src into the tree described by cfg, writes
// the base-tree files exactly as rust-fil-proofs lays them out (see
// Config.LevelCache) and returns the root. Existing files are replaced.
//
// Memory stays bounded for any sector size: each base tree is processed in
// independent sub-tree chunks of at most 32768 leaves, Workers at a time,
// and only the chunk roots are kept to finish the upper rows.
func Build(ctx context.Context, cfg Config, src LeafSource, opts *BuildOptions) (Node, error) {
	if err := cfg.validate(); err != nil {
		return Node{}, err
	}
	lay, _ := cfg.layout()
	workers := defaultWorkers()
	if opts != nil && opts.Workers > 0 {
		workers = opts.Workers
	}
	paths := cfg.Paths()
	roots := make([]Node, len(paths))
	for b, p := range paths {
		root, err := buildBaseFile(ctx, cfg.Hasher, lay, src, uint64(b)*cfg.BaseLeaves(), p, workers)
		if err != nil {
			return Node{}, fmt.Errorf("merkle: build %s: %w", p, err)
		}
		roots[b] = root
	}
	root, _, err := combineRoots(cfg.Hasher, cfg.Shape, roots)
	return root, err
}

func buildBaseFile(ctx context.Context, h Hasher, lay *layout, src LeafSource, leafOffset uint64, path string, workers int) (root Node, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return Node{}, err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if err := f.Truncate(int64(lay.nodes) * NodeSize); err != nil {
		return Node{}, err
	}
	root, err = buildBase(ctx, h, lay, src, leafOffset, f, workers)
	if err != nil {
		return Node{}, err
	}
	return root, f.Sync()
}

// writerAt is the part of *os.File the builder needs.
type writerAt interface {
	WriteAt(p []byte, off int64) (int, error)
}

// chunkHeight returns k such that arity^k leaves is the chunk size: the
// largest power of the arity not above maxChunkLeaves that still gives every
// worker at least two chunks (so small trees use all cores too), and at
// least 1.
func chunkHeight(lay *layout, workers int) int {
	k := 1
	for k < lay.height() && lay.widths[0]/lay.widths[k+1] <= maxChunkLeaves &&
		lay.widths[k+1] >= uint64(2*workers) {
		k++
	}
	return k
}

// buildBase builds one base tree. Rows that the layout stores are written to
// w (nil writes nothing); the root is returned.
func buildBase(ctx context.Context, h Hasher, lay *layout, src LeafSource, leafOffset uint64, w writerAt, workers int) (Node, error) {
	k := chunkHeight(lay, workers)
	chunkLeaves := lay.widths[0] / lay.widths[k]
	nChunks := lay.widths[k]
	chunkRoots := make([]Node, nChunks)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next    atomic.Uint64
		wg      sync.WaitGroup
		errOnce sync.Once
		firstEr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstEr = err; cancel() })
	}
	workers = int(min(uint64(workers), nChunks))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows := newRows(lay, k)
			for {
				c := next.Add(1) - 1
				if c >= nChunks || ctx.Err() != nil {
					return
				}
				if err := src.ReadLeaves(rows[0], leafOffset+c*chunkLeaves); err != nil {
					fail(err)
					return
				}
				if err := hashRows(h, lay.arity, rows); err != nil {
					fail(fmt.Errorf("chunk %d: %w", c, err))
					return
				}
				for r := range rows {
					if !lay.stored(r) {
						continue
					}
					off := lay.offsets[r] + c*uint64(len(rows[r]))
					if err := writeNodes(w, rows[r], off); err != nil {
						fail(err)
						return
					}
				}
				chunkRoots[c] = rows[k][0]
			}
		}()
	}
	wg.Wait()
	if firstEr != nil {
		return Node{}, firstEr
	}
	if err := ctx.Err(); err != nil {
		return Node{}, err
	}

	// Upper rows from the chunk roots, small enough for memory
	// (2^30 leaves → 2^15 chunk roots at most).
	upper := make([][]Node, lay.height()-k+1)
	upper[0] = chunkRoots
	for i := 1; i < len(upper); i++ {
		upper[i] = make([]Node, len(upper[i-1])/lay.arity)
	}
	if err := hashRows(h, lay.arity, upper); err != nil {
		return Node{}, err
	}
	for i := 1; i < len(upper); i++ {
		if r := k + i; lay.stored(r) {
			if err := writeNodes(w, upper[i], lay.offsets[r]); err != nil {
				return Node{}, err
			}
		}
	}
	return upper[len(upper)-1][0], nil
}

// newRows allocates rows 0..k of a sub-tree of arity^k leaves.
func newRows(lay *layout, k int) [][]Node {
	rows := make([][]Node, k+1)
	n := lay.widths[0] / lay.widths[k]
	for r := range rows {
		rows[r] = make([]Node, n)
		n /= uint64(lay.arity)
	}
	return rows
}

// hashRows fills rows[1:] from rows[0].
func hashRows(h Hasher, arity int, rows [][]Node) error {
	for r := 1; r < len(rows); r++ {
		if err := h.HashNodes(arity, rows[r], rows[r-1]); err != nil {
			return err
		}
	}
	return nil
}

func writeNodes(w writerAt, nodes []Node, off uint64) error {
	if w == nil {
		return nil
	}
	_, err := w.WriteAt(nodesAsBytes(nodes), int64(off)*NodeSize)
	return err
}

// combineRoots joins base-tree roots into the compound root
// (merkletree from_sub_trees: Sub consecutive base roots per sub-tree node,
// then Top sub-tree roots). It also returns the sub-tree roots (nil without
// a top layer).
func combineRoots(h Hasher, s Shape, roots []Node) (Node, []Node, error) {
	if len(roots) != s.BaseTrees() {
		return Node{}, nil, fmt.Errorf("%w: %d base roots for shape %v", ErrShape, len(roots), s)
	}
	if s.Sub == 0 {
		return roots[0], nil, nil
	}
	subs := make([]Node, len(roots)/s.Sub)
	if err := h.HashNodes(s.Sub, subs, roots); err != nil {
		return Node{}, nil, err
	}
	if s.Top == 0 {
		return subs[0], nil, nil
	}
	var top [1]Node
	if err := h.HashNodes(s.Top, top[:], subs); err != nil {
		return Node{}, nil, err
	}
	return top[0], subs, nil
}

func defaultWorkers() int { return runtime.GOMAXPROCS(0) }

var errNoSource = errors.New("merkle: level-cache tree needs a leaf source")
