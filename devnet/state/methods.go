package state

import (
	"bytes"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/fr32"
)

// minerCall is one invocation of a miner method.
type minerCall struct {
	vm     *VM
	st     *State
	act    *Actor
	m      *MinerState
	caller uint64
}

func (c *minerCall) curr() int64 { return c.vm.Epoch }

func (c *minerCall) requireControl() error {
	if !c.m.isControl(c.caller) {
		return abort(types.ErrForbidden, "caller f0%d is not one of the miner's owner, worker or control addresses", c.caller)
	}
	return nil
}

// canPreCommit reports whether sp may be pre-committed (builtin-actors
// can_pre_commit_seal_proof: the V1_1 and V1_1_Feat_SyntheticPoRep types;
// the devnet enables every sector size, as Lotus 2k builds do).
func canPreCommit(sp miner.RegisteredSealProof) bool {
	return sp >= miner.RegisteredSealProofStackedDrg2KiBV1_1 && sp <= miner.RegisteredSealProofStackedDrg2KiBV1_1+9
}

// validateExpiration is builtin-actors validate_expiration.
func (c *minerCall) validateExpiration(activation, expiration int64) error {
	p := c.vm.Policy
	if expiration <= activation {
		return abort(types.ErrIllegalArgument, "sector expiration %d must be after activation (%d)", expiration, activation)
	}
	if expiration-activation < p.MinSectorExpiration {
		return abort(types.ErrIllegalArgument, "invalid expiration %d, total sector lifetime (%d) must exceed %d after activating at epoch %d",
			expiration, expiration-activation, p.MinSectorExpiration, activation)
	}
	if expiration > c.curr()+p.MaxSectorExpirationExtension {
		return abort(types.ErrIllegalArgument, "invalid expiration %d, cannot be more than %d past current epoch %d",
			expiration, p.MaxSectorExpirationExtension, c.curr())
	}
	if expiration-activation > p.SectorMaximumLifetime {
		return abort(types.ErrIllegalArgument, "invalid expiration %d, total sector lifetime (%d) cannot exceed %d after activating at epoch %d",
			expiration, expiration-activation, p.SectorMaximumLifetime, activation)
	}
	return nil
}

// preCommitSectorBatch2 follows builtin-actors pre_commit_sector_batch_inner:
// per-sector preconditions (all USR_ILLEGAL_ARGUMENT), then caller
// (USR_FORBIDDEN), WindowPoSt type match, deposit (USR_INSUFFICIENT_FUNDS)
// and sector-number collisions (USR_ILLEGAL_ARGUMENT).
func (c *minerCall) preCommitSectorBatch2(p *miner.PreCommitSectorBatchParams2) error {
	pol, curr := c.vm.Policy, c.curr()
	if len(p.Sectors) == 0 {
		return abort(types.ErrIllegalArgument, "batch empty")
	}
	earliest := curr - pol.MaxPreCommitRandomnessLookback
	var nums []uint64
	for _, pc := range p.Sectors {
		if setHas(nums, uint64(pc.SectorNumber)) {
			return abort(types.ErrIllegalArgument, "duplicate sector number %d", pc.SectorNumber)
		}
		nums = setAdd(nums, uint64(pc.SectorNumber))
		if !canPreCommit(pc.SealProof) {
			return abort(types.ErrIllegalArgument, "unsupported seal proof type %d", pc.SealProof)
		}
		if pc.SectorNumber > MaxSectorNumber {
			return abort(types.ErrIllegalArgument, "sector number %d out of range 0..(2^63-1)", pc.SectorNumber)
		}
		if _, err := commp.CommFromSealedCID(pc.SealedCID); err != nil {
			return abort(types.ErrIllegalArgument, "sealed CID had wrong prefix")
		}
		if int64(pc.SealRandEpoch) >= curr {
			return abort(types.ErrIllegalArgument, "seal challenge epoch %d must be before now %d", pc.SealRandEpoch, curr)
		}
		if int64(pc.SealRandEpoch) < earliest {
			return abort(types.ErrIllegalArgument, "seal challenge epoch %d too old, must be after %d", pc.SealRandEpoch, earliest)
		}
		if pc.UnsealedCid != nil {
			if _, err := commp.CommFromPieceCID(*pc.UnsealedCid); err != nil {
				return abort(types.ErrIllegalArgument, "unsealed CID had wrong prefix")
			}
		}
		if err := c.validateExpiration(curr+pol.MaxProveCommitDuration, int64(pc.Expiration)); err != nil {
			return err
		}
		if len(pc.DealIDs) > 0 {
			// verify_deals would call the market actor, which the devnet lacks.
			return abort(types.ErrIllegalArgument, "sector %d has deal IDs; the devnet has no market actor (use DDO pieces at prove-commit)", pc.SectorNumber)
		}
	}
	if err := c.requireControl(); err != nil {
		return err
	}
	deposit := pol.PreCommitDeposit(c.m.SectorSize, c.st.NetworkQAP())
	total := types.Zero()
	for _, pc := range p.Sectors {
		wp := abi.RegisteredSealProof(pc.SealProof).WindowPoSt()
		if int64(wp) != c.m.WindowPoStProof {
			return abort(types.ErrIllegalArgument, "sector Window PoSt proof type %d must match miner Window PoSt proof type %d (seal proof type %d)",
				wp, c.m.WindowPoStProof, pc.SealProof)
		}
		total = total.Add(deposit)
	}
	if avail := Available(c.act); avail.Cmp(total) < 0 {
		return abort(types.ErrInsufficientFunds, "insufficient funds %s for pre-commit deposit: %s", avail, total)
	}
	// allocate_sector_numbers with CollisionPolicy::DenyCollisions.
	for _, n := range nums {
		if setHas(c.m.Allocated, n) {
			return abort(types.ErrIllegalArgument, "sector number %d already allocated", n)
		}
	}
	c.m.PreCommitDeposits = c.m.PreCommitDeposits.Add(total)
	c.m.Allocated = setAdd(c.m.Allocated, nums...)
	for _, pc := range p.Sectors {
		var unsealed *cid.Cid
		if pc.UnsealedCid != nil {
			u := *pc.UnsealedCid
			unsealed = &u
		}
		c.m.PreCommits[uint64(pc.SectorNumber)] = &lotus.SectorPreCommitOnChainInfo{
			Info: lotus.SectorPreCommitInfo{
				SealProof: miner.RegisteredSealProof(int64(pc.SealProof)), SectorNumber: miner.SectorNumber(uint64(pc.SectorNumber)), SealedCID: pc.SealedCID,
				SealRandEpoch: pc.SealRandEpoch, DealIDs: nil, Expiration: pc.Expiration, UnsealedCid: unsealed,
			},
			PreCommitDeposit: deposit,
			PreCommitEpoch:   types.ChainEpoch(curr),
		}
	}
	return nil
}

// results tracks a batch's per-element outcome across validation stages
// (builtin-actors BatchReturn stacking).
type results []types.ExitCode

func (r results) ret() *miner.BatchReturn {
	br := &miner.BatchReturn{}
	for i, code := range r {
		if code == types.Ok {
			br.SuccessCount++
		} else {
			br.FailCodes = append(br.FailCodes, miner.FailCode{Idx: uint64(i), Code: code})
		}
	}
	return br
}

func (r results) ok() int {
	n := 0
	for _, c := range r {
		if c == types.Ok {
			n++
		}
	}
	return n
}

// proveCommitSectors3 follows builtin-actors prove_commit_sectors3 and
// validate_precommits. Exit codes:
//   - caller not owner/worker/control: USR_FORBIDDEN (18)
//   - a sector not pre-committed: USR_NOT_FOUND (17)
//   - proof shape errors, late prove-commit (with RequireActivationSuccess),
//     invalid proof (with RequireActivationSuccess), nothing valid left:
//     USR_ILLEGAL_ARGUMENT (16); without RequireActivationSuccess bad
//     sectors are reported in FailCodes with 16 instead
//   - curr ≤ PreCommitEpoch + PreCommitChallengeDelay: USR_FORBIDDEN (18),
//     "too early to prove sector", always aborting the whole message
//   - mixed seal proof types: USR_ILLEGAL_STATE (20)
//   - pledge not covered: USR_INSUFFICIENT_FUNDS (19)
func (c *minerCall) proveCommitSectors3(p *miner.ProveCommitSectors3Params) ([]byte, error) {
	pol, curr := c.vm.Policy, c.curr()
	if err := c.requireControl(); err != nil {
		return nil, err
	}
	pcs := make([]*lotus.SectorPreCommitOnChainInfo, len(p.SectorActivations))
	for i, sa := range p.SectorActivations {
		pc, ok := c.m.PreCommits[uint64(sa.SectorNumber)]
		if !ok {
			return nil, abort(types.ErrNotFound, "loading precommits: sector %d not pre-committed", sa.SectorNumber)
		}
		pcs[i] = pc
	}
	if len(pcs) == 0 {
		return nil, abort(types.ErrIllegalArgument, "no sectors to prove")
	}
	if (len(p.SectorProofs) == 0) == (len(p.AggregateProof) == 0) {
		return nil, abort(types.ErrIllegalArgument, "exactly one of sector proofs or aggregate proof must be non-empty")
	}
	if len(p.SectorProofs) == 0 {
		return nil, abort(types.ErrIllegalArgument, "aggregate proofs are not supported on the devnet (no SnarkPack verifier): send one devnet proof per sector")
	}
	if p.AggregateProofType != nil {
		return nil, abort(types.ErrIllegalArgument, "aggregate proof type must be null with batched proofs")
	}
	if len(p.SectorActivations) != len(p.SectorProofs) {
		return nil, abort(types.ErrIllegalArgument, "mismatched lengths: %d sector activations, %d proofs", len(p.SectorActivations), len(p.SectorProofs))
	}
	// The actor's proof-size limit (192 B × partitions) is not applied: a
	// devnet proof carries vanilla proofs (see the package doc).

	res := make(results, len(pcs))
	entropy, err := rand.SealEntropyForID(c.act.ID)
	if err != nil {
		return nil, abort(types.ErrIllegalState, "entropy: %v", err)
	}
	tickets := make([][32]byte, len(pcs))
	seeds := make([][32]byte, len(pcs))
	for i, pc := range pcs {
		fail := false
		due := int64(pc.PreCommitEpoch) + pol.MaxProveCommitDuration
		if curr > due {
			fail = true // "too late"
		}
		if i > 0 && pcs[i-1].Info.SealProof != pc.Info.SealProof {
			return nil, abort(types.ErrIllegalState, "seal proof group for verification contains mismatched seal proofs %d and %d", pcs[i-1].Info.SealProof, pc.Info.SealProof)
		}
		interactive := int64(pc.PreCommitEpoch) + pol.PreCommitChallengeDelay
		if curr <= interactive {
			return nil, abort(types.ErrForbidden, "too early to prove sector %d: seed epoch %d, current epoch %d", pc.Info.SectorNumber, interactive, curr)
		}
		if tickets[i], err = c.vm.Env.TicketRandomness(rand.TagSealRandomness, int64(pc.Info.SealRandEpoch), entropy); err != nil {
			return nil, abort(types.ErrIllegalState, "ticket randomness: %v", err)
		}
		if seeds[i], err = c.vm.Env.BeaconRandomness(rand.TagInteractiveSealChallengeSeed, interactive, entropy); err != nil {
			return nil, abort(types.ErrIllegalState, "seed randomness: %v", err)
		}
		if fail {
			if p.RequireActivationSuccess {
				return nil, abort(types.ErrIllegalArgument, "invalid pre-commit %d while requiring activation success: sector %d too late at %d, due %d", i, pc.Info.SectorNumber, curr, due)
			}
			res[i] = types.ErrIllegalArgument
		}
	}
	if res.ok() == 0 {
		return nil, abort(types.ErrIllegalArgument, "no valid precommits specified")
	}

	// Verify each remaining sector's proof.
	for i, pc := range pcs {
		if res[i] != types.Ok {
			continue
		}
		unsealed, err := c.unsealedCID(pc)
		if err != nil {
			return nil, abort(types.ErrIllegalState, "%v", err)
		}
		err = c.vm.Verifier.VerifySeal(SealVerifyInfo{
			SealProof: miner.RegisteredSealProof(pc.Info.SealProof), Miner: c.act.ID, Sector: uint64(pc.Info.SectorNumber),
			SealedCID: pc.Info.SealedCID, UnsealedCID: unsealed, Ticket: tickets[i], Seed: seeds[i], Proof: p.SectorProofs[i],
		})
		if err != nil {
			if p.RequireActivationSuccess {
				return nil, abort(types.ErrIllegalArgument, "invalid proof for sector %d while requiring activation success: %v", pc.Info.SectorNumber, err)
			}
			res[i] = types.ErrIllegalArgument
		}
	}
	if res.ok() == 0 {
		return nil, abort(types.ErrIllegalArgument, "no valid proofs specified")
	}

	// Data activation: the pieces must add up to the pre-committed CommD.
	for i, pc := range pcs {
		if res[i] != types.Ok {
			continue
		}
		if err := c.checkPieces(pc, p.SectorActivations[i].Pieces); err != nil {
			if p.RequireActivationSuccess {
				return nil, abort(types.ErrIllegalArgument, "sector %d: %v", pc.Info.SectorNumber, err)
			}
			res[i] = types.ErrIllegalArgument
		}
	}
	if res.ok() == 0 {
		return nil, abort(types.ErrIllegalArgument, "all data activations failed")
	}

	// Activate: release deposits, lock pledge (activate_new_sector_infos).
	netQAP := c.st.NetworkQAP()
	pledge, released := types.Zero(), types.Zero()
	for i, pc := range pcs {
		if res[i] == types.Ok {
			pledge = pledge.Add(pol.InitialPledge(c.m.SectorSize, netQAP))
			released = released.Add(pc.PreCommitDeposit)
		}
	}
	c.m.PreCommitDeposits = c.m.PreCommitDeposits.Sub(released)
	if avail := Available(c.act); avail.Cmp(pledge) < 0 {
		return nil, abort(types.ErrInsufficientFunds, "insufficient funds for aggregate initial pledge requirement %s, available: %s", pledge, avail)
	}
	c.m.InitialPledge = c.m.InitialPledge.Add(pledge)
	for i, pc := range pcs {
		if res[i] != types.Ok {
			continue
		}
		ip := pol.InitialPledge(c.m.SectorSize, netQAP)
		n := pc.Info.SectorNumber
		c.m.Sectors[uint64(n)] = &lotus.SectorOnChainInfo{
			SectorNumber: uint64(n), SealProof: int64(pc.Info.SealProof), SealedCID: pc.Info.SealedCID,
			Activation: types.ChainEpoch(curr), Expiration: pc.Info.Expiration,
			DealWeight: types.Zero(), VerifiedDealWeight: types.Zero(), InitialPledge: ip,
			ExpectedDayReward:     pol.ExpectedDayReward(c.m.SectorSize, netQAP),
			ExpectedStoragePledge: pol.PreCommitDeposit(c.m.SectorSize, netQAP).Div(types.NewInt(QAPowerMaxMultiple)),
			PowerBaseEpoch:        types.ChainEpoch(curr), ReplacedDayReward: types.Zero(),
			Flags:    1, // SIMPLE_QA_POWER
			DailyFee: types.Zero(),
		}
		delete(c.m.PreCommits, uint64(n))
		c.m.assignDeadline(pol, curr, uint64(n))
	}
	var buf bytes.Buffer
	if err := res.ret().MarshalCBOR(&buf); err != nil {
		return nil, abort(types.ErrSerialization, "encode return: %v", err)
	}
	return buf.Bytes(), nil
}

// unsealedCID is the pre-commit's CommD, the zero CommD for CC.
func (c *minerCall) unsealedCID(pc *lotus.SectorPreCommitOnChainInfo) (cid.Cid, error) {
	if pc.Info.UnsealedCid != nil {
		return *pc.Info.UnsealedCid, nil
	}
	return zeroCommD(c.m.SectorSize)
}

// checkPieces recomputes CommD from the activation manifest's pieces and
// compares it with the pre-committed CommD (activate_sectors_pieces).
// Verified allocations and notifications need the verifreg and market
// actors, which the devnet does not have.
func (c *minerCall) checkPieces(pc *lotus.SectorPreCommitOnChainInfo, pieces []miner.PieceActivationManifest) error {
	infos := make([]commp.PieceInfo, 0, len(pieces))
	for _, pm := range pieces {
		if pm.VerifiedAllocationKey != nil || len(pm.Notify) > 0 {
			return fmt.Errorf("verified allocations and data notifications are not supported on the devnet")
		}
		comm, err := commp.CommFromPieceCID(pm.CID)
		if err != nil {
			return fmt.Errorf("piece CID: %w", err)
		}
		infos = append(infos, commp.PieceInfo{Size: fr32.PaddedPieceSize(pm.Size), Commitment: comm})
	}
	got, err := commp.ComputeCommD(c.m.SectorSize, infos)
	if err != nil {
		return fmt.Errorf("failed to compute CommD: %w", err)
	}
	want, err := c.unsealedCID(pc)
	if err != nil {
		return err
	}
	if !miner.UnsealedCID(got).Equals(want) {
		return fmt.Errorf("unsealed CID does not match pieces: computed %s, pre-committed %s", miner.UnsealedCID(got), want)
	}
	return nil
}

// withdrawBalance follows builtin-actors withdraw_balance (the owner is the
// beneficiary on the devnet). Returns the amount withdrawn (CBOR BigInt).
func (c *minerCall) withdrawBalance(p *miner.WithdrawBalanceParams) ([]byte, error) {
	req := nz(types.BigInt(p.AmountRequested))
	if req.Sign() < 0 {
		return nil, abort(types.ErrIllegalArgument, "negative fund requested for withdrawal: %s", req)
	}
	if c.caller != c.m.Owner {
		return nil, abort(types.ErrForbidden, "caller f0%d is not the owner or beneficiary", c.caller)
	}
	avail := Available(c.act)
	if avail.Sign() < 0 {
		avail = types.Zero()
	}
	amt := minBig(avail, req)
	owner := c.st.Actors[c.m.Owner]
	transfer(c.act, owner, amt)
	return encodeBig(amt), nil
}

// declareFaultsRecovered follows builtin-actors declare_faults_recovered.
func (c *minerCall) declareFaultsRecovered(p *miner.DeclareFaultsRecoveredParams) error {
	pol := c.vm.Policy
	if len(p.Recoveries) > 3000 {
		return abort(types.ErrIllegalArgument, "too many recovery declarations %d, max 3000", len(p.Recoveries))
	}
	if err := c.requireControl(); err != nil {
		return err
	}
	for _, r := range p.Recoveries {
		if r.Deadline >= pol.WPoStPeriodDeadlines {
			return abort(types.ErrIllegalArgument, "invalid deadline %d", r.Deadline)
		}
		dl := c.declarationDeadline(r.Deadline)
		if c.curr() > int64(dl.FaultCutoff) {
			return abort(types.ErrIllegalArgument, "late fault declaration at %d for deadline %d (fault cutoff %d)", c.curr(), r.Deadline, dl.FaultCutoff)
		}
		parts := c.m.Deadlines[r.Deadline].Partitions
		if r.Partition >= uint64(len(parts)) {
			return abort(types.ErrNotFound, "no such partition %d in deadline %d", r.Partition, r.Deadline)
		}
		pt := parts[r.Partition]
		secs, err := r.Sectors.All(1 << 20)
		if err != nil {
			return abort(types.ErrIllegalArgument, "sectors: %v", err)
		}
		for _, s := range secs {
			if !setHas(pt.Sectors, s) {
				return abort(types.ErrIllegalArgument, "sector %d not in partition %d of deadline %d", s, r.Partition, r.Deadline)
			}
		}
		pt.Recoveries = setAdd(pt.Recoveries, setIntersect(setFrom(secs), pt.Faults)...)
	}
	return nil
}

// declarationDeadline is the next (or current) instance of deadline idx.
func (c *minerCall) declarationDeadline(idx uint64) lotus.DeadlineInfo {
	pol := c.vm.Policy
	cur := c.m.DeadlineInfo(pol, c.curr())
	info := pol.deadlineAt(c.curr(), int64(cur.PeriodStart), idx)
	if int64(info.Close) <= c.curr() {
		info = pol.deadlineAt(c.curr(), int64(cur.PeriodStart)+pol.ProvingPeriod(), idx)
	}
	return info
}

// submitWindowedPoSt follows builtin-actors submit_windowed_post.
func (c *minerCall) submitWindowedPoSt(p *miner.SubmitWindowedPoStParams) error {
	pol, curr := c.vm.Policy, c.curr()
	if len(p.Proofs) != 1 {
		return abort(types.ErrIllegalArgument, "expected exactly one proof, got %d", len(p.Proofs))
	}
	if int64(p.Proofs[0].PoStProof) != c.m.WindowPoStProof {
		return abort(types.ErrIllegalArgument, "expected proof of type %d, got %d", c.m.WindowPoStProof, p.Proofs[0].PoStProof)
	}
	if p.Deadline >= pol.WPoStPeriodDeadlines {
		return abort(types.ErrIllegalArgument, "invalid deadline %d of %d", p.Deadline, pol.WPoStPeriodDeadlines)
	}
	if len(p.ChainCommitRand) > 32 {
		return abort(types.ErrIllegalArgument, "expected at most 32 bytes of randomness, got %d", len(p.ChainCommitRand))
	}
	if err := c.requireControl(); err != nil {
		return err
	}
	dl := c.m.DeadlineInfo(pol, curr)
	if p.Deadline != dl.Index {
		return abort(types.ErrIllegalArgument, "invalid deadline %d at epoch %d, expected %d", p.Deadline, curr, dl.Index)
	}
	if int64(p.ChainCommitEpoch) < int64(dl.Challenge) {
		return abort(types.ErrIllegalArgument, "expected chain commit epoch %d to be after %d", p.ChainCommitEpoch, dl.Challenge)
	}
	if int64(p.ChainCommitEpoch) >= curr {
		return abort(types.ErrIllegalArgument, "chain commit epoch %d must be less than the current epoch %d", p.ChainCommitEpoch, curr)
	}
	commRand, err := c.vm.Env.TicketRandomness(rand.TagPoStChainCommit, int64(p.ChainCommitEpoch), nil)
	if err != nil {
		return abort(types.ErrIllegalState, "chain commit randomness: %v", err)
	}
	if !bytes.Equal(commRand[:], p.ChainCommitRand) {
		return abort(types.ErrIllegalArgument, "post commit randomness mismatched")
	}
	d := c.m.Deadlines[p.Deadline]
	type change struct {
		pt       *Partition
		skipped  []uint64
		recovers []uint64
	}
	var changes []change
	var proven []PoStSector
	seen := map[uint64]bool{}
	for _, part := range p.Partitions {
		if part.Index >= uint64(len(d.Partitions)) {
			return abort(types.ErrNotFound, "no such partition %d", part.Index)
		}
		if seen[part.Index] || setHas(d.Proven, part.Index) {
			return abort(types.ErrIllegalArgument, "partition %d already proven", part.Index)
		}
		seen[part.Index] = true
		pt := d.Partitions[part.Index]
		skipped, err := part.Skipped.All(1 << 20)
		if err != nil {
			return abort(types.ErrIllegalArgument, "skipped: %v", err)
		}
		skipped = setFrom(skipped)
		for _, s := range skipped {
			if !setHas(pt.Sectors, s) {
				return abort(types.ErrIllegalArgument, "skipped sector %d not in partition %d", s, part.Index)
			}
		}
		// Proven: live sectors that are healthy or declared recovering,
		// minus the skipped ones.
		healthyOrRecovering := setMinus(pt.Sectors, setMinus(pt.Faults, pt.Recoveries))
		for _, s := range setMinus(healthyOrRecovering, skipped) {
			proven = append(proven, PoStSector{Number: s, SealedCID: c.m.Sectors[s].SealedCID})
		}
		changes = append(changes, change{pt: pt, skipped: skipped, recovers: setMinus(pt.Recoveries, skipped)})
	}
	if len(proven) == 0 {
		// builtin-actors: nothing left to prove (all skipped or faulty).
		return abort(types.ErrIllegalArgument, "cannot prove partitions with no active sectors")
	}
	// Mainnet records non-recovering PoSts for optimistic verification and
	// later disputes; the devnet verifies every PoSt at submission.
	{
		entropy, err := rand.SealEntropyForID(c.act.ID)
		if err != nil {
			return abort(types.ErrIllegalState, "entropy: %v", err)
		}
		chal, err := c.vm.Env.BeaconRandomness(rand.TagWindowedPoStChallengeSeed, int64(dl.Challenge), entropy)
		if err != nil {
			return abort(types.ErrIllegalState, "challenge randomness: %v", err)
		}
		err = c.vm.Verifier.VerifyWindowPoSt(WindowPoStVerifyInfo{
			Proof: miner.RegisteredPoStProof(c.m.WindowPoStProof), Randomness: chal, Miner: c.act.ID,
			Sectors: proven, ProofBytes: p.Proofs[0].ProofBytes,
		})
		if err != nil {
			return abort(types.ErrIllegalArgument, "invalid PoSt: %v", err)
		}
	}
	for _, ch := range changes {
		ch.pt.Faults = setAdd(setRemove(ch.pt.Faults, ch.recovers...), ch.skipped...)
		ch.pt.Recoveries = nil
	}
	for _, part := range p.Partitions {
		d.Proven = setAdd(d.Proven, part.Index)
	}
	return nil
}
