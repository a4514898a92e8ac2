package post

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/merkle"
	"github.com/sealant/sealant/proofs/porep"
)

// ErrInvalidProof is wrapped by every verification failure.
var ErrInvalidProof = errors.New("post: invalid vanilla proof")

// Randomness makes chain randomness usable as PoSt randomness: lotus clears
// the top two bits (postRand[31] &= 0x3f) so it is a field element.
func Randomness(chainRand [32]byte) [32]byte {
	chainRand[31] &= 0x3f
	return chainRand
}

// LeafChallenges returns the leaves challenged in one sector
// (generate_leaf_challenge): for n in 0..ChallengeCount,
//
//	u64_le(SHA-256(randomness ‖ u64_le(sector) ‖ u64_le(idx))[0..8]) mod nodes
//
// where idx = n for API 1.2 (WindowPoSt V1_1) and sectorIndex·count + n
// before. sectorIndex is the sector's position in the proven list.
func LeafChallenges(proof abi.RegisteredPoStProof, randomness [32]byte, sectorIndex int, sector uint64) []uint64 {
	count := proof.ChallengeCount()
	nodes := uint64(proof.SectorSize()) / 32
	out := make([]uint64, count)
	var buf [48]byte
	copy(buf[:32], randomness[:])
	binary.LittleEndian.PutUint64(buf[32:], sector)
	for n := range count {
		idx := uint64(n)
		if proof.APIVersion() < abi.APIVersion1_2 {
			idx = uint64(sectorIndex*count + n)
		}
		binary.LittleEndian.PutUint64(buf[40:], idx)
		h := sha256.Sum256(buf[:])
		out[n] = binary.LittleEndian.Uint64(h[:8]) % nodes
	}
	return out
}

// WinningSectors picks the sectors a WinningPoSt challenges from a sector
// set of size setLen (generate_sector_challenge): positions into the set.
func WinningSectors(proof abi.RegisteredPoStProof, proverID, randomness [32]byte, setLen uint64) []uint64 {
	out := make([]uint64, proof.SectorCount())
	var buf [72]byte
	copy(buf[:32], proverID[:])
	copy(buf[32:64], randomness[:])
	for n := range out {
		binary.LittleEndian.PutUint64(buf[64:], uint64(n))
		h := sha256.Sum256(buf[:])
		out[n] = binary.LittleEndian.Uint64(h[:8]) % setLen
	}
	return out
}

// SectorProof is the vanilla proof of one sector (rust-fil-proofs
// SectorProof): TreeR_last openings of each challenged leaf plus comm_c and
// comm_r_last.
type SectorProof struct {
	Sector    uint64
	CommC     [32]byte
	CommRLast [32]byte
	Openings  []porep.MerkleProof
}

// Sector locates a sealed sector's files.
type Sector struct {
	Number     uint64
	SealedPath string // the replica
	CacheDir   string // holds p_aux and sc-02-data-tree-r-last*.dat
}

// Prove opens the challenged leaves of one sector. sectorIndex is its
// position in the list being proven (it matters before API 1.2).
func Prove(ctx context.Context, proof abi.RegisteredPoStProof, randomness [32]byte, sectorIndex int, s Sector) (*SectorProof, error) {
	seal, err := abi.SealProofForSize(proof.SectorSize())
	if err != nil {
		return nil, fmt.Errorf("post: %w", err)
	}
	paux, err := os.ReadFile(s.CacheDir + "/" + porep.PAuxFileName)
	if err != nil {
		return nil, fmt.Errorf("post: sector %d: read p_aux: %w", s.Number, err)
	}
	if len(paux) != 64 {
		return nil, fmt.Errorf("post: sector %d: p_aux is %d bytes, want 64", s.Number, len(paux))
	}
	sealed, err := os.Open(s.SealedPath)
	if err != nil {
		return nil, fmt.Errorf("post: sector %d: %w", s.Number, err)
	}
	defer sealed.Close()
	shape := seal.TreeShape()
	tree, err := merkle.Open(merkle.Config{
		Hasher: merkle.Poseidon, Shape: merkle.Shape{Base: shape.Base, Sub: shape.Sub, Top: shape.Top},
		Leaves: seal.Nodes(), Dir: s.CacheDir, ID: merkle.IDTreeRLast, LevelCache: true, RowsToDiscard: seal.RowsToDiscard(),
	}, merkle.ReaderAtSource(sealed))
	if err != nil {
		return nil, fmt.Errorf("post: sector %d: open tree-r-last: %w", s.Number, err)
	}
	defer tree.Close()
	sp := &SectorProof{Sector: s.Number, CommC: [32]byte(paux[:32]), CommRLast: [32]byte(paux[32:])}
	if tree.Root() != sp.CommRLast {
		return nil, fmt.Errorf("post: sector %d: tree-r-last root does not match p_aux", s.Number)
	}
	for _, c := range LeafChallenges(proof, randomness, sectorIndex, s.Number) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p, err := tree.Proof(c)
		if err != nil {
			return nil, fmt.Errorf("post: sector %d leaf %d: %w", s.Number, c, err)
		}
		sp.Openings = append(sp.Openings, porep.FromMerkle(p))
	}
	return sp, nil
}

// Verify checks one sector's vanilla proof against its on-chain CommR.
func Verify(proof abi.RegisteredPoStProof, randomness [32]byte, sectorIndex int, commR [32]byte, sp *SectorProof) error {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%w: sector %d: %s", ErrInvalidProof, sp.Sector, fmt.Sprintf(format, a...))
	}
	got, err := porep.CommR(sp.CommC, sp.CommRLast)
	if err != nil || got != commR {
		return fail("Poseidon2(comm_c, comm_r_last) != comm_r")
	}
	challenges := LeafChallenges(proof, randomness, sectorIndex, sp.Sector)
	if len(sp.Openings) != len(challenges) {
		return fail("%d openings, want %d", len(sp.Openings), len(challenges))
	}
	for i, c := range challenges {
		m := sp.Openings[i].ToMerkle()
		if m.Root != sp.CommRLast {
			return fail("opening %d: root is not comm_r_last", i)
		}
		if err := m.Verify(merkle.Poseidon); err != nil {
			return fail("opening %d: %v", i, err)
		}
		if !m.ProvesChallenge(c) {
			return fail("opening %d proves leaf %d, want %d", i, m.PathIndex(), c)
		}
	}
	return nil
}
