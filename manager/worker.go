package manager

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/store"
	"github.com/sealant/sealant/worker/sectorfsm"
)

// maxNumberRetries bounds how many freshly allocated numbers AllocateSector
// gives up (because the chain already has them) before it reports an error.
const maxNumberRetries = 8

// AllocateSector gives the calling sealing thread a sector: the one it
// already holds (restart), else a new one of the tenant that weighted fair
// share picks among those the spec allows (see store.AllocateSector for the
// rule). nil means no work. The new sector's number is cross-checked with
// the chain's StateMinerSectorAllocated; a number the chain already used is
// given up (the sector is recorded aborted) and the counter moved past it.
func (s *Service) AllocateSector(ctx context.Context, spec api.AllocateSpec) (*api.AllocatedSector, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	identity, err := workerIdentity(c, spec.Worker, spec.Thread)
	if err != nil {
		return nil, err
	}
	f := store.AllocateFilter{Tenants: spec.AllowedTenants, Miners: spec.AllowedMiners}
	for _, p := range spec.AllowedProofTypes {
		f.ProofTypes = append(f.ProofTypes, abi.RegisteredSealProof(p))
	}
	if c.tenant != "" {
		// A tenant-bound worker token only ever sees that tenant.
		if len(f.Tenants) > 0 && !contains(f.Tenants, c.tenant) {
			return nil, nil
		}
		f.Tenants = []string{c.tenant}
	}
	for attempt := 0; ; attempt++ {
		if s.chain != nil {
			f.ExcludeMiners = s.excludedMiners(ctx)
		}
		a, err := s.st.AllocateSector(ctx, identity, f, s.now(), s.allocatePolicy())
		if errors.Is(err, store.ErrNoWork) {
			return nil, nil
		}
		if err != nil {
			return nil, mapStoreErr(err)
		}
		// Never hand out a sector for a miner the chain does not know
		// (checked once per miner and process; a re-offered sector too).
		if err := s.minerAllowed(ctx, a.Sector.ID.Miner); err != nil {
			if !errors.Is(err, errMinerNotFound) {
				// The chain could not be asked; the sector is re-offered
				// (and checked again) on the worker's next call.
				return nil, fmt.Errorf("manager: sector %s: %w", a.Sector.ID, err)
			}
			s.log.Error("miner not found on chain; its sector is aborted and the miner excluded from allocation", "sector", a.Sector.ID, "miner", a.Sector.ID.Miner, "tenant", a.Sector.TenantID)
			if err := s.st.AbortSector(ctx, a.Sector.ID, "miner not found on chain", s.now()); err != nil {
				return nil, mapStoreErr(err)
			}
			if attempt+1 >= maxNumberRetries {
				return nil, fmt.Errorf("%w: %w", ErrConflict, err)
			}
			continue
		}
		if !a.Reoffered {
			ok, err := s.numberFree(ctx, a.Sector.ID)
			if err != nil {
				// The sector exists now; the worker will get it back on
				// its next call (re-offer), when the chain may answer.
				return nil, fmt.Errorf("manager: sector %s: cross-check number with chain: %w", a.Sector.ID, err)
			}
			if !ok {
				s.log.Warn("sector number already allocated on chain; skipping it", "sector", a.Sector.ID, "miner", a.Sector.ID.Miner)
				if err := s.st.AbortSector(ctx, a.Sector.ID, "sector number already allocated on chain", s.now()); err != nil {
					return nil, mapStoreErr(err)
				}
				if attempt+1 >= maxNumberRetries {
					return nil, fmt.Errorf("%w: miner %d: %d consecutive sector numbers are already allocated on chain", ErrConflict, a.Sector.ID.Miner, maxNumberRetries)
				}
				continue
			}
			s.metrics.allocations.WithLabelValues(a.Sector.TenantID).Inc()
			s.log.Info("sector allocated", "sector", a.Sector.ID, "tenant", a.Sector.TenantID, "worker", identity)
		}
		return &api.AllocatedSector{
			ID:           toAPIID(a.Sector.ID),
			ProofType:    int64(a.Sector.ProofType),
			Tenant:       a.Sector.TenantID,
			Resumed:      a.Reoffered,
			LeaseExpires: a.Sector.LeaseExpires,
			Devnet:       s.devnet,
		}, nil
	}
}

// numberFree asks the chain whether a sector number is unused. Without a
// chain every number is free. When the chain has the number, the store's
// counter is moved past the allocated prefix, found by galloping then
// bisecting: SPs that sealed elsewhere before usually used 0..k-1.
func (s *Service) numberFree(ctx context.Context, id store.SectorID) (bool, error) {
	if s.chain == nil {
		return true, nil
	}
	maddr := address.NewIDAddress(id.Miner)
	head, err := s.chain.ChainHead(ctx)
	if err != nil {
		return false, err
	}
	used, err := s.chain.StateMinerSectorAllocated(ctx, maddr, id.Number, head.Key())
	if err != nil || !used {
		return !used, err
	}
	// Find a free number above id.Number: double the step until free,
	// then bisect between the last used and the first free.
	lo, step := id.Number, uint64(1)
	hi := lo + step
	for {
		used, err := s.chain.StateMinerSectorAllocated(ctx, maddr, hi, head.Key())
		if err != nil {
			return false, err
		}
		if !used {
			break
		}
		lo, step = hi, step*2
		if step > 1<<40 {
			return false, fmt.Errorf("%w: miner %d: no free sector number found", ErrConflict, id.Miner)
		}
		hi = lo + step
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		used, err := s.chain.StateMinerSectorAllocated(ctx, maddr, mid, head.Key())
		if err != nil {
			return false, err
		}
		if used {
			lo = mid
		} else {
			hi = mid
		}
	}
	if err := s.st.BumpSectorNumberFloor(ctx, id.Miner, hi); err != nil {
		return false, mapStoreErr(err)
	}
	return false, nil
}

// workerSector loads a sector for a worker call: the caller must hold its
// lease (same worker identity prefix) and be allowed to see its tenant.
// Calls double as heartbeats: the lease is renewed when less than three
// quarters of the TTL is left, so a polling thread costs a database write
// only every TTL/4, not on every poll.
func (s *Service) workerSector(ctx context.Context, id api.SectorID) (store.Sector, error) {
	return s.loadWorkerSector(ctx, id, false)
}

// pollSector is workerSector for poll answers: the sector may come from the
// poll cache (see Options.PollCacheTTL).
func (s *Service) pollSector(ctx context.Context, id api.SectorID) (store.Sector, error) {
	return s.loadWorkerSector(ctx, id, true)
}

func (s *Service) loadWorkerSector(ctx context.Context, id api.SectorID, cached bool) (store.Sector, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return store.Sector{}, err
	}
	sid := toStoreID(id)
	var sec store.Sector
	if cached {
		sec, err = s.sectors.get(sid, func() (store.Sector, error) { return s.st.GetSector(ctx, sid) })
	} else {
		sec, err = s.st.GetSector(ctx, sid)
		if err == nil {
			s.sectors.forget(sid)
		}
	}
	if err != nil {
		return store.Sector{}, mapStoreErr(err)
	}
	if !c.canSeeTenant(sec.TenantID) {
		return store.Sector{}, fmt.Errorf("%w: sector %s", ErrPermission, id)
	}
	if w, _ := workerOf(sec.WorkerID); w != c.subject {
		return store.Sector{}, fmt.Errorf("%w: sector %s is leased by %s", ErrNotLeaseHolder, id, w)
	}
	now := s.now()
	if sec.Phase == store.PhaseActive && sec.LeaseExpires.Sub(now) < s.ttl*3/4 {
		exp, err := s.st.RenewLease(ctx, sec.ID, sec.WorkerID, now, s.ttl)
		if err != nil && !errors.Is(err, store.ErrSectorDone) {
			return store.Sector{}, mapStoreErr(err)
		}
		if err == nil {
			sec.LeaseExpires = exp
			s.sectors.forget(sid)
		}
	}
	return sec, nil
}

// activeSector is workerSector for calls that only make sense before the
// sector is finalized or aborted.
func (s *Service) activeSector(ctx context.Context, id api.SectorID) (store.Sector, error) {
	sec, err := s.workerSector(ctx, id)
	if err != nil {
		return sec, err
	}
	if sec.Phase != store.PhaseActive {
		return sec, fmt.Errorf("%w: sector %s is %s", ErrSectorDone, id, sec.Phase)
	}
	return sec, nil
}

// AcquirePieces returns a sector's pieces, deciding them on the first call
// from the tenant's piece queue (empty: a CC sector). Repeats return the
// same pieces.
func (s *Service) AcquirePieces(ctx context.Context, id api.SectorID) ([]api.Piece, error) {
	sec, err := s.workerSector(ctx, id)
	if err != nil {
		return nil, err
	}
	if e, ok, err := s.side.getExtra(ctx, sec.ID); err != nil {
		return nil, err
	} else if ok && e.Pieces != nil {
		return e.Pieces, nil
	}
	if sec.Phase != store.PhaseActive {
		return nil, fmt.Errorf("%w: sector %s is %s", ErrSectorDone, id, sec.Phase)
	}
	var pieces []api.Piece
	if !sec.ProofType.IsNI() {
		// NI-PoRep sectors are CC only (ProveCommitSectorsNI activates no
		// data): deals wait for the tenant's interactive sectors.
		if pieces, err = s.side.acquirePieces(ctx, sec.ID, sec.TenantID, sec.SectorSize); err != nil {
			return nil, err
		}
	}
	sp := make([]store.Piece, len(pieces))
	for i, p := range pieces {
		sp[i] = store.Piece{CID: p.PieceCID, Size: p.Size}
	}
	res, err := s.st.SetPieces(ctx, sec.ID, sec.WorkerID, sp, s.now())
	if err != nil {
		return nil, mapStoreErr(err)
	}
	if res == store.SubmitMismatch {
		return nil, fmt.Errorf("%w: sector %s: stored pieces differ from the queue's decision", ErrConflict, id)
	}
	return pieces, nil
}

// AssignTicket returns the sector's ticket, drawing it on the first call:
// randomness from tickets with the seal tag at head − SealRandomnessLookback
// and the miner's ID address (CBOR) as entropy. The first ticket stored
// wins, so a repeat (or a second manager) returns the same ticket.
func (s *Service) AssignTicket(ctx context.Context, id api.SectorID) (api.Ticket, error) {
	sec, err := s.workerSector(ctx, id)
	if err != nil {
		return api.Ticket{}, err
	}
	if sec.Ticket != nil {
		return storeTicket(*sec.Ticket)
	}
	if sec.Phase != store.PhaseActive {
		return api.Ticket{}, fmt.Errorf("%w: sector %s is %s", ErrSectorDone, id, sec.Phase)
	}
	if s.chain == nil {
		return api.Ticket{}, fmt.Errorf("%w: cannot draw a ticket", ErrNoChain)
	}
	head, err := s.chain.ChainHead(ctx)
	if err != nil {
		return api.Ticket{}, fmt.Errorf("manager: sector %s: chain head: %w", id, err)
	}
	epoch := max(s.policy.TicketEpoch(int64(head.Height)), 0)
	entropy, err := rand.SealEntropyForID(id.Miner)
	if err != nil {
		return api.Ticket{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	r, err := s.chain.StateGetRandomnessFromTickets(ctx, rand.TagSealRandomness, types.ChainEpoch(epoch), entropy, head.Key())
	if err != nil {
		return api.Ticket{}, fmt.Errorf("manager: sector %s: ticket randomness: %w", id, err)
	}
	t, err := s.st.AssignTicket(ctx, sec.ID, sec.WorkerID, store.Ticket{Value: r[:], Epoch: epoch}, s.now())
	if err != nil {
		return api.Ticket{}, mapStoreErr(err)
	}
	return storeTicket(t)
}

func storeTicket(t store.Ticket) (api.Ticket, error) {
	var out api.Ticket
	if len(t.Value) != 32 {
		return out, fmt.Errorf("manager: stored ticket has %d bytes", len(t.Value))
	}
	copy(out.Ticket[:], t.Value)
	out.Epoch = t.Epoch
	return out, nil
}

// SubmitPreCommit records a sector's PC2 result once and queues it for the
// tenant's PreCommit batch. A repeat with the same values is Duplicate (and
// re-queues it if its last batch failed and reset is set); different values
// are Mismatched, permanently.
func (s *Service) SubmitPreCommit(ctx context.Context, id api.SectorID, pc api.PreCommitInfo, reset bool) (api.SubmitResponse, error) {
	sec, err := s.activeSector(ctx, id)
	if err != nil {
		return api.SubmitResponse{}, err
	}
	commR, err := commp.ParseSealedCID(pc.CommR)
	if err != nil {
		return api.SubmitResponse{Result: api.SubmitRejected, Desc: "comm_r: " + err.Error()}, nil
	}
	commD, err := commp.ParsePieceCID(pc.CommD)
	if err != nil {
		return api.SubmitResponse{Result: api.SubmitRejected, Desc: "comm_d: " + err.Error()}, nil
	}
	if sec.Ticket == nil {
		return api.SubmitResponse{Result: api.SubmitRejected, Desc: "no ticket assigned: call AssignTicket first"}, nil
	}
	if sec.CommR == nil && s.chain != nil {
		// A ticket too old for the actor would make the whole batch fail;
		// refuse it here, once, before it can poison a batch.
		if head, err := s.chain.ChainHead(ctx); err == nil {
			if err := s.policy.CheckTicket(pc.Ticket.Epoch, int64(head.Height)+1); err != nil {
				return api.SubmitResponse{Result: api.SubmitRejected, Desc: "ticket expired: " + err.Error()}, nil
			}
		}
	}
	res, err := s.st.SubmitPreCommit(ctx, sec.ID, sec.WorkerID, store.PreCommitInfo{
		CommR: commR[:], CommD: commD[:], Ticket: store.Ticket{Value: pc.Ticket.Ticket[:], Epoch: pc.Ticket.Epoch},
	}, s.now())
	if err != nil {
		return api.SubmitResponse{}, mapStoreErr(err)
	}
	if res == store.SubmitMismatch {
		return api.SubmitResponse{Result: api.SubmitMismatched, Desc: "differs from the earlier submission (comm_r, comm_d or ticket)"}, nil
	}
	same, err := s.side.setCommitments(ctx, sec.ID, sec.TenantID, pc.CommC.String(), pc.CommRLast.String())
	if err != nil {
		return api.SubmitResponse{}, err
	}
	if !same {
		return api.SubmitResponse{Result: api.SubmitMismatched, Desc: "comm_c or comm_r_last differ from the earlier submission"}, nil
	}
	if res == store.SubmitAccepted || reset || sec.PreCommitBatch == 0 && sec.PreCommitMsg == "" {
		if err := s.enqueue(ctx, sec, store.BatchPreCommit); err != nil {
			return api.SubmitResponse{}, err
		}
	}
	if res == store.SubmitDuplicate {
		return api.SubmitResponse{Result: api.SubmitDuplicate}, nil
	}
	return api.SubmitResponse{Result: api.SubmitAccepted}, nil
}

// enqueue puts a sector into its tenant's open batch of kind and wakes the
// pipeline. Idempotent: a sector already in a live batch stays there.
func (s *Service) enqueue(ctx context.Context, sec store.Sector, kind store.BatchKind) error {
	b, err := s.st.AddToBatch(ctx, sec.ID, kind, s.now())
	if err != nil {
		return mapStoreErr(err)
	}
	if err := s.side.noteBatch(ctx, sec.ID, sec.TenantID, kind, b); err != nil {
		return err
	}
	if s.pipeline != nil {
		s.pipeline.Wake(sec.TenantID, kind)
	}
	return nil
}

// PollPreCommitState reports the PreCommit's progress from the store's
// batch and message records (which the pipeline keeps current).
func (s *Service) PollPreCommitState(ctx context.Context, id api.SectorID) (api.PollResponse, error) {
	sec, err := s.pollSector(ctx, id)
	if err != nil {
		return api.PollResponse{}, err
	}
	if sec.CommR == nil {
		return api.PollResponse{State: api.OnChainNotFound, Desc: "no precommit submitted"}, nil
	}
	return s.pollBatch(ctx, sec, store.BatchPreCommit, sec.PreCommitBatch, sec.PreCommitMsg)
}

// PollProofState reports the ProveCommit's progress; see PollPreCommitState.
func (s *Service) PollProofState(ctx context.Context, id api.SectorID) (api.PollResponse, error) {
	sec, err := s.pollSector(ctx, id)
	if err != nil {
		return api.PollResponse{}, err
	}
	if !sec.HasProof {
		return api.PollResponse{State: api.OnChainNotFound, Desc: "no proof submitted"}, nil
	}
	resp, err := s.pollBatch(ctx, sec, store.BatchProveCommit, sec.ProveCommitBatch, sec.ProveCommitMsg)
	if err != nil || resp.State != api.OnChainLanded {
		return resp, err
	}
	// An aggregate can land while one of its sectors failed; when the
	// chain can tell, only an activated sector counts as landed.
	if r, ok := s.chain.(SectorInfoReader); ok && s.chain != nil {
		head, err := s.chain.ChainHead(ctx)
		if err != nil {
			return api.PollResponse{State: api.OnChainPacked, Desc: "landed; confirming with chain: " + err.Error(), MessageCID: resp.MessageCID}, nil
		}
		info, err := r.StateSectorGetInfo(ctx, address.NewIDAddress(id.Miner), id.Number, head.Key())
		if err != nil {
			return api.PollResponse{State: api.OnChainPacked, Desc: "landed; confirming with chain: " + err.Error(), MessageCID: resp.MessageCID}, nil
		}
		if info == nil {
			return api.PollResponse{State: api.OnChainFailed, Desc: "message landed but the sector is not active on chain", MessageCID: resp.MessageCID}, nil
		}
	}
	return resp, nil
}

// pollBatch maps the store's batch and message records to an OnChainState.
// The pipeline owns retries: a batch that failed for a transient reason
// gives its sectors back to batching after a pause (and poison isolation
// regroups them), so such a sector is still Pending (Desc says why); a
// sector the pipeline gave up on is aborted in the store and reported
// PermFailed with the pipeline's reason.
func (s *Service) pollBatch(ctx context.Context, sec store.Sector, kind store.BatchKind, batchID int64, msgCID string) (api.PollResponse, error) {
	if sec.Phase == store.PhaseAborted {
		return api.PollResponse{State: api.OnChainPermFailed, Desc: nonEmpty(sec.AbortReason, "sector aborted"), MessageCID: msgCID}, nil
	}
	if batchID == 0 {
		// Not in a batch: either never queued, or its batch failed (the
		// store detaches the sectors of a failed batch).
		e, ok, err := s.side.getExtra(ctx, sec.ID)
		if err != nil {
			return api.PollResponse{}, err
		}
		last := e.PCBatch
		if kind == store.BatchProveCommit {
			last = e.PRBatch
		}
		if ok && last != 0 {
			b, err := s.st.GetBatch(ctx, last)
			if err == nil && b.State == store.BatchFailed {
				desc := fmt.Sprintf("batch %d failed", b.ID)
				if b.Message != nil && b.Message.Error != "" {
					desc += ": " + b.Message.Error
				} else if b.Message != nil && b.Message.ExitCode != nil {
					desc += fmt.Sprintf(": exit code %d", *b.Message.ExitCode)
				}
				// Not re-queued here: the pipeline re-batches it after its
				// retry pause (or the worker resubmits with reset).
				return api.PollResponse{State: api.OnChainPending, Desc: desc + "; waiting to be re-batched"}, nil
			}
			if err == nil && b.State == store.BatchLanded {
				return api.PollResponse{State: api.OnChainLanded, MessageCID: msgCID}, nil
			}
		}
		if msgCID != "" {
			return api.PollResponse{State: api.OnChainLanded, MessageCID: msgCID}, nil
		}
		// Queue it (idempotent) so a sector is never stranded outside a
		// batch, e.g. after a crash between the submission and AddToBatch.
		// sec may come from the poll cache and the pipeline may have
		// batched it since: decide on a fresh read, not a cached one.
		fresh, err := s.st.GetSector(ctx, sec.ID)
		if err != nil {
			return api.PollResponse{}, mapStoreErr(err)
		}
		s.sectors.forget(sec.ID)
		if fresh.Phase != sec.Phase || batchOf(fresh, kind) != 0 {
			return s.pollBatch(ctx, fresh, kind, batchOf(fresh, kind), msgOf(fresh, kind))
		}
		if err := s.enqueue(ctx, sec, kind); err != nil {
			return api.PollResponse{}, err
		}
		return api.PollResponse{State: api.OnChainPending, Desc: "queued for a batch"}, nil
	}
	b, err := s.batches.get(batchID, func() (store.BatchHead, error) { return s.st.GetBatchHead(ctx, batchID) })
	if err != nil {
		return api.PollResponse{}, mapStoreErr(err)
	}
	resp := api.PollResponse{MessageCID: msgCID}
	if b.Message != nil && resp.MessageCID == "" {
		resp.MessageCID = b.Message.ChainCID()
	}
	switch b.State {
	case store.BatchOpen:
		resp.State, resp.Desc = api.OnChainPending, fmt.Sprintf("in open batch %d (%d sectors)", b.ID, b.Size)
	case store.BatchClosed:
		resp.State, resp.Desc = api.OnChainPending, fmt.Sprintf("batch %d closed, message being prepared", b.ID)
		if b.Message == nil || b.Message.State == store.MsgPending {
			resp.WaitingForSigner = s.waitingForSigner(ctx, sec.TenantID)
		}
		if r, ok := s.pipeline.(BatchStatusReporter); ok {
			if st, ok := r.BatchStatus(b.ID); ok {
				resp.WaitingForSigner = resp.WaitingForSigner || st.WaitingForSigner
				if st.Reason != "" {
					resp.Desc += ": " + st.Reason
				}
			}
		}
	case store.BatchSent:
		resp.State, resp.Desc = api.OnChainPacked, fmt.Sprintf("batch %d message pushed", b.ID)
	case store.BatchLanded:
		resp.State = api.OnChainLanded
	case store.BatchFailed:
		resp.State, resp.Desc = api.OnChainFailed, "batch failed"
	default:
		resp.State = api.OnChainUnknown
	}
	return resp, nil
}

// batchOf and msgOf are the sector's batch and message for kind.
func batchOf(sec store.Sector, kind store.BatchKind) int64 {
	if kind == store.BatchProveCommit {
		return sec.ProveCommitBatch
	}
	return sec.PreCommitBatch
}

func msgOf(sec store.Sector, kind store.BatchKind) string {
	if kind == store.BatchProveCommit {
		return sec.ProveCommitMsg
	}
	return sec.PreCommitMsg
}

// waitingForSigner is true when the tenant signs with its own signer and
// none is connected.
func (s *Service) waitingForSigner(ctx context.Context, tenant string) bool {
	if s.signers == nil {
		return false
	}
	if w, ok := s.signers.(interface{ Waiting(tenant string) bool }); ok && w.Waiting(tenant) {
		return true
	}
	t, err := s.st.GetTenant(ctx, tenant)
	if err != nil || t.SigningRoute != store.SignerRoute {
		return false
	}
	return !s.signers.Connected(tenant)
}

// WaitSeed returns the interactive seed once the chain has settled it
// (SeedReadyAt = precommit epoch + PreCommitChallengeDelay +
// InteractivePoRepConfidence), else how long to wait. The pre-commit epoch
// is read from StateSectorPreCommitInfo. The first seed stored wins.
func (s *Service) WaitSeed(ctx context.Context, id api.SectorID) (api.WaitSeedResponse, error) {
	sec, err := s.workerSector(ctx, id)
	if err != nil {
		return api.WaitSeedResponse{}, err
	}
	if sec.Seed != nil {
		t, err := storeTicket(*sec.Seed)
		if err != nil {
			return api.WaitSeedResponse{}, err
		}
		return api.WaitSeedResponse{Seed: &api.Seed{Seed: t.Ticket, Epoch: t.Epoch}}, nil
	}
	if sec.Phase != store.PhaseActive {
		return api.WaitSeedResponse{}, fmt.Errorf("%w: sector %s is %s", ErrSectorDone, id, sec.Phase)
	}
	if s.chain == nil {
		return api.WaitSeedResponse{}, fmt.Errorf("%w: cannot draw a seed", ErrNoChain)
	}
	wait := func(epochs int64) api.WaitSeedResponse {
		d := time.Duration(max(epochs, 1)) * s.block
		return api.WaitSeedResponse{ShouldWait: true, DelaySeconds: int(max(d/time.Second, 1))}
	}
	head, err := s.chain.ChainHead(ctx)
	if err != nil {
		return api.WaitSeedResponse{}, fmt.Errorf("manager: sector %s: chain head: %w", id, err)
	}
	maddr := address.NewIDAddress(id.Miner)
	pci, err := s.chain.StateSectorPreCommitInfo(ctx, maddr, id.Number, head.Key())
	if err != nil {
		return api.WaitSeedResponse{}, fmt.Errorf("manager: sector %s: precommit info: %w", id, err)
	}
	if pci == nil {
		// Not on chain yet: wait about one epoch and ask again.
		return wait(1), nil
	}
	pcEpoch := int64(pci.PreCommitEpoch)
	ready := s.policy.SeedReadyAt(pcEpoch)
	if int64(head.Height) < ready {
		return wait(ready - int64(head.Height)), nil
	}
	seedEpoch := s.policy.SeedEpoch(pcEpoch)
	entropy, err := rand.SealEntropyForID(id.Miner)
	if err != nil {
		return api.WaitSeedResponse{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	r, err := s.chain.StateGetRandomnessFromBeacon(ctx, rand.TagInteractiveSealChallengeSeed, types.ChainEpoch(seedEpoch), entropy, head.Key())
	if err != nil {
		return api.WaitSeedResponse{}, fmt.Errorf("manager: sector %s: seed randomness: %w", id, err)
	}
	t, err := s.st.AssignSeed(ctx, sec.ID, sec.WorkerID, store.Ticket{Value: r[:], Epoch: seedEpoch}, s.now())
	if err != nil {
		return api.WaitSeedResponse{}, mapStoreErr(err)
	}
	st, err := storeTicket(t)
	if err != nil {
		return api.WaitSeedResponse{}, err
	}
	return api.WaitSeedResponse{Seed: &api.Seed{Seed: st.Ticket, Epoch: st.Epoch}}, nil
}

// SubmitProof records a sector's proof once and queues it for the tenant's
// ProveCommit batch; see SubmitPreCommit for the result rules.
func (s *Service) SubmitProof(ctx context.Context, id api.SectorID, p api.ProofInfo, reset bool) (api.SubmitResponse, error) {
	sec, err := s.activeSector(ctx, id)
	if err != nil {
		return api.SubmitResponse{}, err
	}
	if len(p.Proof) == 0 {
		return api.SubmitResponse{Result: api.SubmitRejected, Desc: "empty proof"}, nil
	}
	if sec.ProofType.IsNI() {
		if resp, ok, err := s.submitNICommitments(ctx, sec, p.NI); err != nil || !ok {
			return resp, err
		}
	} else if sec.Seed == nil {
		return api.SubmitResponse{Result: api.SubmitRejected, Desc: "no seed assigned: call WaitSeed first"}, nil
	}
	res, err := s.st.SubmitProof(ctx, sec.ID, sec.WorkerID, p.Proof, s.now())
	if err != nil {
		return api.SubmitResponse{}, mapStoreErr(err)
	}
	if res == store.SubmitMismatch {
		return api.SubmitResponse{Result: api.SubmitMismatched, Desc: "differs from the earlier proof"}, nil
	}
	if res == store.SubmitAccepted || reset || sec.ProveCommitBatch == 0 && sec.ProveCommitMsg == "" {
		if err := s.enqueue(ctx, sec, store.BatchProveCommit); err != nil {
			return api.SubmitResponse{}, err
		}
	}
	if res == store.SubmitDuplicate {
		return api.SubmitResponse{Result: api.SubmitDuplicate}, nil
	}
	return api.SubmitResponse{Result: api.SubmitAccepted}, nil
}

// submitNICommitments records an NI-PoRep sector's commitments and ticket,
// which it submits with its proof instead of in a PreCommit (no PreCommit
// batch is queued). ok is false when the submission is refused (resp says
// why).
func (s *Service) submitNICommitments(ctx context.Context, sec store.Sector, ni *api.PreCommitInfo) (api.SubmitResponse, bool, error) {
	if ni == nil {
		return api.SubmitResponse{Result: api.SubmitRejected, Desc: "NI-PoRep sector: the proof must carry its commitments and ticket (ni)"}, false, nil
	}
	commR, err := commp.ParseSealedCID(ni.CommR)
	if err != nil {
		return api.SubmitResponse{Result: api.SubmitRejected, Desc: "comm_r: " + err.Error()}, false, nil
	}
	commD, err := commp.ParsePieceCID(ni.CommD)
	if err != nil {
		return api.SubmitResponse{Result: api.SubmitRejected, Desc: "comm_d: " + err.Error()}, false, nil
	}
	if sec.Ticket == nil {
		return api.SubmitResponse{Result: api.SubmitRejected, Desc: "no ticket assigned: call AssignTicket first"}, false, nil
	}
	res, err := s.st.SubmitPreCommit(ctx, sec.ID, sec.WorkerID, store.PreCommitInfo{
		CommR: commR[:], CommD: commD[:], Ticket: store.Ticket{Value: ni.Ticket.Ticket[:], Epoch: ni.Ticket.Epoch},
	}, s.now())
	if err != nil {
		return api.SubmitResponse{}, false, mapStoreErr(err)
	}
	if res == store.SubmitMismatch {
		return api.SubmitResponse{Result: api.SubmitMismatched, Desc: "NI commitments differ from the earlier submission (comm_r, comm_d or ticket)"}, false, nil
	}
	same, err := s.side.setCommitments(ctx, sec.ID, sec.TenantID, ni.CommC.String(), ni.CommRLast.String())
	if err != nil {
		return api.SubmitResponse{}, false, err
	}
	if !same {
		return api.SubmitResponse{Result: api.SubmitMismatched, Desc: "comm_c or comm_r_last differ from the earlier submission"}, false, nil
	}
	return api.SubmitResponse{}, true, nil
}

// ReportState records a worker state change in the sector's history,
// renews the lease and meters the CPU time the step used. A report equal to
// the last recorded one (a resend after a worker restart) renews the lease
// only. The answer carries an abort order when the sector was aborted.
func (s *Service) ReportState(ctx context.Context, id api.SectorID, r api.StateReport) (api.ReportStateResponse, error) {
	sec, err := s.workerSector(ctx, id)
	if err != nil {
		return api.ReportStateResponse{}, err
	}
	if sec.Phase == store.PhaseAborted {
		return api.ReportStateResponse{AbortReason: nonEmpty(sec.AbortReason, "aborted")}, nil
	}
	hist, err := s.st.SectorHistory(ctx, sec.ID)
	if err != nil {
		return api.ReportStateResponse{}, mapStoreErr(err)
	}
	if n := len(hist); n > 0 {
		last := hist[n-1]
		if last.Prev == r.Prev && last.Next == r.Next && last.Event == r.Event && last.WorkerID == sec.WorkerID {
			return api.ReportStateResponse{}, nil // a resend
		}
	}
	if err := checkReport(sec.State, r); err != nil {
		return api.ReportStateResponse{}, fmt.Errorf("sector %s: %w", sec.ID, err)
	}
	rep := store.StateReport{ID: sec.ID, WorkerID: sec.WorkerID, Prev: r.Prev, Next: r.Next, Event: r.Event}
	if r.Failure != nil {
		rep.Failure = &store.Failure{Level: string(r.Failure.Level), Desc: r.Failure.Desc}
	}
	res, err := s.st.ReportState(ctx, rep, s.now(), s.ttl)
	if err != nil {
		return api.ReportStateResponse{}, mapStoreErr(err)
	}
	// The attempt number is the history position of this report, so a
	// retried stage is billed again while a resent report is not (above).
	attempt := len(hist)
	for stage, cpu := range r.CPUSeconds {
		if cpu < 0 || stage == store.StageAllocated || stage == store.StageFinalized {
			continue
		}
		if _, err := s.st.RecordUsage(ctx, store.UsageReport{Sector: sec.ID, Stage: stage, Attempt: attempt, WorkerID: sec.WorkerID, CPUSeconds: cpu}, s.now()); err != nil {
			s.log.Warn("usage not recorded", "sector", sec.ID, "stage", stage, "err", err)
		}
	}
	if res.Phase == store.PhaseAborted {
		return api.ReportStateResponse{AbortReason: nonEmpty(res.AbortReason, "aborted")}, nil
	}
	return api.ReportStateResponse{}, nil
}

// ReportFinalized marks the sector finalized (its lease ends), records where
// its files are, and opens its delivery record.
func (s *Service) ReportFinalized(ctx context.Context, id api.SectorID, fi api.FinalizedInfo) (struct{}, error) {
	sec, err := s.workerSector(ctx, id)
	if err != nil {
		return struct{}{}, err
	}
	if err := s.side.setFinalized(ctx, sec.ID, sec.TenantID, fi); err != nil {
		return struct{}{}, err
	}
	if err := s.st.FinalizeSector(ctx, sec.ID, sec.WorkerID, s.now()); err != nil {
		return struct{}{}, mapStoreErr(err)
	}
	t, err := s.st.GetTenant(ctx, sec.TenantID)
	if err != nil {
		return struct{}{}, mapStoreErr(err)
	}
	target := t.DeliveryTarget
	if target == "" {
		target = s.delivery.StorePath
	}
	if _, err := s.st.CreateDelivery(ctx, sec.ID, target, s.now()); err != nil {
		return struct{}{}, mapStoreErr(err)
	}
	s.log.Info("sector finalized", "sector", sec.ID, "tenant", sec.TenantID, "worker", sec.WorkerID)
	if t.DeliveryTarget != "" {
		// Architecture 2: the metadata goes to the receiver now, while the
		// worker starts its transfer (the receiver verifies once both are
		// there).
		s.wakeHandoff()
	}
	return struct{}{}, nil
}

// ReportAborted records that the worker gave the sector up. Its number
// stays used. Idempotent.
func (s *Service) ReportAborted(ctx context.Context, id api.SectorID, reason string) (struct{}, error) {
	sec, err := s.workerSector(ctx, id)
	if err != nil {
		return struct{}{}, err
	}
	if err := s.st.AbortSector(ctx, sec.ID, nonEmpty(reason, "aborted by worker"), s.now()); err != nil {
		return struct{}{}, mapStoreErr(err)
	}
	s.log.Info("sector aborted by worker", "sector", sec.ID, "worker", sec.WorkerID, "reason", reason)
	return struct{}{}, nil
}

// WorkerPing records a worker's heartbeat and hands it the operator's
// pending pause/resume orders (each delivered once).
func (s *Service) WorkerPing(ctx context.Context, p api.WorkerPing) (api.WorkerPingResponse, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return api.WorkerPingResponse{}, err
	}
	name := nonEmpty(p.Worker, c.subject)
	if name != c.subject {
		return api.WorkerPingResponse{}, fmt.Errorf("%w: token is for worker %q, not %q", ErrPermission, c.subject, name)
	}
	now := s.now()
	info := api.WorkerInfo{Name: name, Version: p.Version, AdminURL: p.AdminURL, LastSeen: now, Threads: p.Threads}
	s.cmdMu.Lock()
	var resp api.WorkerPingResponse
	if tc := s.commands[name]; tc != nil {
		resp.Pause, resp.Resume = tc.pause, tc.resume
		delete(s.commands, name)
	}
	s.cmdMu.Unlock()
	if err := s.side.putWorker(ctx, info, now); err != nil {
		return api.WorkerPingResponse{}, err
	}
	return resp, nil
}

// DeliveryTarget tells the worker where a finalized sector goes: the
// tenant's receiver (architecture 2) or the provider's store (1).
func (s *Service) DeliveryTarget(ctx context.Context, id api.SectorID) (api.DeliveryTarget, error) {
	sec, err := s.workerSector(ctx, id)
	if err != nil {
		return api.DeliveryTarget{}, err
	}
	t, err := s.st.GetTenant(ctx, sec.TenantID)
	if err != nil {
		return api.DeliveryTarget{}, mapStoreErr(err)
	}
	if t.DeliveryTarget != "" {
		s.prepareHandoff(ctx, sec, t)
		return api.DeliveryTarget{Architecture: api.ArchSPProves, ReceiverURL: t.DeliveryTarget, BandwidthLimit: s.delivery.BandwidthLimit}, nil
	}
	if s.delivery.StorePath == "" {
		return api.DeliveryTarget{}, fmt.Errorf("%w: tenant %s has no delivery target and the manager no store_path", ErrNotFound, t.ID)
	}
	return api.DeliveryTarget{Architecture: api.ArchProviderProves, StorePath: s.delivery.StorePath, BandwidthLimit: s.delivery.BandwidthLimit}, nil
}

// deliveryOrder is the forward path of a delivery; a report may skip steps
// (a fast transfer reports accepted directly) and is walked through them.
var deliveryOrder = []store.DeliveryState{store.DeliveryPending, store.DeliveryTransferring, store.DeliveryVerifying}

// ReportDelivery records a delivery step. The worker may drop its copy only
// once the answer says MayCleanUp (the sector was accepted).
//
// For an Architecture-2 tenant the receiver, not the worker, has the last
// word: a final report (accepted or rejected) is checked against the
// receiver's state, which is what gets recorded and answered — accepted
// only when the receiver accepted, rejected with the receiver's reason,
// otherwise the receiver's progress (the worker then polls again). When
// the receiver cannot be reached an "accepted" claim is not recorded; a
// "rejected" one is (it lets nothing be deleted).
func (s *Service) ReportDelivery(ctx context.Context, id api.SectorID, r api.DeliveryReport) (api.DeliveryReportResponse, error) {
	sec, err := s.workerSector(ctx, id)
	if err != nil {
		return api.DeliveryReportResponse{}, err
	}
	to := store.DeliveryState(r.State)
	switch to {
	case store.DeliveryPending, store.DeliveryTransferring, store.DeliveryVerifying, store.DeliveryAccepted, store.DeliveryRejected:
	default:
		return api.DeliveryReportResponse{}, fmt.Errorf("%w: delivery state %q", ErrInvalid, r.State)
	}
	now := s.now()
	d, err := s.st.GetDelivery(ctx, sec.ID)
	if errors.Is(err, store.ErrNotFound) {
		d, err = s.st.CreateDelivery(ctx, sec.ID, "", now)
	}
	if err != nil {
		return api.DeliveryReportResponse{}, mapStoreErr(err)
	}
	if d.State == store.DeliveryAccepted {
		return api.DeliveryReportResponse{State: api.DeliveryAccepted, MayCleanUp: true, Desc: nonEmpty(d.Reason, "already accepted")}, nil
	}
	desc := r.Desc
	if to == store.DeliveryAccepted || to == store.DeliveryRejected {
		t, err := s.st.GetTenant(ctx, sec.TenantID)
		if err != nil {
			return api.DeliveryReportResponse{}, mapStoreErr(err)
		}
		if t.DeliveryTarget != "" {
			rs, verr := s.receiverVerdict(ctx, t, sec.ID)
			switch {
			case verr != nil && to == store.DeliveryAccepted:
				s.log.Warn("delivery not confirmed", "sector", sec.ID, "err", verr)
				return api.DeliveryReportResponse{State: api.DeliveryState(d.State), Desc: "not confirmed by the receiver yet: " + verr.Error()}, nil
			case verr != nil:
				// A rejection the receiver cannot be asked about is
				// recorded as reported.
			case rs.State == api.DeliveryAccepted:
				to, desc = store.DeliveryAccepted, "accepted by receiver"
			case rs.State == api.DeliveryRejected:
				to, desc = store.DeliveryRejected, receiverReason(rs)
			default:
				// Still in progress at the receiver: record its progress,
				// not the worker's claim.
				if d, err = s.applyReceiverState(ctx, d, rs); err != nil {
					return api.DeliveryReportResponse{}, err
				}
				return api.DeliveryReportResponse{State: api.DeliveryState(d.State), Desc: "receiver: " + nonEmpty(string(rs.State), "no record")}, nil
			}
		}
	}
	if d.State != to {
		if d, err = s.walkDelivery(ctx, d, to, desc); err != nil {
			return api.DeliveryReportResponse{}, err
		}
	}
	return api.DeliveryReportResponse{State: api.DeliveryState(d.State), MayCleanUp: d.State == store.DeliveryAccepted, Desc: d.Reason}, nil
}

func indexOf(xs []store.DeliveryState, x store.DeliveryState) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func contains[T comparable](xs []T, x T) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkReport validates a state report against the worker state machine's
// names and the stored state. Prev and Next must be state names. Prev
// normally equals the stored state; reports are best effort, so after a
// lost report Prev may be ahead of it (the worker's machine is the
// authority going forward), but a Prev behind the stored state is a stale
// or replayed report and is refused. Paused and Aborted can be entered
// from, and left to, any state.
func checkReport(stored string, r api.StateReport) error {
	prev, err := sectorfsm.ParseState(r.Prev)
	if err != nil {
		return fmt.Errorf("%w: prev: %v", ErrInvalid, err)
	}
	if _, err := sectorfsm.ParseState(r.Next); err != nil {
		return fmt.Errorf("%w: next: %v", ErrInvalid, err)
	}
	if r.Failure != nil {
		switch r.Failure.Level {
		case api.FailureTemporary, api.FailureAbort, api.FailurePermanent:
		default:
			return fmt.Errorf("%w: failure level %q", ErrInvalid, r.Failure.Level)
		}
	}
	cur, err := sectorfsm.ParseState(stored)
	if stored == "" || err != nil {
		return nil // nothing reported yet (or a name from an older version)
	}
	special := func(s sectorfsm.State) bool { return s == sectorfsm.StatePaused || s == sectorfsm.StateAborted }
	if prev < cur && !special(prev) && !special(cur) {
		return fmt.Errorf("%w: report from %s, but the sector is already in %s", ErrConflict, prev, cur)
	}
	return nil
}
