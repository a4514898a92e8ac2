package commp

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// Multicodec and multihash codes of Filecoin commitments (go-fil-commcid).
const (
	// CodecUnsealed is the fil-commitment-unsealed codec (CommP, CommD).
	CodecUnsealed = cid.FilCommitmentUnsealed // 0xf101
	// CodecSealed is the fil-commitment-sealed codec (CommR).
	CodecSealed = cid.FilCommitmentSealed // 0xf102
	// HashUnsealed is the sha2-256-trunc254-padded multihash code.
	HashUnsealed = multihash.SHA2_256_TRUNC254_PADDED // 0x1012
	// HashSealed is the poseidon-bls12_381-a2-fc1 multihash code.
	HashSealed = multihash.POSEIDON_BLS12_381_A1_FC1 // 0xb401
)

// Sentinel errors of CID parsing.
var (
	// ErrBadCID reports a string that is not a CID, or not a version-1 CID.
	ErrBadCID = errors.New("commp: malformed cid")
	// ErrWrongCodec reports a CID whose codec is not the expected commitment
	// codec.
	ErrWrongCodec = errors.New("commp: wrong cid codec")
	// ErrWrongHash reports a CID whose multihash code does not match its
	// codec.
	ErrWrongHash = errors.New("commp: wrong cid multihash")
	// ErrBadCommitment reports a digest that is not a 32-byte canonical
	// BLS12-381 field element.
	ErrBadCommitment = errors.New("commp: invalid commitment")
)

// blsModulusLE is r, the BLS12-381 scalar field modulus, little-endian.
var blsModulusLE = [32]byte{
	0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0x02, 0xa4, 0xbd, 0x53,
	0x05, 0xd8, 0xa1, 0x09, 0x08, 0xd8, 0x39, 0x33, 0x48, 0x7d, 0x9d, 0x29, 0x53, 0xa7, 0xed, 0x73,
}

// PieceCID returns the CID of an unsealed commitment (CommP or CommD):
// CIDv1, codec fil-commitment-unsealed, multihash sha2-256-trunc254-padded.
// Its string form starts with "baga6ea4seaq".
func PieceCID(comm [32]byte) cid.Cid { return commCID(CodecUnsealed, HashUnsealed, comm) }

// SealedCID returns the CID of a sealed commitment (CommR): CIDv1, codec
// fil-commitment-sealed, multihash poseidon-bls12_381-a2-fc1. Its string
// form starts with "bagboea4b5abc".
func SealedCID(comm [32]byte) cid.Cid { return commCID(CodecSealed, HashSealed, comm) }

func commCID(codec, mhCode uint64, comm [32]byte) cid.Cid {
	mh := make([]byte, 0, 3+1+32)
	mh = binary.AppendUvarint(mh, mhCode)
	mh = binary.AppendUvarint(mh, 32)
	mh = append(mh, comm[:]...)
	return cid.NewCidV1(codec, mh)
}

// ParsePieceCID parses the string form of an unsealed commitment CID and
// returns the commitment; see CommFromPieceCID for the checks.
func ParsePieceCID(s string) ([32]byte, error) {
	c, err := cid.Decode(s)
	if err != nil {
		return [32]byte{}, fmt.Errorf("%w %q: %w", ErrBadCID, s, err)
	}
	return CommFromPieceCID(c)
}

// ParseSealedCID parses the string form of a sealed commitment CID; see
// CommFromSealedCID for the checks.
func ParseSealedCID(s string) ([32]byte, error) {
	c, err := cid.Decode(s)
	if err != nil {
		return [32]byte{}, fmt.Errorf("%w %q: %w", ErrBadCID, s, err)
	}
	return CommFromSealedCID(c)
}

// CommFromPieceCID returns the commitment in an unsealed commitment CID. It
// requires CIDv1, codec fil-commitment-unsealed, multihash
// sha2-256-trunc254-padded with a 32-byte digest whose two top bits are
// clear (every trunc254 hash has them clear).
func CommFromPieceCID(c cid.Cid) ([32]byte, error) {
	comm, err := commFromCID(c, CodecUnsealed, HashUnsealed)
	if err != nil {
		return comm, err
	}
	if comm[31]&0xc0 != 0 {
		return [32]byte{}, fmt.Errorf("%w: top two bits of an unsealed commitment are set", ErrBadCommitment)
	}
	return comm, nil
}

// CommFromSealedCID returns the commitment in a sealed commitment CID. It
// requires CIDv1, codec fil-commitment-sealed, multihash
// poseidon-bls12_381-a2-fc1 with a 32-byte digest that is a canonical
// field element (less than the BLS12-381 scalar modulus), as every Poseidon
// output is.
func CommFromSealedCID(c cid.Cid) ([32]byte, error) {
	comm, err := commFromCID(c, CodecSealed, HashSealed)
	if err != nil {
		return comm, err
	}
	if !lessThanModulus(&comm) {
		return [32]byte{}, fmt.Errorf("%w: sealed commitment is not below the field modulus", ErrBadCommitment)
	}
	return comm, nil
}

func commFromCID(c cid.Cid, codec, mhCode uint64) ([32]byte, error) {
	var comm [32]byte
	if !c.Defined() {
		return comm, fmt.Errorf("%w: undefined cid", ErrBadCID)
	}
	if c.Version() != 1 {
		return comm, fmt.Errorf("%w: version %d, want 1", ErrBadCID, c.Version())
	}
	if c.Type() != codec {
		return comm, fmt.Errorf("%w: codec %#x, want %#x", ErrWrongCodec, c.Type(), codec)
	}
	dec, err := multihash.Decode(c.Hash())
	if err != nil {
		return comm, fmt.Errorf("%w: %w", ErrBadCID, err)
	}
	if dec.Code != mhCode {
		return comm, fmt.Errorf("%w: multihash %#x, want %#x", ErrWrongHash, dec.Code, mhCode)
	}
	if dec.Length != 32 || len(dec.Digest) != 32 {
		return comm, fmt.Errorf("%w: digest of %d bytes, want 32", ErrBadCommitment, len(dec.Digest))
	}
	copy(comm[:], dec.Digest)
	return comm, nil
}

// lessThanModulus reports whether the little-endian integer x is below r.
func lessThanModulus(x *[32]byte) bool {
	for i := 31; i >= 0; i-- {
		if x[i] != blsModulusLE[i] {
			return x[i] < blsModulusLE[i]
		}
	}
	return false
}
