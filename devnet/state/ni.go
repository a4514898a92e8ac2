package state

import (
	"bytes"

	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/c2"
	"github.com/sealant/sealant/proofs/commp"
)

// canProveCommitNI reports whether sp may be proven with
// ProveCommitSectorsNI (builtin-actors can_prove_commit_ni_seal_proof: the
// V1_2_Feat_NiPoRep types; the devnet enables every sector size, as Lotus
// 2k builds do).
func canProveCommitNI(sp miner.RegisteredSealProof) bool {
	return abi.RegisteredSealProof(sp).IsNI()
}

// niSeed is the interactive randomness the actor hands the verifier for an
// NI sector (validate_ni_sectors: vec![1u8; 32]); NI challenges ignore it.
var niSeed = [32]byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}

// deadlineIsMutable is builtin-actors deadline_is_mutable: the next
// instance of deadline idx that has not closed must open more than one
// challenge window from now.
func (c *minerCall) deadlineIsMutable(idx uint64) bool {
	p, curr := c.vm.Policy, c.curr()
	open := int64(c.m.DeadlineInfo(p, curr).PeriodStart) + int64(idx)*p.WPoStChallengeWindow
	if curr >= open+p.WPoStChallengeWindow { // elapsed: the next period's instance
		open += p.ProvingPeriod() * (1 + (curr-open-p.WPoStChallengeWindow)/p.ProvingPeriod())
	}
	return curr < open-p.WPoStChallengeWindow
}

// proveCommitSectorsNI follows builtin-actors prove_commit_sectors_ni and
// validate_ni_sectors (actors/miner/src/lib.rs, commit b0a3bdd). In order:
//   - 0 or more than 65 sectors (MIN/MAX_AGGREGATED_SECTORS_NI):
//     USR_ILLEGAL_ARGUMENT (16)
//   - caller not owner/worker/control: USR_FORBIDDEN (18)
//   - ProvingDeadline ≥ 48: 16; not mutable (the current or next
//     deadline): 18
//   - SealProofType not an NI-PoRep type, AggregateProofType not
//     SnarkPackV2: 16
//   - a sector number given twice, a SealRandEpoch not before now: 16,
//     aborting the message
//   - per sector: sector number > 2^63−1, bad expiration, SealerID not this
//     miner, SealingNumber ≠ SectorNumber, bad sealed-CID prefix, a
//     SealRandEpoch older than 180 days: the sector fails with 16 in the
//     BatchReturn, or the message aborts with 16 under
//     RequireActivationSuccess; none left: 16
//   - the proof covers every sector, valid or not; any sector's devnet proof
//     failing: 16 ("aggregate seal verify failed")
//   - pledge not covered: USR_INSUFFICIENT_FUNDS (19)
//   - any sector number (of any sector given) already allocated: 16
//
// The valid sectors become active at once in ProvingDeadline, CC (CommD is
// the zero commitment), with the same initial pledge as interactive
// sectors; there is no pre-commit and no deposit. The actor's aggregate size
// limit (81,960 bytes) is not applied: the devnet proof is
// c2.EncodeDevnetAggregate of every sector's compact vanilla proofs.
func (c *minerCall) proveCommitSectorsNI(p *miner.ProveCommitSectorsNIParams) ([]byte, error) {
	pol, curr := c.vm.Policy, c.curr()
	n := len(p.Sectors)
	if n > rand.MaxAggregatedSectorsNI {
		return nil, abort(types.ErrIllegalArgument, "too many sectors addressed, addressed %d want <= %d", n, rand.MaxAggregatedSectorsNI)
	}
	if n < rand.MinAggregatedSectorsNI {
		return nil, abort(types.ErrIllegalArgument, "too few sectors addressed, addressed %d want >= %d", n, rand.MinAggregatedSectorsNI)
	}
	if err := c.requireControl(); err != nil {
		return nil, err
	}
	if p.ProvingDeadline >= pol.WPoStPeriodDeadlines {
		return nil, abort(types.ErrIllegalArgument, "proving deadline index %d invalid", p.ProvingDeadline)
	}
	if !c.deadlineIsMutable(p.ProvingDeadline) {
		return nil, abort(types.ErrForbidden, "proving deadline %d must not be the current or next deadline", p.ProvingDeadline)
	}
	if !canProveCommitNI(p.SealProofType) {
		return nil, abort(types.ErrIllegalArgument, "unsupported seal proof type %d", p.SealProofType)
	}
	if p.AggregateProofType != miner.RegisteredAggregationProofSnarkPackV2 {
		return nil, abort(types.ErrIllegalArgument, "aggregate proof type must be SnarkPackV2")
	}

	// validate_ni_sectors
	unsealed, err := zeroCommD(c.m.SectorSize)
	if err != nil {
		return nil, abort(types.ErrIllegalState, "%v", err)
	}
	entropy, err := rand.SealEntropyForID(c.act.ID)
	if err != nil {
		return nil, abort(types.ErrIllegalState, "entropy: %v", err)
	}
	earliest := curr - pol.MaxProveCommitNIRandomnessLookback
	res := make(results, n)
	tickets := make([][32]byte, n)
	var nums []uint64
	for i, s := range p.Sectors {
		if setHas(nums, uint64(s.SectorNumber)) {
			return nil, abort(types.ErrIllegalArgument, "duplicate sector number %d", s.SectorNumber)
		}
		nums = setAdd(nums, uint64(s.SectorNumber))
		var why string
		if s.SectorNumber > MaxSectorNumber {
			why = "sector number out of range 0..(2^63-1)"
		}
		if err := c.validateExpiration(curr, int64(s.Expiration)); err != nil {
			why = err.Error()
		}
		if uint64(s.SealerID) != c.act.ID {
			why = "sealer must be the same as the receiver actor for all sectors"
		}
		if s.SectorNumber != s.SealingNumber {
			why = "sealing number must be same as sector number for all sectors"
		}
		if _, err := commp.CommFromSealedCID(s.SealedCID); err != nil {
			why = "sealed CID had wrong prefix"
		}
		if int64(s.SealRandEpoch) >= curr {
			return nil, abort(types.ErrIllegalArgument, "seal challenge epoch %d must be before now %d", s.SealRandEpoch, curr)
		}
		if int64(s.SealRandEpoch) < earliest {
			why = "seal challenge epoch too old"
		}
		if tickets[i], err = c.vm.Env.TicketRandomness(rand.TagSealRandomness, int64(s.SealRandEpoch), entropy); err != nil {
			return nil, abort(types.ErrIllegalState, "ticket randomness: %v", err)
		}
		if why != "" {
			if p.RequireActivationSuccess {
				return nil, abort(types.ErrIllegalArgument, "invalid NI commit %d while requiring activation success: sector %d: %s", i, s.SectorNumber, why)
			}
			res[i] = types.ErrIllegalArgument
		}
	}
	if res.ok() == 0 {
		return nil, abort(types.ErrIllegalArgument, "no valid NI commits specified")
	}

	// verify_aggregate_seal: every sector's inputs are witnesses, valid or not.
	proofs, err := c2.DecodeDevnetAggregate(p.AggregateProof)
	if err != nil {
		return nil, abort(types.ErrIllegalArgument, "aggregate seal verify failed: %v", err)
	}
	if len(proofs) != n {
		return nil, abort(types.ErrIllegalArgument, "aggregate seal verify failed: %d sector proofs for %d sectors", len(proofs), n)
	}
	for i, s := range p.Sectors {
		err := c.vm.Verifier.VerifySeal(SealVerifyInfo{
			SealProof: p.SealProofType, Miner: c.act.ID, Sector: uint64(s.SealingNumber),
			SealedCID: s.SealedCID, UnsealedCID: unsealed, Ticket: tickets[i], Seed: niSeed, Proof: proofs[i],
		})
		if err != nil {
			return nil, abort(types.ErrIllegalArgument, "aggregate seal verify failed: sector %d: %v", s.SectorNumber, err)
		}
	}

	netQAP := c.st.NetworkQAP()
	ip := pol.InitialPledge(c.m.SectorSize, netQAP)
	pledge := types.Zero()
	for i := range p.Sectors {
		if res[i] == types.Ok {
			pledge = pledge.Add(ip)
		}
	}
	if avail := Available(c.act); avail.Cmp(pledge) < 0 {
		return nil, abort(types.ErrInsufficientFunds, "insufficient funds for aggregate initial pledge requirement %s, available: %s", pledge, avail)
	}
	// allocate_sector_numbers with CollisionPolicy::DenyCollisions, over
	// every sector number given.
	for _, num := range nums {
		if setHas(c.m.Allocated, num) {
			return nil, abort(types.ErrIllegalArgument, "sector number %d already allocated", num)
		}
	}
	c.m.Allocated = setAdd(c.m.Allocated, nums...)
	c.m.InitialPledge = c.m.InitialPledge.Add(pledge)
	for i, s := range p.Sectors {
		if res[i] != types.Ok {
			continue
		}
		num := s.SectorNumber
		c.m.Sectors[uint64(num)] = &lotus.SectorOnChainInfo{
			SectorNumber: uint64(num), SealProof: int64(p.SealProofType), SealedCID: s.SealedCID,
			Activation: types.ChainEpoch(curr), Expiration: s.Expiration,
			DealWeight: types.Zero(), VerifiedDealWeight: types.Zero(), InitialPledge: ip,
			ExpectedDayReward:     pol.ExpectedDayReward(c.m.SectorSize, netQAP),
			ExpectedStoragePledge: pol.PreCommitDeposit(c.m.SectorSize, netQAP).Div(types.NewInt(QAPowerMaxMultiple)),
			PowerBaseEpoch:        types.ChainEpoch(curr), ReplacedDayReward: types.Zero(),
			Flags:    1, // SIMPLE_QA_POWER
			DailyFee: types.Zero(),
		}
		c.m.assignToDeadline(p.ProvingDeadline, uint64(num))
	}
	// ProveCommitSectorsNIReturn is #[serde(transparent)]: the BatchReturn.
	var buf bytes.Buffer
	if err := res.ret().MarshalCBOR(&buf); err != nil {
		return nil, abort(types.ErrSerialization, "encode return: %v", err)
	}
	return buf.Bytes(), nil
}
