package wdpost

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/commp"
)

// ParseAPIPoStName parses a filecoin-proofs-api RegisteredPoStProof variant
// name (the proof_type of a window_post task), the inverse of the names
// ProcessorProver sends.
func ParseAPIPoStName(name string) (abi.RegisteredPoStProof, error) {
	for p := abi.RegisteredPoStProof(0); p.Valid(); p++ {
		if apiPoStName(p) == name {
			return p, nil
		}
	}
	return 0, fmt.Errorf("wdpost: unknown PoSt proof %q", name)
}

// HandleTask serves one window_post task (the child side of
// ProcessorProver) with prover: it decodes the task, proves the replicas in
// task order and answers the proof, or the faulty sectors and no proof, as
// damocles' builtin processor does. With DevnetProver this is what
// `sealant processor window_post --devnet` serves.
func HandleTask(ctx context.Context, prover Prover, raw json.RawMessage) (*ProcessorOutput, error) {
	var t ProcessorTask
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("decode task: %w", err)
	}
	proof, err := ParseAPIPoStName(t.ProofType)
	if err != nil {
		return nil, err
	}
	if proof.IsWinning() {
		return nil, fmt.Errorf("wdpost: %s is a Winning PoSt proof", t.ProofType)
	}
	if len(t.Replicas) == 0 {
		return nil, fmt.Errorf("wdpost: no replicas")
	}
	req := WindowPoStRequest{Miner: t.MinerID, Proof: proof, Randomness: t.Seed}
	for _, r := range t.Replicas {
		if r.CacheDir == "" || r.SealedFile == "" {
			return nil, fmt.Errorf("wdpost: sector %d: cache_dir and sealed_file are required", r.SectorID)
		}
		req.Replicas = append(req.Replicas, Replica{Sector: r.SectorID, CommR: commp.SealedCID(r.CommR),
			SealedPath: r.SealedFile, CacheDir: r.CacheDir})
	}
	pb, faults, err := prover.ProveWindowPoSt(ctx, req)
	if err != nil {
		return nil, err
	}
	if len(faults) > 0 {
		return &ProcessorOutput{Proofs: []string{}, Faults: faults}, nil
	}
	return &ProcessorOutput{Proofs: []string{base64.StdEncoding.EncodeToString(pb)}, Faults: []uint64{}}, nil
}
