package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/api/rpcapi"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/c2"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/porep"
	"github.com/sealant/sealant/proofs/sdr"
	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/worker/sectorfsm"
)

// Caller is a connection to a manager (*rpc.Client satisfies it); the
// worker speaks the typed worker API (api.SealerAPI) over it through
// rpcapi.SealerClient.
type Caller = rpcapi.Caller

// LocalFile is a finalized file on this worker: its lotus-layout name,
// size and checksum, and where it is read from (shared with package
// delivery, whose Client implements Transferer).
type LocalFile = api.LocalFile

// Transferer uploads a finalized sector to an SP's receiver
// (architecture 2) and asks it to verify the files, without waiting for
// the verdict (the thread's state machine waits for it, polling the
// manager, so a worker killed meanwhile resumes waiting, not uploading).
// It returns the receiver's state once the upload and the verify request
// are done — api.DeliveryVerifying, or api.DeliveryAccepted when an
// earlier upload was already verified — ErrDeliveryRejected (wrapped)
// when the receiver refused the files, and any other error for an upload
// that may be retried. Uploading the same files again must be harmless.
// Package delivery provides the HTTP implementation (*delivery.Client); a
// [[processors.transfer]] program, when configured, takes precedence.
type Transferer interface {
	Upload(ctx context.Context, target api.DeliveryTarget, id api.SectorID, files []LocalFile) (api.DeliveryState, error)
}

// ErrDeliveryRejected reports files a receiver refused after verification.
var ErrDeliveryRejected = errors.New("worker: delivery rejected by receiver")

// Failure classification: an error wrapping ErrAbort aborts the sector,
// ErrPermanent pauses it, anything else is temporary (retried with backoff).
var (
	ErrAbort     = errors.New("worker: sector must be aborted")
	ErrPermanent = errors.New("worker: permanent failure")
)

// StageError is a failed action with its sector and stage.
type StageError struct {
	Sector sectorfsm.SectorID
	Stage  string
	Err    error
}

// Error returns "worker: sector s-t0<miner>-<number> <stage>: <err>".
func (e *StageError) Error() string {
	return fmt.Sprintf("worker: sector s-t0%d-%d %s: %v", e.Sector.Miner, e.Sector.Number, e.Stage, e.Err)
}

// Unwrap returns the cause.
func (e *StageError) Unwrap() error { return e.Err }

// Level maps an action error to a failure level.
func Level(err error) sectorfsm.Level {
	switch {
	case errors.Is(err, ErrAbort):
		return sectorfsm.LevelAbort
	case errors.Is(err, ErrPermanent), errors.Is(err, porep.ErrOtherSector),
		errors.Is(err, porep.ErrCommDMismatch), errors.Is(err, porep.ErrPiecesTooLarge):
		return sectorfsm.LevelPermanent
	}
	if e, ok := managerError(err); ok {
		if l, ok := managerErrorLevels[e.Err]; ok {
			return l
		}
	}
	return sectorfsm.LevelTemporary
}

// managerError finds the registered API error err carries: by sentinel
// (the worker dials with the registry, rpcapi.Errors), or by wire code
// when it arrived undecoded (a caller dialled without the registry).
func managerError(err error) (api.ErrorCode, bool) {
	if e, ok := api.ErrorOf(err); ok {
		return e, true
	}
	var re *rpc.Error
	if errors.As(err, &re) {
		return api.ErrorByCode(re.Code)
	}
	return api.ErrorCode{}, false
}

// managerErrorLevels classifies every sentinel of the API error registry
// (api.ErrorCodes; a test fails when one is missing), so that a worker
// does not retry what cannot succeed:
//   - the sector is finalized or aborted, or another worker holds its
//     lease: this thread gives the sector up at once (abort, terminal);
//   - the request is refused as it stands (invalid, conflicting, not
//     permitted, unknown sector, refused by the SP's signer): the thread
//     pauses for an operator;
//   - the tenant is paused, the manager has no chain or no signer: retried
//     with backoff, as any other error.
var managerErrorLevels = map[error]sectorfsm.Level{
	api.ErrSectorDone:     sectorfsm.LevelAbort,
	api.ErrNotLeaseHolder: sectorfsm.LevelAbort,
	api.ErrInvalid:        sectorfsm.LevelPermanent,
	api.ErrConflict:       sectorfsm.LevelPermanent,
	api.ErrPermission:     sectorfsm.LevelPermanent,
	api.ErrNotFound:       sectorfsm.LevelPermanent,
	api.ErrSignRefused:    sectorfsm.LevelPermanent,
	api.ErrTenantPaused:   sectorfsm.LevelTemporary,
	api.ErrNoChain:        sectorfsm.LevelTemporary,
	api.ErrNoSigner:       sectorfsm.LevelTemporary,
}

// Executor performs a thread's actions: the I/O edge of the state machine.
// Every method is idempotent, as the sectorfsm action contracts require.
// Each thread owns its Executor and calls Do from one goroutine; it is not
// meant for concurrent use.
type Executor struct {
	Worker, Thread string
	Manager        api.SealerAPI
	Store          *Store
	Sealing        Sealing
	Limits         *Limits
	Pools          map[string]*Pool
	// Persist is the [[attached]] store finalized sectors move to.
	Persist        string
	Transferer     Transferer
	ParentCacheDir string
	LocalPieces    []string
	HTTP           *http.Client
	Log            *slog.Logger
	// OnStage is told the stage a long action runs (status output).
	OnStage func(stage string)
	// Batch, for the members of a batch thread, joins allocation and PC1
	// with the other members (see batchGroup); nil for a lone thread.
	Batch *batchGroup
}

func apiID(id sectorfsm.SectorID) api.SectorID {
	return api.SectorID{Miner: id.Miner, Number: id.Number}
}

// allocated checks an allocated sector and prepares the thread's sector
// directory for it.
func (x *Executor) allocated(got *api.AllocatedSector) (sectorfsm.Event, error) {
	p := abi.RegisteredSealProof(got.ProofType)
	if !p.Valid() || p.IsLegacy() {
		return nil, fmt.Errorf("%w: manager allocated unsupported proof %d", ErrAbort, got.ProofType)
	}
	// A fresh sector starts from an empty sector directory.
	if !got.Resumed {
		if err := os.RemoveAll(x.Store.SectorDir()); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(x.Store.SectorDir(), 0o755); err != nil {
			return nil, err
		}
	}
	return sectorfsm.Allocated{Sector: sectorfsm.SectorID{Miner: got.ID.Miner, Number: got.ID.Number},
		ProofType: got.ProofType, Devnet: got.Devnet}, nil
}

// Do runs one action for rec and returns the event it yields (nil for exit
// actions and Sleep, which the runner handles).
func (x *Executor) Do(ctx context.Context, rec sectorfsm.Record, a sectorfsm.Action) (sectorfsm.Event, error) {
	id := apiID(rec.Sector)
	switch a := a.(type) {
	case sectorfsm.AllocateSector:
		if x.Batch != nil {
			return x.Batch.allocate(ctx, x)
		}
		ev, _, err := x.allocate(ctx, nil)
		return ev, err
	case sectorfsm.AcquirePieces:
		pieces, err := x.Manager.AcquirePieces(ctx, id)
		if err != nil {
			return nil, err
		}
		if len(pieces) > 0 && !x.Sealing.EnableDeals {
			return nil, fmt.Errorf("%w: thread does not take deals but got %d pieces", ErrPermanent, len(pieces))
		}
		if len(pieces) == 0 && x.Sealing.DisableCC {
			return nil, fmt.Errorf("%w: thread does not seal CC sectors", ErrPermanent)
		}
		data, _ := json.Marshal(pieces)
		if err := writeFileSync(filepath.Join(x.Store.SectorDir(), "pieces.json"), data); err != nil {
			return nil, err
		}
		out := make([]sectorfsm.Piece, len(pieces))
		for i, p := range pieces {
			out[i] = sectorfsm.Piece{CID: p.PieceCID, Size: p.Size}
		}
		return sectorfsm.PiecesAcquired{Pieces: out}, nil
	case sectorfsm.AddPieces:
		files, err := x.fetchPieces(ctx, rec)
		if err != nil {
			return nil, err
		}
		if _, err := x.seal(ctx, rec, files, porep.StagePieces); err != nil {
			return nil, err
		}
		return sectorfsm.PiecesAdded{}, nil
	case sectorfsm.BuildTreeD:
		r, err := x.seal(ctx, rec, nil, porep.StageTreeD)
		if err != nil {
			return nil, err
		}
		return sectorfsm.TreeDBuilt{CommD: sectorfsm.Bytes32(r.CommD)}, nil
	case sectorfsm.AssignTicket:
		t, err := x.Manager.AssignTicket(ctx, id)
		if err != nil {
			return nil, err
		}
		return sectorfsm.TicketAssigned{Ticket: sectorfsm.Randomness{Value: sectorfsm.Bytes32(t.Ticket), Epoch: t.Epoch}}, nil
	case sectorfsm.RunPC1:
		if _, err := x.seal(ctx, rec, nil, porep.StagePC1); err != nil {
			return nil, err
		}
		return sectorfsm.PC1Done{}, nil
	case sectorfsm.RunPC2:
		r, err := x.seal(ctx, rec, nil, porep.StagePC2)
		if err != nil {
			return nil, err
		}
		return sectorfsm.PC2Done{CommR: sectorfsm.Bytes32(r.CommR), CommD: sectorfsm.Bytes32(r.CommD),
			CommC: sectorfsm.Bytes32(r.CommC), CommRLast: sectorfsm.Bytes32(r.CommRLast)}, nil
	case sectorfsm.SubmitPreCommit:
		info := api.PreCommitInfo{
			CommR: commp.SealedCID(rec.CommR).String(), CommD: commp.PieceCID(rec.CommD).String(),
			CommC: api.Hex32(rec.CommC), CommRLast: api.Hex32(rec.CommRLast),
			Ticket: api.Ticket{Ticket: api.Hex32(rec.Ticket.Value), Epoch: rec.Ticket.Epoch},
		}
		resp, err := x.Manager.SubmitPreCommit(ctx, id, info, a.Reset)
		if err != nil {
			return nil, err
		}
		r, err := submitResult(resp)
		if err != nil {
			return nil, err
		}
		return sectorfsm.PreCommitSubmitted{Result: r, Desc: resp.Desc}, nil
	case sectorfsm.PollPreCommit:
		resp, err := x.Manager.PollPreCommitState(ctx, id)
		if err != nil {
			return nil, err
		}
		s, err := chainState(resp)
		if err != nil {
			return nil, err
		}
		return sectorfsm.PreCommitState{State: s, Desc: resp.Desc}, nil
	case sectorfsm.WaitSeed:
		resp, err := x.Manager.WaitSeed(ctx, id)
		if err != nil {
			return nil, err
		}
		if resp.ShouldWait || resp.Seed == nil {
			return sectorfsm.SeedNotReady{Delay: sectorfsm.Duration(max(resp.DelaySeconds, 0)) * sectorfsm.Second}, nil
		}
		return sectorfsm.SeedAssigned{Seed: sectorfsm.Randomness{Value: sectorfsm.Bytes32(resp.Seed.Seed), Epoch: resp.Seed.Epoch}}, nil
	case sectorfsm.RunC1:
		x.stage(StageC1)
		out, err := porep.C1(ctx, x.Store.SectorDir(), rec.Seed.Value)
		if err != nil {
			return nil, err
		}
		data, err := json.Marshal(out)
		if err != nil {
			return nil, err
		}
		if err := writeFileSync(filepath.Join(x.Store.SectorDir(), c1OutputFile), data); err != nil {
			return nil, err
		}
		return sectorfsm.C1Done{}, nil
	case sectorfsm.RunC2:
		return x.runC2(ctx, rec, a)
	case sectorfsm.SubmitProof:
		info := api.ProofInfo{Proof: rec.Proof}
		if sectorfsm.PathOf(rec) == sectorfsm.PathNI {
			// No PreCommit carried the commitments: they go with the proof.
			info.NI = &api.PreCommitInfo{
				CommR: commp.SealedCID(rec.CommR).String(), CommD: commp.PieceCID(rec.CommD).String(),
				CommC: api.Hex32(rec.CommC), CommRLast: api.Hex32(rec.CommRLast),
				Ticket: api.Ticket{Ticket: api.Hex32(rec.Ticket.Value), Epoch: rec.Ticket.Epoch},
			}
		}
		resp, err := x.Manager.SubmitProof(ctx, id, info, a.Reset)
		if err != nil {
			return nil, err
		}
		r, err := submitResult(resp)
		if err != nil {
			return nil, err
		}
		return sectorfsm.ProofSubmitted{Result: r, Desc: resp.Desc}, nil
	case sectorfsm.PollProof:
		resp, err := x.Manager.PollProofState(ctx, id)
		if err != nil {
			return nil, err
		}
		s, err := chainState(resp)
		if err != nil {
			return nil, err
		}
		return sectorfsm.ProofState{State: s, Desc: resp.Desc}, nil
	case sectorfsm.Finalize:
		return x.finalize(ctx, rec, a)
	case sectorfsm.Deliver:
		return x.deliver(ctx, rec)
	case sectorfsm.ConfirmDelivery:
		return x.confirmDelivery(ctx, rec)
	case sectorfsm.ReportFinished:
		_, err := x.Manager.ReportState(ctx, id, api.StateReport{
			Worker: x.Worker, Thread: x.Thread, Prev: rec.State.String(), Next: rec.State.String(), Event: "finished"})
		return nil, err
	case sectorfsm.ReportAborted:
		if rec.Sector == (sectorfsm.SectorID{}) {
			return nil, nil
		}
		_, err := x.Manager.ReportAborted(ctx, id, a.Reason)
		return nil, err
	case sectorfsm.Cleanup:
		return nil, x.cleanup(rec, a)
	}
	return nil, fmt.Errorf("worker: no executor for action %s", a.Name())
}

func (x *Executor) stage(s string) {
	if x.OnStage != nil {
		x.OnStage(s)
	}
}

func submitResult(r api.SubmitResponse) (sectorfsm.SubmitResult, error) {
	switch r.Result {
	case api.SubmitAccepted:
		return sectorfsm.SubmitAccepted, nil
	case api.SubmitDuplicate:
		return sectorfsm.SubmitDuplicate, nil
	case api.SubmitMismatched:
		return sectorfsm.SubmitMismatched, nil
	case api.SubmitRejected:
		return sectorfsm.SubmitRejected, nil
	case api.SubmitFilesMissed:
		return sectorfsm.SubmitFilesMissed, nil
	}
	return 0, fmt.Errorf("worker: manager answered unknown submit result %d (%s)", r.Result, r.Desc)
}

func chainState(r api.PollResponse) (sectorfsm.OnChainState, error) {
	switch r.State {
	case api.OnChainPending:
		return sectorfsm.ChainPending, nil
	case api.OnChainPacked:
		return sectorfsm.ChainPacked, nil
	case api.OnChainLanded:
		return sectorfsm.ChainLanded, nil
	case api.OnChainNotFound:
		return sectorfsm.ChainNotFound, nil
	case api.OnChainFailed:
		return sectorfsm.ChainFailed, nil
	case api.OnChainPermFailed:
		return sectorfsm.ChainPermFailed, nil
	case api.OnChainShouldAbort:
		return sectorfsm.ChainShouldAbort, nil
	}
	// Unknown (0) means the manager has not decided yet: poll again.
	return sectorfsm.ChainPending, nil
}

// seal runs porep up to stage, in-process or through the stage's external
// processor. porep records finished stages in the sector directory, so a
// rerun after a crash skips them (and PC1 resumes per layer).
func (x *Executor) seal(ctx context.Context, rec sectorfsm.Record, pieceFiles []string, stage string) (*porep.Record, error) {
	dir := x.Store.SectorDir()
	procStage := map[string]string{porep.StagePieces: StageAddPieces, porep.StageTreeD: StageTreeD,
		porep.StagePC1: StagePC1, porep.StagePC2: StagePC2}[stage]
	x.stage(procStage)
	if stage == porep.StagePC1 && x.Batch != nil && x.Pools[procStage] == nil {
		// A batch member's PC1 runs with the other members'; the batch
		// takes one pc1 slot of the limits for all of them.
		req := porep.SealRequest{Proof: abi.RegisteredSealProof(rec.ProofType), Miner: rec.Sector.Miner,
			Sector: rec.Sector.Number, Ticket: rec.Ticket.Value, Dir: dir}
		if _, err := porep.SetTicket(dir, rec.Ticket.Value); err != nil {
			return nil, err
		}
		if err := x.Batch.runPC1(ctx, x, req); err != nil {
			return nil, err
		}
		return porep.LoadRecord(dir)
	}
	release, err := x.Limits.acquire(ctx, procStage, nil)
	if err != nil {
		return nil, err
	}
	defer release()
	if pieceFiles == nil {
		pieceFiles = make([]string, len(rec.Pieces))
	}
	req := porep.SealRequest{
		Proof: abi.RegisteredSealProof(rec.ProofType), Miner: rec.Sector.Miner, Sector: rec.Sector.Number,
		Pieces: pieceFiles, Dir: dir, ParentCacheDir: x.ParentCacheDir, Workers: x.Sealing.Workers, Logger: x.Log,
	}
	if stage == porep.StagePC1 || stage == porep.StagePC2 {
		req.Ticket = rec.Ticket.Value
		if _, err := porep.SetTicket(dir, rec.Ticket.Value); err != nil {
			return nil, err
		}
	}
	if pool := x.Pools[procStage]; pool != nil && (stage == porep.StageTreeD || stage == porep.StagePC1 || stage == porep.StagePC2) {
		r, err := porep.LoadRecord(dir)
		if err != nil {
			return nil, err
		}
		if r.Has(stage) {
			return r, nil // adopted before a restart
		}
		return x.runExternalSeal(ctx, pool, rec, r, stage)
	}
	return porep.SealUpTo(ctx, req, stage)
}

// runExternalSeal sends a tree_d, pc1 or pc2 task to an external processor
// exactly as a damocles worker would (absolute paths, the full pc1out),
// checks the answer against the sector's own record and cache
// (porep.AdoptTreeD / AdoptPC1 / AdoptPC2: tree-d root equal to the pieces'
// CommD, comm_d equal, stores present at full length, comm_r consistent
// with p_aux and tree-r-last, a sample of replica nodes correctly encoded)
// and records the stage done.
func (x *Executor) runExternalSeal(ctx context.Context, pool *Pool, rec sectorfsm.Record, r *porep.Record, stage string) (*porep.Record, error) {
	dir, err := filepath.Abs(x.Store.SectorDir())
	if err != nil {
		return nil, err
	}
	if stage == porep.StageTreeD {
		var ok bool
		err := pool.Run(ctx, TreeDTask{RegisteredProof: SealProof(r.Proof), StagedFile: porep.UnsealedPath(dir),
			CacheDir: porep.CachePath(dir)}, &ok)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("worker: tree_d processor answered false")
		}
		return porep.AdoptTreeD(dir)
	}
	if stage == porep.StagePC1 {
		infos := make([]PieceInfo, len(r.Pieces))
		for i, p := range r.Pieces {
			infos[i] = PieceInfo{Commitment: p.CommP, Size: p.Size / 128 * 127}
		}
		if len(infos) == 0 {
			// A CC sector is one zero piece filling the sector (lotus, damocles).
			size := uint64(r.Proof.SectorSize())
			zero, err := commp.ZeroCommitment(fr32PaddedSize(size))
			if err != nil {
				return nil, err
			}
			infos = []PieceInfo{{Commitment: zero, Size: size / 128 * 127}}
		}
		// filecoin-proofs wants cache_path to be a directory and out_path
		// a file before it starts ("out_path must be a file").
		if err := os.MkdirAll(porep.CachePath(dir), 0o755); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(porep.SealedPath(dir), os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, err
		}
		f.Close()
		var out PC1Output
		err = pool.Run(ctx, PC1Task{
			RegisteredProof: SealProof(r.Proof), CachePath: porep.CachePath(dir), InPath: porep.UnsealedPath(dir),
			OutPath: porep.SealedPath(dir), ProverID: sdr.ProverID(rec.Sector.Miner), SectorID: rec.Sector.Number,
			Ticket: porep.Bytes32(rec.Ticket.Value), PieceInfos: infos,
		}, &out)
		if err != nil {
			return nil, err
		}
		return porep.AdoptPC1(dir, &out)
	}
	pc1out, err := porep.LoadPC1Output(dir)
	if errors.Is(err, os.ErrNotExist) {
		// Labelled before Sealant kept pc1out.json: describe its cache.
		pc1out, err = porep.PC1Output(r.Proof, porep.CachePath(dir), r.CommD)
	}
	if err != nil {
		return nil, err
	}
	// filecoin-proofs' PC2 encodes PC1's copy of the data in place: give it
	// a fresh copy, which also makes a retry after a crash mid-encode safe.
	if err := copyFileSync(porep.UnsealedPath(dir), porep.SealedPath(dir)); err != nil {
		return nil, fmt.Errorf("worker: pc2: copy data to the replica file: %w", err)
	}
	var out PC2Output
	err = pool.Run(ctx, PC2Task{PC1Out: *pc1out, CacheDir: porep.CachePath(dir), SealedFile: porep.SealedPath(dir)}, &out)
	if err != nil {
		return nil, err
	}
	return porep.AdoptPC2(dir, &porep.SealPreCommitPhase2Output{
		RegisteredProof: abi.RegisteredSealProof(out.RegisteredProof).APIName(), CommR: out.CommR, CommD: out.CommD,
	})
}

func (x *Executor) runC2(ctx context.Context, rec sectorfsm.Record, a sectorfsm.RunC2) (sectorfsm.Event, error) {
	x.stage(StageC2)
	c1, err := os.ReadFile(filepath.Join(x.Store.SectorDir(), c1OutputFile))
	if err != nil {
		return nil, fmt.Errorf("worker: c2: read c1 output: %w", err)
	}
	release, err := x.Limits.acquire(ctx, StageC2, nil)
	if err != nil {
		return nil, err
	}
	defer release()
	var proof []byte
	switch pool := x.Pools[StageC2]; {
	case pool != nil:
		var out C2Output
		err := pool.Run(ctx, C2Task{C1Out: c1, ProverID: sdr.ProverID(rec.Sector.Miner),
			SectorID: rec.Sector.Number, MinerID: rec.Sector.Miner}, &out)
		if err != nil {
			return nil, err
		}
		proof = out.Proof
	case a.Devnet:
		if proof, err = c2.Devnet.ProveC2(ctx, c1, rec.Sector.Miner, rec.Sector.Number); err != nil {
			return nil, err
		}
	default:
		return sectorfsm.C2Unavailable{Reason: c2.ErrNoProver.Error()}, nil
	}
	if !c2.IsDevnetProof(proof) && (len(proof) == 0 || len(proof)%c2.GrothProofSize != 0) {
		return nil, fmt.Errorf("worker: c2 processor returned %d bytes, not a multiple of %d", len(proof), c2.GrothProofSize)
	}
	return sectorfsm.C2Done{Proof: proof}, nil
}

// fetchPieces makes each piece's payload a local file and checks its CommP
// against the piece CID before anything is sealed with it.
func (x *Executor) fetchPieces(ctx context.Context, rec sectorfsm.Record) ([]string, error) {
	x.stage(StageAddPieces)
	if len(rec.Pieces) == 0 {
		return []string{}, nil
	}
	data, err := os.ReadFile(filepath.Join(x.Store.SectorDir(), "pieces.json"))
	if err != nil {
		return nil, fmt.Errorf("worker: pieces of sector: %w", err)
	}
	var pieces []api.Piece
	if err := json.Unmarshal(data, &pieces); err != nil {
		return nil, fmt.Errorf("worker: pieces of sector: %w", err)
	}
	dir := filepath.Join(x.Store.SectorDir(), "pieces")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for i, p := range pieces {
		want, err := commp.ParsePieceCID(p.PieceCID)
		if err != nil {
			return nil, fmt.Errorf("%w: piece %d: %w", ErrAbort, i, err)
		}
		path := filepath.Join(dir, fmt.Sprintf("%d", i))
		if err := x.fetchOne(ctx, p, path); err != nil {
			return nil, fmt.Errorf("worker: fetch piece %d (%s): %w", i, p.PieceCID, err)
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		res, err := commp.FromReader(ctx, f, max(x.Sealing.Workers, 1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("worker: commp of piece %d: %w", i, err)
		}
		if res.Commitment != want || uint64(res.PieceSize) != p.Size {
			os.Remove(path)
			return nil, fmt.Errorf("worker: piece %d payload has commp %s size %d, deal says %s size %d",
				i, commp.PieceCID(res.Commitment), res.PieceSize, p.PieceCID, p.Size)
		}
		files = append(files, path)
	}
	return files, nil
}

func (x *Executor) fetchOne(ctx context.Context, p api.Piece, dst string) error {
	for _, d := range x.LocalPieces {
		src := filepath.Join(d, p.PieceCID)
		if _, err := os.Stat(src); err == nil {
			return copyFileSync(src, dst)
		}
	}
	u, err := url.Parse(p.SourceURL)
	if err != nil || p.SourceURL == "" {
		base, _, _ := strings.Cut(p.SourceURL, "?")
		return fmt.Errorf("%w: bad source url %q", ErrPermanent, base)
	}
	switch u.Scheme {
	case "", "file":
		path := u.Path
		if u.Scheme == "" {
			path = p.SourceURL
		}
		return copyFileSync(path, dst)
	case "http", "https":
	default:
		return fmt.Errorf("%w: unsupported source url scheme %q", ErrPermanent, u.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.SourceURL, nil)
	if err != nil {
		return err
	}
	hc := x.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		// *url.Error quotes the whole URL, and a presigned URL's query is a
		// bearer credential (X-Amz-Signature…): report the cause only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("GET %s: %w", redactURL(u), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", redactURL(u), resp.Status)
	}
	tmp := dst + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	body := io.Reader(resp.Body)
	if p.PayloadSize > 0 {
		body = io.LimitReader(resp.Body, int64(p.PayloadSize)+1)
	}
	n, err := io.Copy(f, body)
	if err == nil && p.PayloadSize > 0 && uint64(n) != p.PayloadSize {
		err = fmt.Errorf("payload is %d bytes, want %d", n, p.PayloadSize)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}

// redactURL returns u without user info and query, for errors and logs:
// both may carry credentials (basic auth, presigned-URL signatures).
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = "…"
	}
	c.Fragment, c.RawFragment = "", ""
	return c.String()
}

// Interface guards.
var (
	_ Caller = (*rpc.Client)(nil)
)
