package commit

import (
	"context"
	"fmt"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

// The precheck behind ActPrecheck and ActCulprits: what the store holds
// about a batch's members, what the chain says about them, and the verdict
// of the pure checks (core.go); and the sender a tenant's messages use.

// loadSectors reads what the store holds about a batch's members.
func (p *Pipeline) loadSectors(ctx context.Context, ids []store.SectorID, kind store.BatchKind) ([]sectorData, error) {
	out := make([]sectorData, 0, len(ids))
	for _, id := range ids {
		s, err := p.st.GetSector(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("commit: sector %s: %w", id, err)
		}
		pieces, err := p.st.Pieces(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("commit: sector %s pieces: %w", id, err)
		}
		d := sectorData{Sector: s, Pieces: pieces}
		if kind == store.BatchProveCommit && s.HasProof {
			if d.Proof, err = p.st.Proof(ctx, id); err != nil {
				return nil, fmt.Errorf("commit: sector %s proof: %w", id, err)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// facts reads the chain's view of each sector for the precheck.
func (p *Pipeline) facts(ctx context.Context, kind store.BatchKind, ds []sectorData, head *lotus.TipSet) ([]SectorFacts, error) {
	out := make([]SectorFacts, len(ds))
	tsk := head.Key()
	for i, d := range ds {
		s := d.Sector
		f := SectorFacts{ID: s.ID, Active: s.Phase == store.PhaseActive, CommR: d.commR(), HasProof: s.HasProof, NI: s.ProofType.IsNI()}
		if s.Ticket != nil {
			f.HasTicket, f.TicketEpoch = true, types.ChainEpoch(s.Ticket.Epoch)
		}
		out[i] = f
		if !f.Active {
			continue
		}
		maddr := address.NewIDAddress(s.ID.Miner)
		pc, err := p.chain.StateSectorPreCommitInfo(ctx, maddr, s.ID.Number, tsk)
		if err != nil {
			return nil, fmt.Errorf("commit: sector %s pre-commit info: %w", s.ID, err)
		}
		if pc != nil {
			// A pre-commit implies the number is allocated.
			out[i].Allocated = true
			out[i].PreCommit = &OnChainPreCommit{SealedCID: pc.Info.SealedCID, Epoch: pc.PreCommitEpoch, Deposit: pc.PreCommitDeposit,
				Expiration: pc.Info.Expiration}
			continue
		}
		if kind == store.BatchPreCommit || f.NI {
			alloc, err := p.chain.StateMinerSectorAllocated(ctx, maddr, s.ID.Number, tsk)
			if err != nil {
				return nil, fmt.Errorf("commit: sector %s allocated: %w", s.ID, err)
			}
			out[i].Allocated = alloc
			if !alloc {
				continue
			}
		}
		si, err := p.chain.StateSectorGetInfo(ctx, maddr, s.ID.Number, tsk)
		if err != nil {
			return nil, fmt.Errorf("commit: sector %s info: %w", s.ID, err)
		}
		out[i].Proven = si != nil
	}
	return out, nil
}

// precheck judges every member; it returns the checks by sector.
func (p *Pipeline) precheck(ctx context.Context, kind store.BatchKind, ds []sectorData, head *lotus.TipSet) ([]SectorFacts, map[store.SectorID]Check, error) {
	fs, err := p.facts(ctx, kind, ds, head)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[store.SectorID]Check, len(fs))
	for _, f := range fs {
		switch {
		case kind == store.BatchPreCommit:
			out[f.ID] = CheckPreCommit(p.cfg.Params, head.Height, f)
		case f.NI:
			out[f.ID] = CheckNICommit(p.cfg.Params, head.Height, f)
		default:
			out[f.ID] = CheckProveCommit(p.cfg.Params, head.Height, f)
		}
	}
	return fs, out, nil
}

// sender resolves the key address that sends a tenant's messages: the
// first of its Senders, or else the miner's worker key.
func (p *Pipeline) sender(ctx context.Context, t store.Tenant, head *lotus.TipSet) (address.Address, error) {
	var a address.Address
	if len(t.Senders) > 0 {
		var err error
		if a, err = address.Parse(t.Senders[0]); err != nil {
			return address.Undef, fmt.Errorf("commit: tenant sender %q: %w: %w", t.Senders[0], ErrPolicy, err)
		}
	} else {
		mi, err := p.chain.StateMinerInfo(ctx, address.NewIDAddress(t.Miner), head.Key())
		if err != nil {
			return address.Undef, fmt.Errorf("commit: miner info: %w", err)
		}
		a = mi.Worker
	}
	if a.Protocol() == address.ID {
		k, err := p.chain.StateAccountKey(ctx, a, head.Key())
		if err != nil {
			return address.Undef, fmt.Errorf("commit: account key of %s: %w", a, err)
		}
		a = k
	}
	return a, nil
}

// senderKey is the store's key for a sender: the mainnet string form, so
// the nonce ledger does not depend on the process's network prefix.
func senderKey(a address.Address) string { return address.Format(a, address.Mainnet) }
