package commit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/sealant/sealant/store"
)

// This file is where sectors enter batches: adopt applies the Membership
// rule to every active sector, and regroup turns the groups a plan split
// off into closed batches of their own. Both go through join.

// adopt puts every active sector that Membership places into its tenant's
// open batch of that kind.
func (p *Pipeline) adopt(ctx context.Context, t store.Tenant) error {
	secs, err := p.st.ListSectors(ctx, store.SectorFilter{TenantID: t.ID, Phase: store.PhaseActive, Limit: 1 << 30})
	if err != nil {
		return fmt.Errorf("commit: list sectors: %w", err)
	}
	now := p.cfg.Now()
	landed := map[int64]bool{}
	fill := map[int64]int{} // members of the open batches this pass added to
	for _, s := range secs {
		p.mu.Lock()
		wait, paused := p.retryAt[s.ID]
		if paused && !now.Before(wait) {
			delete(p.retryAt, s.ID)
			paused = false
		}
		ext := p.external[s.ID]
		p.mu.Unlock()
		m := MemberFacts{NI: s.ProofType.IsNI(), Submitted: len(s.CommR) > 0, HasProof: s.HasProof,
			InPreCommit: s.PreCommitBatch != 0, InProveCommit: s.ProveCommitBatch != 0, Paused: paused, External: ext}
		if m.HasProof && !m.InProveCommit && m.InPreCommit && !m.NI {
			ok, seen := landed[s.PreCommitBatch]
			if !seen {
				b, err := p.st.GetBatch(ctx, s.PreCommitBatch)
				if err != nil {
					return fmt.Errorf("commit: sector %s pre-commit batch: %w", s.ID, err)
				}
				ok = b.State == store.BatchLanded
				landed[s.PreCommitBatch] = ok
			}
			m.PreCommitLanded = ok
		}
		kind, ok := Membership(m)
		if !ok {
			continue
		}
		if err := p.join(ctx, t, s.ID, kind, fill); err != nil {
			return err
		}
	}
	return nil
}

// join puts a sector into its tenant's open batch of kind (idempotent) and
// closes the batch the moment it is full, so the next sector opens a new
// one instead of overfilling it (per-sector ProveCommit must stay one
// sector per message). fill counts the members of batches joined in this
// pass.
func (p *Pipeline) join(ctx context.Context, t store.Tenant, id store.SectorID, kind store.BatchKind, fill map[int64]int) error {
	now := p.cfg.Now()
	bid, err := p.st.AddToBatch(ctx, id, kind, now)
	if err != nil {
		return fmt.Errorf("commit: sector %s into %s batch: %w", id, kind, err)
	}
	if n, ok := fill[bid]; ok {
		fill[bid] = n + 1
	} else {
		b, err := p.st.GetBatch(ctx, bid)
		if err != nil {
			return fmt.Errorf("commit: sector %s into %s batch: %w", id, kind, err)
		}
		fill[bid] = len(b.Sectors)
	}
	if fill[bid] >= PolicyFor(t, kind).Size {
		if err := p.st.CloseBatch(ctx, bid, now); err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("commit: close full batch %d: %w", bid, err)
		}
	}
	return nil
}

// regroup makes each group a closed batch of its own. A group must not
// share a batch with anything else (a suspect sector must be alone), so
// the tenant's open batch, if any, is closed first; it is then sent by
// its own rules on this or the next tick.
func (p *Pipeline) regroup(ctx context.Context, kind store.BatchKind, tenant string, groups [][]store.SectorID) error {
	now := p.cfg.Now()
	for _, g := range groups {
		if len(g) == 0 {
			continue
		}
		open, err := p.st.ListBatches(ctx, store.BatchFilter{TenantID: tenant, Kind: kind, States: []store.BatchState{store.BatchOpen}})
		if err != nil {
			return fmt.Errorf("commit: regroup: %w", err)
		}
		for _, o := range open {
			if err := p.st.CloseBatch(ctx, o.ID, now); err != nil {
				return fmt.Errorf("commit: regroup: close batch %d: %w", o.ID, err)
			}
		}
		var bid int64
		for _, id := range g {
			if bid, err = p.st.AddToBatch(ctx, id, kind, now); err != nil {
				return fmt.Errorf("commit: regroup sector %s: %w", id, err)
			}
		}
		if err := p.st.CloseBatch(ctx, bid, now); err != nil {
			return fmt.Errorf("commit: regroup: close batch %d: %w", bid, err)
		}
		p.log.Info("commit: sectors regrouped", "tenant", tenant, "kind", kind, "batch", bid, "sectors", g)
	}
	return nil
}

// failSectors gives sectors up for good: the store aborts them with the
// reason, which the worker sees (PermFailed / ShouldAbort) and which the
// sector's record keeps.
func (p *Pipeline) failSectors(ctx context.Context, fail map[store.SectorID]string, log *slog.Logger) error {
	ids := make([]store.SectorID, 0, len(fail))
	for id := range fail {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b store.SectorID) int {
		return cmp.Or(cmp.Compare(a.Miner, b.Miner), cmp.Compare(a.Number, b.Number))
	})
	for _, id := range ids {
		if err := p.st.AbortSector(ctx, id, fail[id], p.cfg.Now()); err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("commit: fail sector %s: %w", id, err)
		}
		log.Warn("commit: sector failed", "sector", id, "reason", fail[id])
	}
	return nil
}
