package post

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/porep"
)

// The compact encoding of a sector's vanilla PoSt proof (Sealant's devnet
// stand-in for a PoSt SNARK, and the delivery check's wire form):
//
//	magic "SLNTPOv1" ‖ u64_le sector ‖ comm_c ‖ comm_r_last
//	for each challenge (ChallengeCount of the proof type):
//	    leaf ‖ TreeR_last path siblings (7 per base level, 7 sub, 1 top)
//
// Path positions are not stored: they follow from the challenged leaf, which
// the verifier derives from the randomness.

const postMagic = "SLNTPOv1"

// ErrEncoding reports a malformed encoded proof.
var ErrEncoding = errors.New("post: malformed encoded proof")

// Encode serialises sp.
func Encode(sp *SectorProof) []byte {
	var b bytes.Buffer
	b.WriteString(postMagic)
	var x [8]byte
	binary.LittleEndian.PutUint64(x[:], sp.Sector)
	b.Write(x[:])
	b.Write(sp.CommC[:])
	b.Write(sp.CommRLast[:])
	for _, m := range sp.Openings {
		b.Write(m.Leaf[:])
		for _, els := range [][]porep.PathElement{m.Base, m.Sub, m.Top} {
			for _, e := range els {
				for _, h := range e.Hashes {
					b.Write(h[:])
				}
			}
		}
	}
	return b.Bytes()
}

// Decode parses an encoded sector proof for the given PoSt proof type,
// randomness and sector position, rebuilding path positions from the
// derived challenges. The result must still pass Verify.
func Decode(proof abi.RegisteredPoStProof, randomness [32]byte, sectorIndex int, data []byte) (*SectorProof, error) {
	seal, err := abi.SealProofForSize(proof.SectorSize())
	if err != nil {
		return nil, fmt.Errorf("post: %w", err)
	}
	shape := seal.TreeShape()
	baseLeaves := seal.BaseTreeLeaves()
	baseDepth := 0
	for n := uint64(1); n < baseLeaves; n *= uint64(shape.Base) {
		baseDepth++
	}
	off := 0
	take := func(n int) ([]byte, error) {
		if off+n > len(data) {
			return nil, fmt.Errorf("%w: truncated at byte %d", ErrEncoding, off)
		}
		b := data[off : off+n]
		off += n
		return b, nil
	}
	node := func() (porep.Bytes32, error) {
		b, err := take(32)
		if err != nil {
			return porep.Bytes32{}, err
		}
		return porep.Bytes32(b), nil
	}
	magic, err := take(len(postMagic))
	if err != nil || string(magic) != postMagic {
		return nil, fmt.Errorf("%w: bad magic", ErrEncoding)
	}
	sb, err := take(8)
	if err != nil {
		return nil, err
	}
	sp := &SectorProof{Sector: binary.LittleEndian.Uint64(sb)}
	cc, err := node()
	if err != nil {
		return nil, err
	}
	cr, err := node()
	if err != nil {
		return nil, err
	}
	sp.CommC, sp.CommRLast = cc, cr
	element := func(arity int, idx uint64) (porep.PathElement, error) {
		e := porep.PathElement{Index: idx, Hashes: make([]porep.Bytes32, arity-1)}
		for i := range e.Hashes {
			h, err := node()
			if err != nil {
				return e, err
			}
			e.Hashes[i] = h
		}
		return e, nil
	}
	kind := porep.ProofSingle
	if shape.Top > 0 {
		kind = porep.ProofTop
	} else if shape.Sub > 0 {
		kind = porep.ProofSub
	}
	for _, c := range LeafChallenges(proof, randomness, sectorIndex, sp.Sector) {
		leaf, err := node()
		if err != nil {
			return nil, err
		}
		m := porep.MerkleProof{Kind: kind, Root: sp.CommRLast, Leaf: leaf}
		idx := c % baseLeaves
		for range baseDepth {
			e, err := element(shape.Base, idx%uint64(shape.Base))
			if err != nil {
				return nil, err
			}
			m.Base = append(m.Base, e)
			idx /= uint64(shape.Base)
		}
		tree := c / baseLeaves
		if shape.Sub > 0 {
			e, err := element(shape.Sub, tree%uint64(shape.Sub))
			if err != nil {
				return nil, err
			}
			m.Sub = append(m.Sub, e)
			tree /= uint64(shape.Sub)
		}
		if shape.Top > 0 {
			e, err := element(shape.Top, tree%uint64(shape.Top))
			if err != nil {
				return nil, err
			}
			m.Top = append(m.Top, e)
		}
		sp.Openings = append(sp.Openings, m)
	}
	if off != len(data) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrEncoding, len(data)-off)
	}
	return sp, nil
}
