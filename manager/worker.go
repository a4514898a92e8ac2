package manager

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/store"
)

// maxNumberRetries bounds how many freshly allocated numbers AllocateSector
// gives up (because the chain already has them) before it reports an error.
const maxNumberRetries = 8

// ticketDrawTimeout bounds the ticket draw AcquirePieces makes for a CC
// sector (on failure AssignTicket draws it).
const ticketDrawTimeout = 5 * time.Second

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
	return s.loadWorkerSector(ctx, id, readStore)
}

// pollSector is workerSector for answers that may come from the poll
// cache (see Options.PollCacheTTL).
func (s *Service) pollSector(ctx context.Context, id api.SectorID) (store.Sector, error) {
	return s.loadWorkerSector(ctx, id, readCache)
}

// sectorRead says where loadWorkerSector reads a sector.
type sectorRead int

const (
	readStore        sectorRead = iota // the store, now
	readCache                          // the poll cache's get
	readRevalidating                   // the poll cache's getRevalidating: on-chain polls only
)

func (s *Service) loadWorkerSector(ctx context.Context, id api.SectorID, from sectorRead) (store.Sector, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return store.Sector{}, err
	}
	sid := toStoreID(id)
	read := func(ctx context.Context) (store.Sector, error) { return s.st.GetSector(ctx, sid) }
	var sec store.Sector
	switch from {
	case readCache:
		sec, err = s.sectors.get(ctx, sid, read)
	case readRevalidating:
		sec, err = s.sectors.getRevalidating(ctx, sid, read)
	default:
		sec, err = read(ctx)
		if err == nil {
			s.sectors.forget(sid)
		}
	}
	if err != nil {
		return store.Sector{}, mapStoreErr(err)
	}
	if err := c.mayWork(sec); err != nil {
		return store.Sector{}, err
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

// holder is the calling worker's claim on a sector for a store worker
// call (one transaction that checks it, renews the lease when it runs
// low, and does the call's work).
func (s *Service) holder(ctx context.Context) (store.Holder, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return store.Holder{}, err
	}
	return store.Holder{Check: c.mayWork, Now: s.now(), TTL: s.ttl}, nil
}

// holderFor is holder for a call on sector id that writes anyway: the
// sector's queued state reports (reportQueue) go into the call's
// transaction, written before the call's own changes. settle must follow
// the store call.
func (s *Service) holderFor(ctx context.Context, id store.SectorID) (store.Holder, error) {
	h, err := s.holder(ctx)
	if err != nil {
		return h, err
	}
	if h.Reports, err = s.reports.take(ctx, id); err != nil {
		return h, fmt.Errorf("manager: sector %s: waiting for its state reports to be written: %w", id, err)
	}
	return h, nil
}

// settle queues again the reports a failed call took (they are written
// later unless the call's group kept them).
func (s *Service) settle(id store.SectorID, h store.Holder, err error) {
	if err != nil {
		s.reports.putBack(id, h.Reports)
	}
}

// mayWork checks that the caller may act on a sector for a worker: see its
// tenant and hold its lease (any thread of the same worker).
func (c caller) mayWork(sec store.Sector) error {
	if !c.canSeeTenant(sec.TenantID) {
		return fmt.Errorf("%w: sector %s", ErrPermission, sec.ID)
	}
	if w, _ := workerOf(sec.WorkerID); w != c.subject {
		return fmt.Errorf("%w: sector %s is leased by %s", ErrNotLeaseHolder, sec.ID, w)
	}
	return nil
}

// AcquirePieces returns a sector's pieces, deciding them on the first call
// from the tenant's piece queue (empty: a CC sector; NI-PoRep sectors are
// always CC, as ProveCommitSectorsNI activates no data). Repeats return the
// same pieces. One transaction, which for a CC sector also stores the
// ticket drawn before it (see store.WorkerAcquirePieces), so that
// AssignTicket then only reads.
func (s *Service) AcquirePieces(ctx context.Context, id api.SectorID) ([]api.Piece, error) {
	sid := toStoreID(id)
	var ticket *store.Ticket
	// A repeat (pieces decided, or a ticket stored) needs no draw; the
	// cache tells without a read when it holds the sector.
	known, ok := s.sectors.peek(sid)
	if s.chain != nil && !(ok && (known.PiecesSet || known.Ticket != nil)) {
		// A draw that fails is not this call's error: AssignTicket draws.
		// Bounded, so that a slow chain does not hold the call.
		dctx, cancel := context.WithTimeout(ctx, ticketDrawTimeout)
		t, err := s.drawTicket(dctx, id)
		cancel()
		if err != nil {
			s.log.Debug("ticket not drawn with the pieces; AssignTicket will", "sector", sid, "err", err)
		}
		ticket = t
	}
	h, err := s.holderFor(ctx, sid)
	if err != nil {
		return nil, err
	}
	ps, err := s.st.WorkerAcquirePieces(ctx, sid, h, ticket)
	s.settle(sid, h, err)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	s.sectors.forget(sid)
	return apiPieces(ps), nil
}

// apiPieces converts stored pieces (none: an empty list).
func apiPieces(ps []store.Piece) []api.Piece {
	out := make([]api.Piece, len(ps))
	for i, p := range ps {
		out[i] = api.Piece{PieceCID: p.CID, Size: p.Size, PayloadSize: p.PayloadSize, SourceURL: p.SourceURL}
	}
	return out
}

// SubmitPreCommit records a sector's PC2 result once and queues it for the
// tenant's PreCommit batch, in one transaction. A repeat with the same
// values is Duplicate (and re-queues it if its last batch failed and reset
// is set); different values are Mismatched, permanently.
func (s *Service) SubmitPreCommit(ctx context.Context, id api.SectorID, pc api.PreCommitInfo, reset bool) (api.SubmitResponse, error) {
	sid := toStoreID(id)
	h, err := s.holderFor(ctx, sid)
	if err != nil {
		return api.SubmitResponse{}, err
	}
	c, refused := commitments(pc)
	if refused != "" {
		// Still through the store: a finished sector answers ErrSectorDone
		// before its payload is judged.
		c.Invalid = refused
	}
	if s.chain != nil && refused == "" {
		// A ticket too old for the actor would make the whole batch fail;
		// a first submission with one is refused here, before it can
		// poison a batch.
		if head, err := s.chain.ChainHead(ctx); err == nil {
			if err := s.policy.CheckTicket(pc.Ticket.Epoch, int64(head.Height)+1); err != nil {
				c.Refusal = "ticket expired: " + err.Error()
			}
		}
	}
	out, err := s.st.WorkerSubmitPreCommit(ctx, sid, h, c, reset)
	s.settle(sid, h, err)
	if err != nil {
		return api.SubmitResponse{}, mapStoreErr(err)
	}
	s.sectors.forget(sid)
	return s.submitted(out, store.BatchPreCommit), nil
}

// commitments parses a worker's PC2 result; refused says what is wrong
// with it.
func commitments(pc api.PreCommitInfo) (c store.Commitments, refused string) {
	commR, err := commp.ParseSealedCID(pc.CommR)
	if err != nil {
		return c, "comm_r: " + err.Error()
	}
	commD, err := commp.ParsePieceCID(pc.CommD)
	if err != nil {
		return c, "comm_d: " + err.Error()
	}
	return store.Commitments{
		PreCommitInfo: store.PreCommitInfo{CommR: commR[:], CommD: commD[:], Ticket: store.Ticket{Value: pc.Ticket.Ticket[:], Epoch: pc.Ticket.Epoch}},
		CommC:         pc.CommC.String(), CommRLast: pc.CommRLast.String(),
	}, ""
}

// submitted answers a submission and wakes the pipeline for a sector the
// call queued.
func (s *Service) submitted(out store.Outcome, kind store.BatchKind) api.SubmitResponse {
	if out.Batch != 0 && s.pipeline != nil {
		s.pipeline.Wake(out.Tenant, kind)
	}
	switch out.Result {
	case store.SubmitAccepted:
		return api.SubmitResponse{Result: api.SubmitAccepted}
	case store.SubmitDuplicate:
		return api.SubmitResponse{Result: api.SubmitDuplicate}
	case store.SubmitMismatch:
		return api.SubmitResponse{Result: api.SubmitMismatched, Desc: out.Reason}
	default:
		return api.SubmitResponse{Result: api.SubmitRejected, Desc: out.Reason}
	}
}

// SubmitProof records a sector's proof once (an NI-PoRep sector's
// commitments and ticket with it, as it has no PreCommit) and queues it
// for the tenant's ProveCommit batch, in one transaction; see
// SubmitPreCommit for the result rules.
func (s *Service) SubmitProof(ctx context.Context, id api.SectorID, p api.ProofInfo, reset bool) (api.SubmitResponse, error) {
	if _, err := callerFrom(ctx); err != nil {
		return api.SubmitResponse{}, err
	}
	if len(p.Proof) == 0 {
		return api.SubmitResponse{Result: api.SubmitRejected, Desc: "empty proof"}, nil
	}
	sub := store.ProofSubmission{Proof: p.Proof}
	if p.NI != nil {
		c, refused := commitments(*p.NI)
		sub.NI, sub.NIRefusal = &c, refused
	} else if s.needsSeed(ctx, id) {
		// The seed the worker proved with is stored with its proof (see
		// WaitSeed). When this manager cannot draw it now (its chain
		// failed, or lags the one that answered WaitSeed), the call is to
		// be retried, not refused: a refusal would pause the sector.
		wait, seed, err := s.drawSeed(ctx, id)
		switch {
		case seed != nil:
			sub.Seed = seed
		case err != nil:
			return api.SubmitResponse{}, fmt.Errorf("%w: sector %s: drawing the seed to store with the proof: %v", ErrNoChain, id, err)
		default:
			return api.SubmitResponse{}, fmt.Errorf("%w: sector %s: the chain this manager reads has not settled the seed yet; retry in %d s", ErrNoChain, id, wait.DelaySeconds)
		}
	}
	sid := toStoreID(id)
	h, err := s.holderFor(ctx, sid)
	if err != nil {
		return api.SubmitResponse{}, err
	}
	out, err := s.st.WorkerSubmitProof(ctx, sid, h, sub, reset)
	s.settle(sid, h, err)
	if err != nil {
		return api.SubmitResponse{}, mapStoreErr(err)
	}
	s.sectors.forget(sid)
	return s.submitted(out, store.BatchProveCommit), nil
}

// needsSeed tells whether a proof for the sector must bring its seed: an
// interactive sector, active, without a stored seed, on a manager with a
// chain. A sector it cannot read is left to the store call to answer.
func (s *Service) needsSeed(ctx context.Context, id api.SectorID) bool {
	if s.chain == nil {
		return false
	}
	sec, err := s.pollSector(ctx, id)
	return err == nil && sec.Seed == nil && sec.Phase == store.PhaseActive && !sec.ProofType.IsNI()
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
