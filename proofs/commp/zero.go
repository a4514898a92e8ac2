package commp

import (
	"fmt"

	"github.com/sealant/sealant/proofs/fr32"
)

// MaxPieceSize is the largest padded piece or sector size this package
// handles: 64 GiB, the largest Filecoin sector.
const MaxPieceSize = 64 << 30

// zeroLevels is the number of tree levels from a 32-byte leaf up to
// MaxPieceSize: 32·2^31 = 64 GiB.
const zeroLevels = 32

// zeroComms[l] is the root of an all-zero tree of 32·2^l padded bytes.
// Computed once at init (32 hashes) rather than embedded, so it cannot drift
// from HashPair; the tests pin it to the published table.
var zeroComms = func() (z [zeroLevels][32]byte) {
	for l := 1; l < zeroLevels; l++ {
		z[l] = HashPair(z[l-1], z[l-1])
	}
	return z
}()

// ZeroCommitment returns the commitment (CommP) of an all-zero piece of the
// given padded size, which must be a power of two from 128 bytes to 64 GiB.
// These are the commitments lotus uses for filler pieces and the CommD of an
// empty (committed-capacity) sector.
func ZeroCommitment(paddedSize fr32.PaddedPieceSize) ([32]byte, error) {
	if err := paddedSize.Validate(); err != nil {
		return [32]byte{}, fmt.Errorf("commp: zero commitment: %w", err)
	}
	if paddedSize > MaxPieceSize {
		return [32]byte{}, fmt.Errorf("commp: zero commitment: %w: %d exceeds the 64 GiB maximum", fr32.ErrInvalidPieceSize, uint64(paddedSize))
	}
	return zeroComms[level(uint64(paddedSize))], nil
}

// level returns log2(size/32) for a power-of-two size ≥ 32.
func level(size uint64) int {
	l := 0
	for size > NodeSize {
		size >>= 1
		l++
	}
	return l
}
