package miner

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
)

// Multicodec / multihash codes of Filecoin commitments (go-fil-commcid).
const (
	CodecFilCommitmentUnsealed = 0xf101
	CodecFilCommitmentSealed   = 0xf102
	MhSha256Trunc254Padded     = 0x1012
	MhPoseidonBls12381A2Fc1    = 0xb401
)

// ErrCommitmentCID is returned for CIDs that are not a well-formed CommR/CommD.
var ErrCommitmentCID = errors.New("miner: invalid commitment cid")

// The binary prefixes the miner actor checks (spec/chain.md §4.2).
var (
	sealedPrefix   = []byte{0x01, 0x82, 0xe2, 0x03, 0x81, 0xe8, 0x02, 0x20}
	unsealedPrefix = []byte{0x01, 0x81, 0xe2, 0x03, 0x92, 0x20, 0x20}
)

func commCID(prefix []byte, digest [32]byte) cid.Cid {
	b := make([]byte, 0, len(prefix)+32)
	b = append(b, prefix...)
	b = append(b, digest[:]...)
	// The prefix is a constant, well-formed CIDv1 header, so Cast cannot
	// fail; building bytes directly avoids any multihash registry lookup.
	c, err := cid.Cast(b)
	if err != nil {
		return cid.Undef
	}
	return c
}

// SealedCID returns the CommR CID (bagboea4b5abc…) for a 32-byte replica
// commitment, digest bytes as output by the prover (no reversal).
func SealedCID(commR [32]byte) cid.Cid { return commCID(sealedPrefix, commR) }

// UnsealedCID returns the CommD/CommP CID (baga6ea4sea…) for a 32-byte data
// commitment.
func UnsealedCID(commD [32]byte) cid.Cid { return commCID(unsealedPrefix, commD) }

// CommR extracts the digest of a CommR CID, checking the prefix the actor
// requires ("sealed CID had wrong prefix").
func CommR(c cid.Cid) ([32]byte, error) { return commDigest(c, sealedPrefix, "sealed") }

// CommD extracts the digest of a CommD/CommP CID, checking its prefix.
func CommD(c cid.Cid) ([32]byte, error) { return commDigest(c, unsealedPrefix, "unsealed") }

func commDigest(c cid.Cid, prefix []byte, kind string) ([32]byte, error) {
	var d [32]byte
	b := c.Bytes()
	if len(b) != len(prefix)+32 || !bytes.Equal(b[:len(prefix)], prefix) {
		return d, fmt.Errorf("%w: %s is not a %s commitment", ErrCommitmentCID, c, kind)
	}
	copy(d[:], b[len(prefix):])
	return d, nil
}
