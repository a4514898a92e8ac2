package commit

import (
	"context"
	"fmt"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/c2"
	"github.com/sealant/sealant/store"
)

// Building a batch's message for ActBuild: params, collateral and the
// tenant's fee cap (the pure parts are in build.go and fees.go).

// build assembles the unsigned message (no nonce, no gas) and the tenant's
// fee cap for it.
func (p *Pipeline) build(ctx context.Context, t store.Tenant, kind store.BatchKind, from address.Address, ds []sectorData, fs []SectorFacts, head *lotus.TipSet) (*types.Message, types.TokenAmount, error) {
	maddr := address.NewIDAddress(t.Miner)
	tsk := head.Key()
	var (
		method types.MethodNum
		params miner.Params
		need   = types.Zero()
		capStr string
	)
	switch kind {
	case store.BatchPreCommit:
		method, capStr = miner.MethodPreCommitSectorBatch2, t.Fees.MaxPreCommitFee
		pp := &miner.PreCommitSectorBatchParams2{}
		deposit := map[int64]types.TokenAmount{} // by seal proof: since nv17 the deposit depends on it only
		for _, d := range ds {
			exp, err := Expiration(p.cfg.Params, head.Height, types.ChainEpoch(d.Sector.Ticket.Epoch), t.ExpirationDays)
			if err != nil {
				return nil, types.Zero(), fmt.Errorf("commit: sector %s: %w", d.Sector.ID, err)
			}
			info, err := preCommitInfo(d, exp)
			if err != nil {
				return nil, types.Zero(), err
			}
			pp.Sectors = append(pp.Sectors, info)
			dep, ok := deposit[int64(info.SealProof)]
			if !ok {
				dep, err = p.chain.StateMinerPreCommitDepositForPower(ctx, maddr, info, tsk)
				if err != nil {
					return nil, types.Zero(), fmt.Errorf("commit: pre-commit deposit: %w", err)
				}
				deposit[int64(info.SealProof)] = dep
			}
			need = need.Add(dep)
		}
		params = pp
	case store.BatchProveCommit:
		if len(ds) > 0 && ds[0].Sector.ProofType.IsNI() {
			method, capStr = miner.MethodProveCommitSectorsNI, t.Fees.MaxProveCommitFee
			pp, pledge, err := p.niParams(ctx, t, ds, head)
			if err != nil {
				return nil, types.Zero(), err
			}
			params, need = pp, pledge
			break
		}
		method, capStr = miner.MethodProveCommitSectors3, t.Fees.MaxProveCommitFee
		pp, err := proveParams(ds)
		if err != nil {
			return nil, types.Zero(), err
		}
		params = pp
		pledges := make([]types.TokenAmount, len(ds))
		deposits := make([]types.TokenAmount, len(ds))
		for i, d := range ds {
			pc := fs[i].PreCommit
			if pc == nil {
				return nil, types.Zero(), fmt.Errorf("commit: sector %s: no pre-commit on chain", d.Sector.ID)
			}
			pl, err := p.chain.StateMinerInitialPledgeForSector(ctx, pc.Expiration-head.Height, d.Sector.SectorSize, verifiedSize(d), tsk)
			if err != nil {
				return nil, types.Zero(), fmt.Errorf("commit: initial pledge: %w", err)
			}
			pledges[i], deposits[i] = pl, pc.Deposit
		}
		need = ProveCollateral(pledges, deposits)
	default:
		return nil, types.Zero(), fmt.Errorf("commit: batch kind %q: %w", kind, ErrPolicy)
	}
	raw, err := miner.EncodeParams(params)
	if err != nil {
		return nil, types.Zero(), fmt.Errorf("commit: encode params: %w", err)
	}
	avail := types.Zero()
	if p.cfg.UseAvailableBalance {
		if avail, err = p.chain.StateMinerAvailableBalance(ctx, maddr, tsk); err != nil {
			return nil, types.Zero(), fmt.Errorf("commit: available balance: %w", err)
		}
	}
	maxFee, err := MaxFee(capStr, len(ds))
	if err != nil {
		return nil, types.Zero(), err
	}
	return newMessage(from, t.Miner, method, raw, Collateral(need, avail, p.cfg.UseAvailableBalance)), maxFee, nil
}

// DeadlineReader is the optional chain capability NI batches need: the
// miner's current proving deadline, to pick ProvingDeadline
// (*lotus.Client and the devnet have it).
type DeadlineReader interface {
	StateMinerProvingDeadline(ctx context.Context, maddr address.Address, tsk types.TipSetKey) (*lotus.DeadlineInfo, error)
}

// niParams builds ProveCommitSectorsNI params for NI sectors of one proof
// type and the pledge they need (no deposit was paid). The sectors go to
// NIProvingDeadline; each expires at NIExpiration. RequireActivationSuccess
// is false, as for ProveCommitSectors3, so that a sector the actor refuses
// (a ticket that aged out, say) is reported in the BatchReturn while the
// others activate.
func (p *Pipeline) niParams(ctx context.Context, t store.Tenant, ds []sectorData, head *lotus.TipSet) (*miner.ProveCommitSectorsNIParams, types.TokenAmount, error) {
	maddr := address.NewIDAddress(t.Miner)
	dr, ok := p.chain.(DeadlineReader)
	if !ok {
		return nil, types.Zero(), fmt.Errorf("commit: NI-PoRep needs StateMinerProvingDeadline, which the chain client lacks: %w", ErrPolicy)
	}
	dl, err := dr.StateMinerProvingDeadline(ctx, maddr, head.Key())
	if err != nil {
		return nil, types.Zero(), fmt.Errorf("commit: proving deadline: %w", err)
	}
	deadlines := dl.WPoStPeriodDeadlines
	if deadlines == 0 {
		deadlines = rand.WPoStPeriodDeadlines
	}
	proofs := make([][]byte, len(ds))
	pp := &miner.ProveCommitSectorsNIParams{
		SealProofType:      miner.RegisteredSealProof(ds[0].Sector.ProofType),
		AggregateProofType: miner.RegisteredAggregationProofSnarkPackV2,
		ProvingDeadline:    NIProvingDeadline(dl.Index, deadlines),
	}
	pledge := types.Zero()
	for i, d := range ds {
		s := d.Sector
		sealed := d.commR()
		if !sealed.Defined() || s.Ticket == nil {
			return nil, types.Zero(), fmt.Errorf("commit: NI sector %s: no commitments or ticket", s.ID)
		}
		if len(d.Proof) == 0 {
			return nil, types.Zero(), fmt.Errorf("commit: sector %s: no proof", s.ID)
		}
		if !c2.IsDevnetProof(d.Proof) {
			// Method 36 takes one SnarkPackV2 aggregate of the sectors'
			// Groth16 proofs; Sealant has no aggregator.
			return nil, types.Zero(), fmt.Errorf("commit: NI sector %s: ProveCommitSectorsNI needs a SnarkPack aggregate of Groth16 proofs, and Sealant has no SNARK aggregator: %w", s.ID, ErrPolicy)
		}
		exp, err := NIExpiration(p.cfg.Params, head.Height, types.ChainEpoch(s.Ticket.Epoch), t.ExpirationDays)
		if err != nil {
			return nil, types.Zero(), fmt.Errorf("commit: sector %s: %w", s.ID, err)
		}
		pp.Sectors = append(pp.Sectors, miner.SectorNIActivationInfo{
			SealingNumber: miner.SectorNumber(s.ID.Number), SealerID: types.ActorID(t.Miner), SealedCID: sealed, SectorNumber: miner.SectorNumber(s.ID.Number),
			SealRandEpoch: types.ChainEpoch(s.Ticket.Epoch), Expiration: exp,
		})
		proofs[i] = d.Proof
		pl, err := p.chain.StateMinerInitialPledgeForSector(ctx, exp-head.Height, s.SectorSize, verifiedSize(d), head.Key())
		if err != nil {
			return nil, types.Zero(), fmt.Errorf("commit: initial pledge: %w", err)
		}
		pledge = pledge.Add(pl)
	}
	pp.AggregateProof = c2.EncodeDevnetAggregate(proofs)
	return pp, pledge, nil
}

func sendSpec(maxFee types.TokenAmount) *lotus.MessageSendSpec {
	if maxFee.Sign() <= 0 {
		return nil
	}
	return &lotus.MessageSendSpec{MaxFee: maxFee}
}

// baseFee is the head's parent base fee (zero if unknown).
func baseFee(ts *lotus.TipSet) types.TokenAmount {
	if ts == nil || len(ts.Blocks) == 0 || ts.Blocks[0].ParentBaseFee.Nil() {
		return types.Zero()
	}
	return ts.Blocks[0].ParentBaseFee
}
