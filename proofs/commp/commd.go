package commp

import (
	"errors"
	"fmt"

	"github.com/sealant/sealant/proofs/fr32"
)

// Sentinel errors of ComputeCommD.
var (
	// ErrSectorSize reports a sector size that is not a power of two between
	// 128 bytes and 64 GiB.
	ErrSectorSize = errors.New("commp: invalid sector size")
	// ErrPiecesOverflow reports pieces that, laid out in order and aligned,
	// do not fit in the sector.
	ErrPiecesOverflow = errors.New("commp: pieces overflow the sector")
)

// PieceInfo is one piece of a sector: its padded size and its commitment
// (CommP), as in a deal proposal.
type PieceInfo struct {
	Size       fr32.PaddedPieceSize
	Commitment [32]byte
}

// ComputeCommD returns the unsealed sector commitment (CommD) of a sector
// of sectorSize padded bytes holding pieces in order. It has the semantics
// of lotus GenerateUnsealedCID (shared/spec/porep.md §2.3): each piece starts
// at the next offset that is a multiple of its own size (the gap is zero
// pieces), and the space after the last piece is zero; no pieces means an
// all-zero sector. It fails if the sector size is not a power of two in
// [128 B, 64 GiB], if a piece size is not a power of two ≥ 128 bytes, or if
// the aligned pieces do not fit.
func ComputeCommD(sectorSize uint64, pieces []PieceInfo) ([32]byte, error) {
	if err := fr32.PaddedPieceSize(sectorSize).Validate(); err != nil || sectorSize > MaxPieceSize {
		return [32]byte{}, fmt.Errorf("%w: %d is not a power of two from 128 B to 64 GiB", ErrSectorSize, sectorSize)
	}
	var ps pieceStack
	var offset uint64
	for i, p := range pieces {
		if err := p.Size.Validate(); err != nil {
			return [32]byte{}, fmt.Errorf("commp: piece %d: %w", i, err)
		}
		size := uint64(p.Size)
		if size > sectorSize {
			return [32]byte{}, fmt.Errorf("%w: piece %d of %d bytes is larger than the %d-byte sector", ErrPiecesOverflow, i, size, sectorSize)
		}
		start := (offset + size - 1) &^ (size - 1)
		if start+size > sectorSize {
			return [32]byte{}, fmt.Errorf("%w: piece %d of %d bytes would end at offset %d", ErrPiecesOverflow, i, size, start+size)
		}
		ps.alignTo(size)
		ps.push(p.Commitment, size)
		offset = start + size
	}
	return ps.fillTo(sectorSize), nil
}
