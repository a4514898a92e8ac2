package fr32

import (
	"errors"
	"fmt"
	"math/bits"
)

const (
	// UnpaddedBlockSize is the number of raw bytes in one Fr32 block.
	UnpaddedBlockSize = 127
	// PaddedBlockSize is the number of bytes one raw block expands to.
	PaddedBlockSize = 128
)

// Sentinel errors; callers match them with errors.Is.
var (
	// ErrInvalidPieceSize reports a piece size that is not a legal padded
	// (power of two, at least 128) or unpadded (127·2^k) piece size.
	ErrInvalidPieceSize = errors.New("fr32: invalid piece size")
	// ErrTruncated reports a padded stream whose length is not a multiple of
	// PaddedBlockSize.
	ErrTruncated = errors.New("fr32: padded stream is not a multiple of 128 bytes")
)

// UnpaddedPieceSize is a piece size counted in raw (pre-Fr32) bytes. Legal
// values are 127·2^k for k ≥ 0.
type UnpaddedPieceSize uint64

// PaddedPieceSize is a piece size counted in Fr32-padded bytes, i.e. the
// number of bytes the piece occupies in a sector. Legal values are powers of
// two of at least 128.
type PaddedPieceSize uint64

// Padded returns the padded size of u: u + u/127. The result is meaningful
// only when u is valid (see Validate).
func (u UnpaddedPieceSize) Padded() PaddedPieceSize {
	return PaddedPieceSize(u + u/127)
}

// Validate reports whether u is a legal unpadded piece size (127·2^k). It
// mirrors go-state-types abi.UnpaddedPieceSize.Validate.
func (u UnpaddedPieceSize) Validate() error {
	if u < 127 {
		return fmt.Errorf("%w: unpadded size %d is below the 127-byte minimum", ErrInvalidPieceSize, uint64(u))
	}
	// Shifting out the trailing zero bits must leave exactly 127.
	if uint64(u)>>bits.TrailingZeros64(uint64(u)) != 127 {
		return fmt.Errorf("%w: unpadded size %d is not 127·2^k", ErrInvalidPieceSize, uint64(u))
	}
	return nil
}

// Unpadded returns the raw size of p: p - p/128. The result is meaningful
// only when p is valid (see Validate).
func (p PaddedPieceSize) Unpadded() UnpaddedPieceSize {
	return UnpaddedPieceSize(p - p/128)
}

// Validate reports whether p is a legal padded piece size (a power of two of
// at least 128). It mirrors go-state-types abi.PaddedPieceSize.Validate.
func (p PaddedPieceSize) Validate() error {
	if p < 128 {
		return fmt.Errorf("%w: padded size %d is below the 128-byte minimum", ErrInvalidPieceSize, uint64(p))
	}
	if bits.OnesCount64(uint64(p)) != 1 {
		return fmt.Errorf("%w: padded size %d is not a power of two", ErrInvalidPieceSize, uint64(p))
	}
	return nil
}
