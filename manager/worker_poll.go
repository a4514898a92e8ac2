package manager

import (
	"context"
	"fmt"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/store"
)

// PollPreCommitState reports the PreCommit's progress from the store's
// batch and message records (which the pipeline keeps current). Its reads
// may be a little old (ttlCache.getRevalidating): a poll is asked again,
// and the calls that act on its answer check the sector in their own
// transaction.
func (s *Service) PollPreCommitState(ctx context.Context, id api.SectorID) (api.PollResponse, error) {
	sec, err := s.loadWorkerSector(ctx, id, readRevalidating)
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
	sec, err := s.loadWorkerSector(ctx, id, readRevalidating)
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
		last := sec.LastPreCommitBatch
		if kind == store.BatchProveCommit {
			last = sec.LastProveCommitBatch
		}
		if last != 0 {
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
		// A sector with commitments but neither batch nor message: the
		// submission's own transaction queues it, and the pipeline's sweep
		// (the one place that decides batch membership after that) picks up
		// any left outside a batch, e.g. one a released batch freed. The
		// poll stays a read; it only wakes the pipeline. sec may come from
		// the poll cache and the pipeline may have batched it since: look
		// again on a fresh read.
		fresh, err := s.rereadSector(ctx, sec.ID)
		if err != nil {
			return api.PollResponse{}, err
		}
		if fresh.Phase != sec.Phase || batchOf(fresh, kind) != 0 {
			return s.pollBatch(ctx, fresh, kind, batchOf(fresh, kind), msgOf(fresh, kind))
		}
		if s.pipeline != nil {
			s.pipeline.Wake(sec.TenantID, kind)
		}
		return api.PollResponse{State: api.OnChainPending, Desc: "waiting for the pipeline to batch it"}, nil
	}
	b, err := s.batches.getRevalidating(ctx, batchID, func(ctx context.Context) (store.BatchHead, error) { return s.st.GetBatchHead(ctx, batchID) })
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
		// The store detaches a failed batch's sectors as it marks it
		// failed, so a sector still in it comes from the cache, read
		// before; the fresh read gets the pipeline's answer (waiting to be
		// re-batched), not a failure that would make the worker resubmit.
		fresh, err := s.rereadSector(ctx, sec.ID)
		if err != nil {
			return api.PollResponse{}, err
		}
		if fb := batchOf(fresh, kind); fb != batchID || fresh.Phase != sec.Phase {
			return s.pollBatch(ctx, fresh, kind, fb, msgOf(fresh, kind))
		}
		resp.State, resp.Desc = api.OnChainFailed, "batch failed"
	default:
		resp.State = api.OnChainUnknown
	}
	return resp, nil
}

// rereadSector reads a sector that a poll found in the cache from the
// store, and drops the cached copy, which may be older.
func (s *Service) rereadSector(ctx context.Context, id store.SectorID) (store.Sector, error) {
	sec, err := s.st.GetSector(ctx, id)
	if err != nil {
		return store.Sector{}, mapStoreErr(err)
	}
	s.sectors.forget(id)
	return sec, nil
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
