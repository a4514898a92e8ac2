package c2

import (
	"bytes"
	"context"
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
