package commit

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

// This file is the pure decision core: no store, chain, clock or goroutines.
// Every function takes the facts it needs (policy, time, head epoch, chain
// facts) and returns a decision as a value, so the rules can be table-tested
// exactly. The batch state machine (lifecycle.go) uses them; the runner
// (apply.go) gathers the facts and carries out the decisions.

// EpochsInDay is the number of chain epochs in a "day" of actor policy. It
// is fixed by the actors (30 s epochs), also on a devnet with faster blocks.
const EpochsInDay = rand.EpochsInDay

// Params are the chain-policy numbers the pipeline checks against
// (spec/chain.md §5.5, §8.2). MainnetParams and DevnetParams give the two
// known sets; a manager reads the right one from its config.
type Params struct {
	// PreCommitChallengeDelay: the seed is drawn at PreCommitEpoch + this;
	// ProveCommit must land strictly after it.
	PreCommitChallengeDelay types.ChainEpoch
	// MaxProveCommitDuration: ProveCommit must land by PreCommitEpoch + this.
	MaxProveCommitDuration types.ChainEpoch
	// MaxPreCommitRandomnessLookback: PreCommit must land while
	// head − TicketEpoch ≤ this.
	MaxPreCommitRandomnessLookback types.ChainEpoch
	// MaxProveCommitNIRandomnessLookback: ProveCommitSectorsNI must land
	// while head − TicketEpoch ≤ this (180 days).
	MaxProveCommitNIRandomnessLookback types.ChainEpoch
	// MinSectorExpiration and MaxSectorExpirationExtension bound
	// Expiration (validate_expiration in the miner actor).
	MinSectorExpiration          types.ChainEpoch
	MaxSectorExpirationExtension types.ChainEpoch
	// Slack is how many epochs before a sector's deadline (ticket
	// lookback for PreCommit, prove window for ProveCommit) its batch is
	// sent regardless of size and wait, so batching never costs a sector.
	Slack types.ChainEpoch
}

// MainnetParams are mainnet (and calibnet) values.
func MainnetParams() Params {
	return Params{
		PreCommitChallengeDelay:            rand.PreCommitChallengeDelay,
		MaxProveCommitDuration:             rand.MaxProveCommitDuration,
		MaxPreCommitRandomnessLookback:     rand.MaxPreCommitRandomnessLookback,
		MaxProveCommitNIRandomnessLookback: rand.MaxProveCommitNiLookback,
		MinSectorExpiration:                rand.MinSectorExpiration,
		MaxSectorExpirationExtension:       rand.MaxSectorExpirationExtension,
		Slack:                              240, // 2 h at 30 s
	}
}

// DevnetParams are the Sealant devnet's values (devnet/state
// DefaultPolicy: a 10-epoch challenge delay, otherwise mainnet rules).
func DevnetParams() Params {
	p := MainnetParams()
	p.PreCommitChallengeDelay = types.ChainEpoch(rand.Devnet2K.PreCommitChallengeDelay)
	p.MaxProveCommitDuration = types.ChainEpoch(rand.Devnet2K.MaxProveCommitDuration)
	p.Slack = 60
	return p
}

// Validate reports nonsensical parameters.
func (p Params) Validate() error {
	if p.PreCommitChallengeDelay < 0 || p.MaxProveCommitDuration <= p.PreCommitChallengeDelay ||
		p.MaxPreCommitRandomnessLookback <= 0 || p.MinSectorExpiration <= 0 ||
		p.MaxSectorExpirationExtension <= p.MinSectorExpiration || p.Slack < 0 {
		return fmt.Errorf("commit: chain params %+v: %w", p, ErrConfig)
	}
	return nil
}

// BatchPolicy is a tenant's batching rule for one message kind.
type BatchPolicy struct {
	// Size closes a batch once it holds this many sectors (≥ 1).
	Size int
	// MaxWait closes a batch once it has existed this long (0: at once).
	MaxWait time.Duration
}

// PolicyFor derives the batching rule of a tenant for kind. ProveCommit in
// per-sector mode is a batch of one. In "aggregate" mode ProveCommitSectors3
// carries one proof per sector in a batch: a SnarkPack aggregate needs a
// SNARK aggregator, which Sealant does not have (and devnet proofs are not
// SNARKs), so AggregateProof is always empty.
func PolicyFor(t store.Tenant, kind store.BatchKind) BatchPolicy {
	b := t.Batching
	// The size rule is the store's (Tenant.BatchCapacity), which keeps
	// every batch within it whoever adds the sector.
	p := BatchPolicy{Size: t.BatchCapacity(kind)}
	switch {
	case kind == store.BatchPreCommit:
		p.MaxWait = max(0, b.PreCommitMaxWait)
	case t.ProofType.IsNI() || b.ProveCommitMode == store.ProveAggregate:
		// ProveCommitSectorsNI always carries one aggregate for all its
		// sectors: an NI tenant batches whatever its ProveCommitMode.
		p.MaxWait = max(0, b.ProveCommitMaxWait)
	}
	return p
}

// CloseInput are the facts about one open batch.
type CloseInput struct {
	Policy  BatchPolicy
	Members int
	// Opened is when the batch was created, i.e. when its oldest sector
	// joined (a batch is created by its first member).
	Opened time.Time
	Now    time.Time
	// Head is the chain head; Deadline the earliest last-safe epoch of
	// any member (0: unknown).
	Head, Deadline types.ChainEpoch
	Slack          types.ChainEpoch
}

// ShouldClose decides whether an open batch is sent now, and why: when it
// is full, when its oldest sector has waited MaxWait, or when a member's
// deadline is within Slack epochs.
func ShouldClose(in CloseInput) (bool, string) {
	switch {
	case in.Members <= 0:
		return false, ""
	case in.Members >= in.Policy.Size:
		return true, fmt.Sprintf("full (%d/%d sectors)", in.Members, in.Policy.Size)
	case !in.Now.Before(in.Opened.Add(in.Policy.MaxWait)):
		return true, fmt.Sprintf("max wait %s reached (%d/%d sectors)", in.Policy.MaxWait, in.Members, in.Policy.Size)
	case in.Deadline > 0 && in.Head+in.Slack >= in.Deadline:
		return true, fmt.Sprintf("deadline epoch %d within %d epochs of head %d", in.Deadline, in.Slack, in.Head)
	}
	return false, ""
}

// Verdict is a precheck's judgement of one sector.
type Verdict int

// Verdicts.
const (
	// Ready: send it.
	Ready Verdict = iota
	// Wait: not yet (e.g. ProveCommit before the challenge delay passed);
	// keep the batch and check again later.
	Wait
	// Drop: leave the batch without judging the sector (aborted by the
	// operator or worker, or missing its data).
	Drop
	// Done: the chain already has what the message would do; leave the
	// batch, nothing to send for it.
	Done
	// Bad: the message would certainly fail for this sector (ticket too
	// old, number taken, pre-commit expired); it is failed for good.
	Bad
)

var verdictNames = [...]string{"ready", "wait", "drop", "done", "bad"}

// String names the verdict.
func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "verdict(" + strconv.Itoa(int(v)) + ")"
}

// Check is a verdict with its reason.
type Check struct {
	Verdict Verdict
	Reason  string
}

// OnChainPreCommit is the miner actor's pre-commit of a sector.
type OnChainPreCommit struct {
	SealedCID cid.Cid
	Epoch     types.ChainEpoch
	Deposit   types.TokenAmount
	// Expiration is the pre-committed expiration (pledge duration).
	Expiration types.ChainEpoch
}

// SectorFacts is what the precheck knows about one sector.
type SectorFacts struct {
	ID     store.SectorID
	Active bool
	// TicketEpoch is the ticket's epoch (HasTicket false: none stored).
	TicketEpoch types.ChainEpoch
	HasTicket   bool
	// CommR is the sector's sealed CID (Undef: not submitted).
	CommR    cid.Cid
	HasProof bool
	// NI: an NI-PoRep sector, committed by ProveCommitSectorsNI.
	NI bool
	// Chain facts: whether the number is allocated, the pre-commit (nil:
	// none) and whether the sector is proven (active on chain).
	Allocated bool
	PreCommit *OnChainPreCommit
	Proven    bool
}

// CheckPreCommit judges a sector for a PreCommitSectorBatch2 landing at or
// after head.
func CheckPreCommit(p Params, head types.ChainEpoch, f SectorFacts) Check {
	switch {
	case !f.Active:
		return Check{Drop, "sector is no longer active"}
	case !f.CommR.Defined() || !f.HasTicket:
		return Check{Drop, "no pre-commit submitted"}
	case f.PreCommit != nil && f.PreCommit.SealedCID == f.CommR:
		return Check{Done, fmt.Sprintf("already pre-committed on chain at epoch %d", f.PreCommit.Epoch)}
	case f.Proven:
		return Check{Done, "already proven on chain"}
	case f.Allocated:
		return Check{Bad, "sector number already allocated on chain by another pre-commit"}
	case head-f.TicketEpoch > p.MaxPreCommitRandomnessLookback:
		return Check{Bad, fmt.Sprintf("ticket epoch %d expired: head %d is more than %d epochs later", f.TicketEpoch, head, p.MaxPreCommitRandomnessLookback)}
	case f.TicketEpoch >= head:
		return Check{Wait, fmt.Sprintf("ticket epoch %d not yet below head %d", f.TicketEpoch, head)}
	}
	return Check{Ready, ""}
}

// PreCommitDeadline is the last epoch a sector's PreCommit can land.
func PreCommitDeadline(p Params, ticketEpoch types.ChainEpoch) types.ChainEpoch {
	return ticketEpoch + p.MaxPreCommitRandomnessLookback
}

// CheckProveCommit judges a sector for a ProveCommitSectors3 landing at or
// after head.
func CheckProveCommit(p Params, head types.ChainEpoch, f SectorFacts) Check {
	switch {
	case !f.Active:
		return Check{Drop, "sector is no longer active"}
	case !f.HasProof:
		return Check{Drop, "no proof submitted"}
	case f.Proven:
		return Check{Done, "already proven on chain"}
	case f.PreCommit == nil:
		return Check{Bad, "no pre-commit on chain (expired or never landed)"}
	case f.CommR.Defined() && f.PreCommit.SealedCID != f.CommR:
		return Check{Bad, fmt.Sprintf("on-chain pre-commit has sealed CID %s, sector has %s", f.PreCommit.SealedCID, f.CommR)}
	case head > f.PreCommit.Epoch+p.MaxProveCommitDuration:
		return Check{Bad, fmt.Sprintf("prove-commit window closed at epoch %d (head %d)", f.PreCommit.Epoch+p.MaxProveCommitDuration, head)}
	case head <= f.PreCommit.Epoch+p.PreCommitChallengeDelay:
		return Check{Wait, fmt.Sprintf("too early to prove: head %d, allowed after %d", head, f.PreCommit.Epoch+p.PreCommitChallengeDelay)}
	}
	return Check{Ready, ""}
}

// CheckNICommit judges an NI-PoRep sector for a ProveCommitSectorsNI
// landing at or after head (builtin-actors validate_ni_sectors): its number
// must be unallocated and its ticket no older than
// MaxProveCommitNIRandomnessLookback; a ticket at or past head waits.
func CheckNICommit(p Params, head types.ChainEpoch, f SectorFacts) Check {
	switch {
	case !f.Active:
		return Check{Drop, "sector is no longer active"}
	case !f.HasProof:
		return Check{Drop, "no proof submitted"}
	case !f.CommR.Defined() || !f.HasTicket:
		return Check{Drop, "no NI commitments submitted"}
	case f.Proven:
		return Check{Done, "already proven on chain"}
	case f.Allocated:
		return Check{Bad, "sector number already allocated on chain"}
	case head-f.TicketEpoch > p.MaxProveCommitNIRandomnessLookback:
		return Check{Bad, fmt.Sprintf("ticket epoch %d too old for NI-PoRep: head %d is more than %d epochs later", f.TicketEpoch, head, p.MaxProveCommitNIRandomnessLookback)}
	case f.TicketEpoch >= head:
		return Check{Wait, fmt.Sprintf("ticket epoch %d not yet below head %d", f.TicketEpoch, head)}
	}
	return Check{Ready, ""}
}

// NIDeadline is the last epoch an NI sector's ProveCommitSectorsNI can land.
func NIDeadline(p Params, ticketEpoch types.ChainEpoch) types.ChainEpoch {
	return ticketEpoch + p.MaxProveCommitNIRandomnessLookback
}

// NIExpiration picks an NI sector's Expiration: head + days, clamped so
// that validate_expiration holds (activation is the landing epoch, which is
// after head):
//
//	lower = head + Slack + MinSectorExpiration
//	upper = min(head, ticket + MaxPreCommitRandomnessLookback) + MaxSectorExpirationExtension
//
// The upper bound also keeps Expiration − ticket within what a signer
// allows for any commit (MaxSectorExpirationExtension plus the interactive
// ticket lookback). days ≤ 0 means the longest allowed.
func NIExpiration(p Params, head, ticketEpoch types.ChainEpoch, days int) (types.ChainEpoch, error) {
	lower := head + p.Slack + p.MinSectorExpiration
	upper := min(head, ticketEpoch+p.MaxPreCommitRandomnessLookback) + p.MaxSectorExpirationExtension
	if lower > upper {
		return 0, fmt.Errorf("commit: no valid NI expiration: lower bound %d above upper bound %d: %w", lower, upper, ErrPolicy)
	}
	want := upper
	if days > 0 {
		want = head + types.ChainEpoch(days)*EpochsInDay
	}
	return min(max(want, lower), upper), nil
}

// NIProvingDeadline is the deadline an NI batch assigns its sectors to: the
// one that closed last (current − 1), whose next instance opens almost a
// whole proving period away, so it stays mutable (neither the current nor
// the next deadline, deadline_is_mutable) for as long as possible while the
// message waits to land.
func NIProvingDeadline(current, deadlines uint64) uint64 {
	return (current + deadlines - 1) % deadlines
}

// Expiration picks a sector's Expiration (spec/chain.md §8.2, Lotus
// BasicPreCommitPolicy): head + days, clamped so that the actor's checks
// hold whenever the message lands while the ticket is still valid:
//
//	lower = ticket + MaxPreCommitRandomnessLookback + MaxProveCommitDuration + MinSectorExpiration
//	upper = head + MaxSectorExpirationExtension
//
// (the actor requires expiration − (curr + MaxProveCommitDuration) ≥
// MinSectorExpiration with curr ≤ ticket + lookback, and expiration ≤ curr +
// MaxSectorExpirationExtension with curr ≥ head). days ≤ 0 means the
// longest allowed.
func Expiration(p Params, head, ticketEpoch types.ChainEpoch, days int) (types.ChainEpoch, error) {
	lower := ticketEpoch + p.MaxPreCommitRandomnessLookback + p.MaxProveCommitDuration + p.MinSectorExpiration
	upper := head + p.MaxSectorExpirationExtension
	if lower > upper {
		return 0, fmt.Errorf("commit: no valid expiration: lower bound %d above upper bound %d: %w", lower, upper, ErrPolicy)
	}
	want := upper
	if days > 0 {
		want = head + types.ChainEpoch(days)*EpochsInDay
	}
	return min(max(want, lower), upper), nil
}

// Collateral returns the Value of a message that needs `need` attoFIL of
// collateral: all of it, or — when useAvailable is set (Lotus's
// CollateralFromMinerBalance) — only the part the miner's available balance
// does not cover. Never negative.
func Collateral(need, available types.TokenAmount, useAvailable bool) types.TokenAmount {
	if need.Sign() <= 0 {
		return types.Zero()
	}
	if !useAvailable || available.Sign() <= 0 {
		return need
	}
	v := need.Sub(available)
	if v.Sign() < 0 {
		return types.Zero()
	}
	return v
}

// ProveCollateral is Σ max(0, pledge_i − deposit_i): at activation the
// pre-commit deposit is applied towards the initial pledge.
func ProveCollateral(pledges, deposits []types.TokenAmount) types.TokenAmount {
	sum := types.Zero()
	for i, pl := range pledges {
		d := types.Zero()
		if i < len(deposits) {
			d = deposits[i]
		}
		if diff := pl.Sub(d); diff.Sign() > 0 {
			sum = sum.Add(diff)
		}
	}
	return sum
}
