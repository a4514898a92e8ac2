package c2

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/sealant/sealant/proofs/porep"
)

// ErrNoProver reports that no Groth16 prover is available for this sector.
var ErrNoProver = errors.New("c2: no Groth16 prover configured: a real network needs an external C2 processor (filecoin-ffi or SupraSeal); Sealant has no built-in SNARK prover")

// Prover produces the proof a ProveCommit carries for a sector.
// Implementations must be safe for concurrent use; a call is idempotent (the
// same input gives an equally valid proof).
type Prover interface {
	// ProveC2 turns C1 output JSON (porep.SealCommitPhase1Output) of sector
	// miner/sector into proof bytes.
	ProveC2(ctx context.Context, c1 []byte, miner, sector uint64) ([]byte, error)
}

// ProverFunc adapts a function to Prover.
type ProverFunc func(ctx context.Context, c1 []byte, miner, sector uint64) ([]byte, error)

// ProveC2 calls f.
func (f ProverFunc) ProveC2(ctx context.Context, c1 []byte, miner, sector uint64) ([]byte, error) {
	return f(ctx, c1, miner, sector)
}

// Unavailable is the Prover of a worker on a real network without a C2
// processor: it always fails with ErrNoProver.
var Unavailable Prover = ProverFunc(func(context.Context, []byte, uint64, uint64) ([]byte, error) {
	return nil, ErrNoProver
})

// Devnet is the devnet stand-in: it returns the compact vanilla proofs
// (a DevnetProof), NOT a SNARK. Only Sealant's devnet accepts it.
var Devnet Prover = ProverFunc(func(_ context.Context, c1 []byte, miner, sector uint64) ([]byte, error) {
	out, err := porep.ParseC1(c1)
	if err != nil {
		return nil, err
	}
	if _, err := porep.VerifyC1(out, &porep.VerifyOptions{Miner: &miner, Sector: &sector}); err != nil {
		return nil, fmt.Errorf("c2: devnet proof: C1 output does not verify: %w", err)
	}
	return porep.EncodeCompact(out)
})

// GrothProofSize is the size of one partition's Groth16 proof.
const GrothProofSize = 192

// IsDevnetProof reports whether proof is a devnet stand-in proof rather than
// (presumably) Groth16 bytes.
func IsDevnetProof(proof []byte) bool {
	return bytes.HasPrefix(proof, []byte("SLNTC1v1"))
}

// aggregateMagic labels a devnet NI-PoRep aggregate.
const aggregateMagic = "SLNTAGv1"

// ErrAggregate reports a malformed devnet aggregate.
var ErrAggregate = errors.New("c2: malformed devnet aggregate")

// EncodeDevnetAggregate is the devnet stand-in for the SnarkPackV2
// aggregate ProveCommitSectorsNI (miner method 36) carries: NOT a SNARK,
// only Sealant's devnet accepts it. Layout:
//
//	"SLNTAGv1" ‖ for each sector, in the order of the params' Sectors:
//	    u32_le(len(p)) ‖ p
//
// where p is the sector's devnet proof (Devnet's output, the compact C1
// vanilla proofs).
func EncodeDevnetAggregate(proofs [][]byte) []byte {
	n := len(aggregateMagic)
	for _, p := range proofs {
		n += 4 + len(p)
	}
	out := make([]byte, 0, n)
	out = append(out, aggregateMagic...)
	for _, p := range proofs {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(p)))
		out = append(out, p...)
	}
	return out
}

// DecodeDevnetAggregate splits EncodeDevnetAggregate's output into the
// per-sector devnet proofs.
func DecodeDevnetAggregate(b []byte) ([][]byte, error) {
	if !bytes.HasPrefix(b, []byte(aggregateMagic)) {
		return nil, fmt.Errorf("%w: no %s magic (%d bytes)", ErrAggregate, aggregateMagic, len(b))
	}
	b = b[len(aggregateMagic):]
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("%w: truncated length prefix", ErrAggregate)
		}
		n := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if uint64(n) > uint64(len(b)) {
			return nil, fmt.Errorf("%w: sector proof of %d bytes exceeds the %d left", ErrAggregate, n, len(b))
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out, nil
}
