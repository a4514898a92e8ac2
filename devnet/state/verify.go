package state

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/c2"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/porep"
	"github.com/sealant/sealant/proofs/post"
	"github.com/sealant/sealant/proofs/sdr"
)

// ErrGroth16 is returned for a proof that looks like a real Groth16 SNARK:
// the devnet has no Groth16 verifier (nor parameters) and only accepts its
// labelled vanilla-proof stand-in.
var ErrGroth16 = errors.New("state: groth16 proofs cannot be verified on the devnet; send a devnet proof (compact C1 vanilla proofs, magic SLNTC1v1)")

// SealVerifyInfo is what the miner actor hands the proof verifier for one
// sector (fvm SealVerifyInfo).
type SealVerifyInfo struct {
	SealProof   miner.RegisteredSealProof
	Miner       uint64
	Sector      uint64
	SealedCID   cid.Cid
	UnsealedCID cid.Cid
	Ticket      [32]byte
	Seed        [32]byte
	Proof       []byte
}

// PoStSector is one sector covered by a WindowPoSt.
type PoStSector struct {
	Number    uint64
	SealedCID cid.Cid
}

// WindowPoStVerifyInfo is what the miner actor hands the verifier for a
// WindowPoSt (fvm WindowPoStVerifyInfo).
type WindowPoStVerifyInfo struct {
	Proof      miner.RegisteredPoStProof
	Randomness [32]byte // chain randomness; the verifier makes it a field element
	Miner      uint64
	Sectors    []PoStSector // in proof order
	ProofBytes []byte
}

// Verifier checks proofs for the actors.
type Verifier interface {
	VerifySeal(SealVerifyInfo) error
	VerifyWindowPoSt(WindowPoStVerifyInfo) error
}

// ProofEngine is the devnet's Verifier: it verifies devnet proofs (vanilla
// proofs) in full with the proof engine. DEVNET ONLY: a real network
// verifies Groth16 SNARKs instead.
type ProofEngine struct{}

// VerifySeal decodes the compact C1 vanilla proofs with the on-chain
// commitments, ticket and seed, and verifies them bound to miner and sector.
func (ProofEngine) VerifySeal(in SealVerifyInfo) error {
	if !c2.IsDevnetProof(in.Proof) {
		if len(in.Proof)%c2.GrothProofSize == 0 && len(in.Proof) > 0 {
			return fmt.Errorf("%w (got %d bytes)", ErrGroth16, len(in.Proof))
		}
		return fmt.Errorf("state: not a devnet proof (%d bytes, no SLNTC1v1 magic)", len(in.Proof))
	}
	commR, err := commp.CommFromSealedCID(in.SealedCID)
	if err != nil {
		return fmt.Errorf("state: sealed cid: %w", err)
	}
	commD, err := commp.CommFromPieceCID(in.UnsealedCID)
	if err != nil {
		return fmt.Errorf("state: unsealed cid: %w", err)
	}
	sp := abi.RegisteredSealProof(in.SealProof)
	replica := sdr.ReplicaID(sdr.ProverID(in.Miner), in.Sector, in.Ticket, commD, sp)
	out, err := porep.DecodeCompact(in.Proof, porep.CompactHeader{
		Proof: sp, CommR: commR, CommD: commD, ReplicaID: replica, Seed: in.Seed, Ticket: in.Ticket,
	})
	if err != nil {
		return fmt.Errorf("state: devnet proof: %w", err)
	}
	miner, sector := in.Miner, in.Sector
	if _, err := porep.VerifyC1(out, &porep.VerifyOptions{Miner: &miner, Sector: &sector}); err != nil {
		return fmt.Errorf("state: devnet proof: %w", err)
	}
	return nil
}

// VerifyWindowPoSt splits ProofBytes (see EncodeWindowPoStProof) and
// verifies each sector's fallback-PoSt vanilla proof against its CommR.
func (ProofEngine) VerifyWindowPoSt(in WindowPoStVerifyInfo) error {
	parts, err := DecodeWindowPoStProof(in.ProofBytes)
	if err != nil {
		return err
	}
	if len(parts) != len(in.Sectors) {
		return fmt.Errorf("state: window post: %d sector proofs for %d sectors", len(parts), len(in.Sectors))
	}
	pp := abi.RegisteredPoStProof(in.Proof)
	r := post.Randomness(in.Randomness)
	for i, s := range in.Sectors {
		commR, err := commp.CommFromSealedCID(s.SealedCID)
		if err != nil {
			return fmt.Errorf("state: sector %d sealed cid: %w", s.Number, err)
		}
		sp, err := post.Decode(pp, r, i, parts[i])
		if err != nil {
			return fmt.Errorf("state: sector %d: %w", s.Number, err)
		}
		if sp.Sector != s.Number {
			return fmt.Errorf("state: proof %d is for sector %d, expected sector %d", i, sp.Sector, s.Number)
		}
		if err := post.Verify(pp, r, i, commR, sp); err != nil {
			return fmt.Errorf("state: sector %d: %w", s.Number, err)
		}
	}
	return nil
}

// EncodeWindowPoStProof builds SubmitWindowedPoSt's Proofs[0].ProofBytes on
// the devnet (a stand-in for the Groth16 WindowPoSt SNARK):
//
//	for each proven sector, in order: u32_le(len(p)) ‖ p
//
// where p is post.Encode of the sector's vanilla proof. The order is that of
// the Partitions param, and within a partition ascending sector number,
// over the sectors that are live and not (faulty and not recovering),
// minus the partition's Skipped set; a sector's position in that list is
// the sectorIndex given to post.Prove.
func EncodeWindowPoStProof(sectorProofs [][]byte) []byte {
	n := 0
	for _, p := range sectorProofs {
		n += 4 + len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range sectorProofs {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(p)))
		out = append(out, p...)
	}
	return out
}

// DecodeWindowPoStProof splits EncodeWindowPoStProof's output.
func DecodeWindowPoStProof(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("state: window post proof: truncated length prefix")
		}
		n := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if uint64(n) > uint64(len(b)) {
			return nil, fmt.Errorf("state: window post proof: sector proof of %d bytes exceeds the %d left", n, len(b))
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out, nil
}
