package porep

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"

	"github.com/sealant/sealant/proofs/sdr"
)

// BatchOptions tunes SealBatch. The zero value is usable.
type BatchOptions struct {
	// ParentCacheDir holds SDR parent caches; "" means sdr.DefaultParentCacheDir.
	ParentCacheDir string
	// Workers bounds parallelism of every stage (≤ 0: GOMAXPROCS); in batch
	// PC1 it is the number of labelling goroutines.
	Workers int
	// MemoryLimit, if > 0, refuses a batch whose PC1 needs more
	// (sdr.BatchMemory) before any work.
	MemoryLimit int64
	// Logger receives progress; nil discards.
	Logger *slog.Logger
	// OnStage, if set, is called with the stage and the index of the sector
	// (-1 for the batch PC1, which runs for all sectors at once).
	OnStage func(stage string, sector int)
}

// CheckBatch validates a batch without touching the disk beyond reading
// the piece files' sizes: one proof (V1_1) for all, distinct (miner,
// sector) pairs and directories, pieces that exist and fit. SealBatch calls
// it first; callers may call it to refuse a spec before scheduling it.
func CheckBatch(reqs []SealRequest) error {
	if len(reqs) == 0 {
		return fmt.Errorf("porep: empty batch")
	}
	proof := reqs[0].Proof
	ids := map[[2]uint64]int{}
	dirs := map[string]int{}
	for i, r := range reqs {
		if !r.Proof.Valid() {
			return fmt.Errorf("porep: batch sector %d: unknown seal proof %d", i, r.Proof)
		}
		if r.Proof.IsLegacy() {
			return fmt.Errorf("porep: batch sector %d: %s is a V1 proof; only V1_1 sealing is supported", i, r.Proof)
		}
		if r.Proof != proof {
			return fmt.Errorf("porep: batch sector %d is %s, sector 0 is %s: a batch holds one sector size and proof", i, r.Proof, proof)
		}
		if j, dup := ids[[2]uint64{r.Miner, r.Sector}]; dup {
			return fmt.Errorf("porep: batch sectors %d and %d are both t0%d-%d", j, i, r.Miner, r.Sector)
		}
		ids[[2]uint64{r.Miner, r.Sector}] = i
		if r.Dir == "" {
			return fmt.Errorf("porep: batch sector %d: no directory", i)
		}
		abs, err := filepath.Abs(r.Dir)
		if err != nil {
			return fmt.Errorf("porep: batch sector %d: directory %q: %w", i, r.Dir, err)
		}
		if j, dup := dirs[abs]; dup {
			return fmt.Errorf("porep: batch sectors %d and %d share the directory %s", j, i, r.Dir)
		}
		dirs[abs] = i
		if err := checkPiecesFit(r); err != nil {
			return fmt.Errorf("porep: batch sector %d (t0%d-%d): %w", i, r.Miner, r.Sector, err)
		}
	}
	return nil
}

// checkPiecesFit lays the pieces out as stagePieces will (placePiece) from
// their file sizes alone.
func checkPiecesFit(r SealRequest) error {
	sectorSize := uint64(r.Proof.SectorSize())
	var offset uint64
	for i, name := range r.Pieces {
		st, err := os.Stat(name)
		if err != nil {
			return fmt.Errorf("piece %d: %w", i+1, err)
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("piece %d (%s): not a regular file", i+1, name)
		}
		off, size, _, err := placePiece(uint64(st.Size()), offset, sectorSize)
		if err != nil {
			return fmt.Errorf("piece %d (%s): %w", i+1, name, err)
		}
		offset = off
		offset += size
	}
	return nil
}

// SealBatch seals several sectors of one proof as Seal seals each, with
// their PC1 labelled together by sdr.RunPC1Batch: pieces and TreeD sector
// by sector, then one batch PC1 for every sector whose record lacks it,
// then PC2 sector by sector. Each directory ends up exactly as Seal would
// have left it, and each record with the same commitments.
//
// It resumes like Seal: stages recorded as done are skipped, and an
// interrupted batch PC1 resumes at the first layer some sector lacks. The
// whole batch is checked (CheckBatch, the memory limit) before any work.
func SealBatch(ctx context.Context, reqs []SealRequest, opts *BatchOptions) ([]*Record, error) {
	if opts == nil {
		opts = &BatchOptions{}
	}
	if err := CheckBatch(reqs); err != nil {
		return nil, err
	}
	proof := reqs[0].Proof
	if err := sdr.CheckBatchMemory(proof, len(reqs), opts.MemoryLimit); err != nil {
		return nil, err
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	onStage := func(i int) func(string) {
		return func(stage string) {
			if opts.OnStage != nil {
				opts.OnStage(stage, i)
			}
		}
	}
	// Identity clashes (a directory holding another sector) surface before
	// any stage runs.
	for i := range reqs {
		if _, err := openOrCreateRecord(reqs[i]); err != nil {
			return nil, fmt.Errorf("porep: batch sector %d: %w", i, err)
		}
	}

	for i := range reqs {
		r := reqs[i]
		r.ParentCacheDir, r.Workers, r.Logger, r.OnStage = opts.ParentCacheDir, workers, log, onStage(i)
		reqs[i] = r
		if _, err := SealUpTo(ctx, r, StageTreeD); err != nil {
			return nil, fmt.Errorf("porep: batch sector %d: %w", i, err)
		}
	}

	if opts.OnStage != nil {
		opts.OnStage(StagePC1, -1)
	}
	recs, err := PC1Batch(ctx, reqs, &sdr.BatchOptions{ParentCacheDir: opts.ParentCacheDir, Workers: workers, Logger: log})
	if err != nil {
		return nil, err
	}

	for i := range reqs {
		rec, err := Seal(ctx, reqs[i])
		if err != nil {
			return nil, fmt.Errorf("porep: batch sector %d: %w", i, err)
		}
		recs[i] = rec
	}
	return recs, nil
}

// PC1Batch runs PC1 for sector directories whose pieces and TreeD are done
// and whose ticket is set (SealUpTo up to StageTreeD, SetTicket), as one
// sdr.RunPC1Batch over the sectors whose record lacks PC1, writes each one's
// SealPreCommitPhase1Output (PC1OutFileName) as a single-sector PC1 does,
// and records PC1 as done in each. It returns every sector's record. reqs must be of one
// proof; Dir and the sector identity are what is read from each.
//
// A sealing worker's batch thread calls it once its member sectors reach
// PC1; SealBatch calls it between TreeD and PC2.
func PC1Batch(ctx context.Context, reqs []SealRequest, opts *sdr.BatchOptions) ([]*Record, error) {
	if len(reqs) == 0 {
		return nil, fmt.Errorf("porep: empty batch")
	}
	proof := reqs[0].Proof
	recs := make([]*Record, len(reqs))
	var todo []int
	var batch []sdr.BatchSector
	for i, r := range reqs {
		if r.Proof != proof {
			return nil, fmt.Errorf("porep: batch sector %d is %s, sector 0 is %s", i, r.Proof, proof)
		}
		rec, err := LoadRecord(r.Dir)
		if err != nil {
			return nil, fmt.Errorf("porep: batch sector %d: %w", i, err)
		}
		if rec.Proof != r.Proof || rec.Miner != r.Miner || rec.Sector != r.Sector {
			return nil, fmt.Errorf("porep: batch sector %d: %w: %s holds t0%d-%d", i, ErrOtherSector, r.Dir, rec.Miner, rec.Sector)
		}
		recs[i] = rec
		if rec.has(StagePC1) {
			continue
		}
		if !rec.has(StageTreeD) || rec.Ticket == (Bytes32{}) {
			return nil, fmt.Errorf("porep: batch sector %d (t0%d-%d): PC1 needs tree D and the ticket first", i, rec.Miner, rec.Sector)
		}
		todo = append(todo, i)
		batch = append(batch, sdr.BatchSector{CacheDir: CachePath(r.Dir), ReplicaID: rec.ReplicaID})
	}
	if len(batch) == 0 {
		return recs, nil
	}
	if _, err := sdr.RunPC1Batch(ctx, proof, batch, opts); err != nil {
		return nil, fmt.Errorf("porep: batch pc1: %w", err)
	}
	for _, i := range todo {
		// Each sector gets the SealPreCommitPhase1Output a single-sector
		// PC1 writes, so an external PC2 can take it from here.
		if err := writeOwnPC1Output(reqs[i].Dir, recs[i]); err != nil {
			return nil, fmt.Errorf("porep: batch sector %d: %w", i, err)
		}
		recs[i].Done = append(recs[i].Done, StagePC1)
		if err := recs[i].save(reqs[i].Dir); err != nil {
			return nil, err
		}
	}
	return recs, nil
}
