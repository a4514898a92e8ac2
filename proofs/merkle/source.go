package merkle

import (
	"errors"
	"fmt"
	"io"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/sealant/sealant/proofs/poseidon"
)

// LeafSource supplies tree leaves by global leaf index. Builders call it
// from several goroutines at once, so implementations must be safe for
// concurrent use (io.ReaderAt-backed ones are).
type LeafSource interface {
	// ReadLeaves fills dst with leaves start, start+1, …, start+len(dst)−1.
	ReadLeaves(dst []Node, start uint64) error
}

// ReaderAtSource serves leaf i from bytes [32i, 32i+32) of r: a data file,
// a sealed replica or a label layer. Reading past the end is an error (the
// caller zero-extends the staged sector file as rust-fil-proofs does).
func ReaderAtSource(r io.ReaderAt) LeafSource { return readerAtSource{r} }

type readerAtSource struct{ r io.ReaderAt }

func (s readerAtSource) ReadLeaves(dst []Node, start uint64) error {
	buf := nodesAsBytes(dst)
	n, err := s.r.ReadAt(buf, int64(start)*NodeSize)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("merkle: read leaves %d..%d: %w", start, start+uint64(len(dst)), err)
}

// SliceSource serves leaves from memory.
type SliceSource []Node

// ReadLeaves implements LeafSource.
func (s SliceSource) ReadLeaves(dst []Node, start uint64) error {
	if start > uint64(len(s)) || uint64(len(dst)) > uint64(len(s))-start {
		return fmt.Errorf("merkle: read leaves %d..%d of %d: %w", start, start+uint64(len(dst)), len(s), io.ErrUnexpectedEOF)
	}
	copy(dst, s[start:])
	return nil
}

// ColumnSource serves TreeC leaves: leaf i is the column hash
// Poseidon_ℓ(label_1[i], …, label_ℓ[i]) over the ℓ label layers, in layer
// order (rust-fil-proofs hash_single_column; arity 2 for 2-layer sectors,
// 11 for 11-layer ones). Hashing happens inside ReadLeaves, so a parallel
// tree build also parallelises the column hashes.
func ColumnSource(layers []io.ReaderAt) (LeafSource, error) {
	if len(layers) < poseidon.MinArity || len(layers) > poseidon.MaxArity {
		return nil, fmt.Errorf("%w: %d label layers", ErrShape, len(layers))
	}
	return columnSource{layers}, nil
}

type columnSource struct{ layers []io.ReaderAt }

func (s columnSource) ReadLeaves(dst []Node, start uint64) error {
	rows := make([][]Node, len(s.layers))
	for l, r := range s.layers {
		rows[l] = make([]Node, len(dst))
		if err := (readerAtSource{r}).ReadLeaves(rows[l], start); err != nil {
			return fmt.Errorf("merkle: layer %d: %w", l+1, err)
		}
	}
	col := make([]fr.Element, len(s.layers))
	for i := range dst {
		for l := range rows {
			e, err := poseidon.ElementFromBytes(rows[l][i])
			if err != nil {
				return fmt.Errorf("merkle: layer %d node %d: %w", l+1, start+uint64(i), err)
			}
			col[l] = e
		}
		h, err := poseidon.Hash(col)
		if err != nil {
			return fmt.Errorf("merkle: column hash: %w", err)
		}
		dst[i] = poseidon.ElementToBytes(h)
	}
	return nil
}
