package porep

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"

	"github.com/sealant/sealant/proofs/sdr"
)

// Stages lists the stage names of Seal in pipeline order.
func Stages() []string { return []string{StagePieces, StageTreeD, StagePC1, StagePC2} }

// SealUpTo runs Seal's stages up to and including last (one of Stages) and
// returns the record; stages already recorded as done are skipped, exactly as
// in Seal. It lets a sealing worker persist a fact after each stage (pieces
// added, tree D built, PC1 done, PC2 done) instead of one for all four.
//
// The ticket is only needed from PC1 on: the pieces and tree D stages may be
// run with a zero req.Ticket and the ticket assigned later with SetTicket,
// which is the order a worker learns them in (damocles and lotus draw the
// ticket after tree D).
func SealUpTo(ctx context.Context, req SealRequest, last string) (*Record, error) {
	idx := slices.Index(Stages(), last)
	if idx < 0 {
		return nil, fmt.Errorf("porep: unknown stage %q", last)
	}
	if !req.Proof.Valid() {
		return nil, fmt.Errorf("porep: unknown seal proof %d", req.Proof)
	}
	if req.Proof.IsLegacy() {
		return nil, fmt.Errorf("porep: %s is a V1 proof; only V1_1 sealing is supported", req.Proof)
	}
	if idx >= 2 && req.Ticket == [32]byte{} {
		return nil, fmt.Errorf("porep: stage %s needs the ticket", last)
	}
	if idx == len(Stages())-1 {
		return Seal(ctx, req)
	}
	if req.Workers <= 0 {
		req.Workers = runtime.GOMAXPROCS(0)
	}
	log := req.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(CachePath(req.Dir), 0o755); err != nil {
		return nil, fmt.Errorf("porep: create sector dir: %w", err)
	}
	rec, err := openOrCreateRecord(req)
	if err != nil {
		return nil, err
	}
	run := func(stage string, f func() error) error {
		if rec.has(stage) {
			return nil
		}
		log.Info("seal stage", "stage", stage, "miner", req.Miner, "sector", req.Sector)
		if req.OnStage != nil {
			req.OnStage(stage)
		}
		if err := f(); err != nil {
			return err
		}
		rec.Done = append(rec.Done, stage)
		return rec.save(req.Dir)
	}
	steps := []func() error{
		func() error { return stagePieces(ctx, req, rec) },
		func() error { return buildTreeD(ctx, req, rec) },
		func() error {
			_, err := sdr.RunPC1(ctx, CachePath(req.Dir), rec.ReplicaID, req.Proof, &sdr.PC1Options{
				ParentCacheDir: req.ParentCacheDir, Workers: req.Workers, Logger: log,
			})
			if err != nil {
				return fmt.Errorf("porep: pc1: %w", err)
			}
			return writeOwnPC1Output(req.Dir, rec)
		},
	}
	for i := 0; i <= idx; i++ {
		if err := run(Stages()[i], steps[i]); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// SetTicket records the sealing ticket of a sector directory whose pieces
// and tree D may already be done, and re-derives the replica id from it.
// Setting the ticket the record already holds is a no-op; changing it once
// PC1 has started would silently invalidate the layers, so it is refused
// with ErrOtherSector.
func SetTicket(dir string, ticket [32]byte) (*Record, error) {
	rec, err := LoadRecord(dir)
	if err != nil {
		return nil, err
	}
	if rec.Ticket == Bytes32(ticket) {
		return rec, nil
	}
	if rec.has(StagePC1) || rec.has(StagePC2) || rec.Ticket != (Bytes32{}) {
		return nil, fmt.Errorf("%w: %s already has ticket %s", ErrOtherSector, dir, rec.Ticket)
	}
	rec.Ticket = ticket
	if rec.has(StageTreeD) {
		rec.ReplicaID = sdr.ReplicaID(sdr.ProverID(rec.Miner), rec.Sector, rec.Ticket, rec.CommD, rec.Proof)
	}
	if err := rec.save(dir); err != nil {
		return nil, err
	}
	return rec, nil
}

// Has reports whether stage is recorded as done.
func (r *Record) Has(stage string) bool { return r.has(stage) }
