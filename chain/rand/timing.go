package rand

import (
	"errors"
	"fmt"
	"time"
)

// Chain timing constants for mainnet and calibnet (builtin-actors
// runtime/src/runtime/policy.rs and actors/miner/src/policy.rs; Lotus
// chain/actors/policy). They are exported as documented constants so the
// sealing planner never re-derives them; values that differ on devnets are
// also carried by [Policy].
const (
	// EpochDurationSeconds is the block time of mainnet and calibnet.
	EpochDurationSeconds = 30
	// EpochDuration is EpochDurationSeconds as a time.Duration.
	EpochDuration = EpochDurationSeconds * time.Second
	// EpochsInHour is 3600 / 30.
	EpochsInHour = 120
	// EpochsInDay is 24 hours of epochs.
	EpochsInDay = 2880
	// EpochsInYear is 365.25 days of epochs.
	EpochsInYear = 1_051_920

	// ChainFinality is the reorg depth treated as final. Lotus also uses it
	// as SealRandomnessLookback: the ticket is drawn ChainFinality epochs
	// below the head so that a reorg cannot change it.
	ChainFinality = 900
	// SealRandomnessLookback is how far below the head Lotus draws the
	// PoRep ticket (policy.SealRandomnessLookback = ChainFinality).
	SealRandomnessLookback = ChainFinality

	// PreCommitChallengeDelay is the wait between the pre-commit landing and
	// the interactive seed epoch (10 on 2k devnets built with
	// "short-precommit").
	PreCommitChallengeDelay = 150
	// MaxPreCommitRandomnessLookback bounds the ticket age when the
	// pre-commit executes: curr − 3780 ≤ SealRandEpoch < curr.
	MaxPreCommitRandomnessLookback = EpochsInDay + ChainFinality
	// MaxProveCommitDuration is how long after its pre-commit a V1_1 or
	// Synthetic PoRep sector may be proven (30 days + PreCommitChallengeDelay).
	MaxProveCommitDuration = 30*EpochsInDay + PreCommitChallengeDelay
	// ExpiredPreCommitCleanUpDelay is how long after expiry an unproven
	// pre-commit is cleaned up and its deposit burnt (8 hours).
	ExpiredPreCommitCleanUpDelay = 8 * EpochsInHour
	// InteractivePoRepConfidence is the number of epochs Lotus waits past
	// the seed epoch before drawing the seed, to ride out short reorgs.
	InteractivePoRepConfidence = 6

	// MinSectorExpiration is the minimum sector lifetime, measured from the
	// latest possible activation (180 days).
	MinSectorExpiration = 180 * EpochsInDay
	// MaxSectorExpirationExtension is the furthest a sector may expire from
	// the current epoch (1278 days).
	MaxSectorExpirationExtension = 1278 * EpochsInDay
	// SealProofSectorMaximumLifetime is the maximum lifetime of a V1_1,
	// Synthetic or NI-PoRep sector (5 years).
	SealProofSectorMaximumLifetime = 5 * EpochsInYear
	// MaxProveCommitNiLookback bounds the age of an NI-PoRep SealRandEpoch.
	MaxProveCommitNiLookback = 180 * EpochsInDay

	// WPoStProvingPeriod is the length of one proving period (a day).
	WPoStProvingPeriod = EpochsInDay
	// WPoStChallengeWindow is the length of one deadline (30 minutes).
	WPoStChallengeWindow = 60
	// WPoStPeriodDeadlines is the number of deadlines per proving period.
	WPoStPeriodDeadlines = 48
	// WPoStChallengeLookback is how far before a deadline opens its
	// challenge is drawn.
	WPoStChallengeLookback = 20
	// FaultDeclarationCutoff is how long before a deadline opens faults for
	// it must be declared.
	FaultDeclarationCutoff = 70

	// MaxSectorNumber is the largest valid sector number (2^63 − 1).
	MaxSectorNumber = 1<<63 - 1
	// MinAggregatedSectors and MaxAggregatedSectors bound a SnarkPackV2
	// aggregate in ProveCommitSectors3.
	MinAggregatedSectors = 4
	MaxAggregatedSectors = 819
	// MinAggregatedSectorsNI and MaxAggregatedSectorsNI bound the sectors of
	// one ProveCommitSectorsNI (builtin-actors runtime/src/runtime/policy.rs
	// MIN_AGGREGATED_SECTORS_NI, MAX_AGGREGATED_SECTORS_NI).
	MinAggregatedSectorsNI = 1
	MaxAggregatedSectorsNI = 65
	// MaxAggregatedProofSize is the largest aggregate proof accepted, bytes.
	MaxAggregatedProofSize = 81_960
)

// Policy carries the sealing timing parameters that vary by network. The
// zero value is not useful; start from [Mainnet] or [Devnet2K].
type Policy struct {
	// PreCommitChallengeDelay: pre-commit epoch → seed epoch.
	PreCommitChallengeDelay int64
	// SealRandomnessLookback: head → ticket epoch.
	SealRandomnessLookback int64
	// MaxPreCommitRandomnessLookback: oldest ticket accepted at pre-commit.
	MaxPreCommitRandomnessLookback int64
	// MaxProveCommitDuration: pre-commit epoch → last epoch to prove.
	MaxProveCommitDuration int64
	// InteractivePoRepConfidence: epochs to wait past the seed epoch.
	InteractivePoRepConfidence int64
}

// Mainnet is the policy of mainnet and calibnet (both use a 150-epoch
// challenge delay and 30 s epochs).
var Mainnet = Policy{
	PreCommitChallengeDelay:        PreCommitChallengeDelay,
	SealRandomnessLookback:         SealRandomnessLookback,
	MaxPreCommitRandomnessLookback: MaxPreCommitRandomnessLookback,
	MaxProveCommitDuration:         MaxProveCommitDuration,
	InteractivePoRepConfidence:     InteractivePoRepConfidence,
}

// Devnet2K is the policy of a Lotus 2k devnet built with "short-precommit":
// the challenge delay is 10 epochs and the prove-commit window shrinks by
// the same 140 epochs (max_prove_commit_duration includes the delay). The
// other values are the mainnet ones, as in the Lotus 2k build.
var Devnet2K = Policy{
	PreCommitChallengeDelay:        10,
	SealRandomnessLookback:         SealRandomnessLookback,
	MaxPreCommitRandomnessLookback: MaxPreCommitRandomnessLookback,
	MaxProveCommitDuration:         30*EpochsInDay + 10,
	InteractivePoRepConfidence:     InteractivePoRepConfidence,
}

// ErrTicketExpired is returned when a ticket is too old for a pre-commit
// executing at the given epoch; the sector must be re-sealed with a fresh
// ticket (PC1 depends on it).
var ErrTicketExpired = errors.New("rand: ticket too old for pre-commit")

// ErrTicketFromFuture is returned when a ticket epoch is not strictly before
// the pre-commit execution epoch.
var ErrTicketFromFuture = errors.New("rand: ticket epoch not before pre-commit epoch")

// TicketEpoch is the epoch Lotus draws the PoRep ticket at for a chain
// whose head is at height head.
func (p Policy) TicketEpoch(head int64) int64 { return head - p.SealRandomnessLookback }

// TicketValidThrough is the last epoch at which a pre-commit carrying a
// ticket drawn at ticketEpoch can still execute.
func (p Policy) TicketValidThrough(ticketEpoch int64) int64 {
	return ticketEpoch + p.MaxPreCommitRandomnessLookback
}

// CheckTicket applies the miner actor's rule
// curr − MaxPreCommitRandomnessLookback ≤ ticketEpoch < curr for a
// pre-commit executing at epoch curr.
func (p Policy) CheckTicket(ticketEpoch, curr int64) error {
	if ticketEpoch >= curr {
		return fmt.Errorf("rand: ticket epoch %d, pre-commit epoch %d: %w", ticketEpoch, curr, ErrTicketFromFuture)
	}
	if ticketEpoch < curr-p.MaxPreCommitRandomnessLookback {
		return fmt.Errorf("rand: ticket epoch %d, pre-commit epoch %d, lookback %d: %w",
			ticketEpoch, curr, p.MaxPreCommitRandomnessLookback, ErrTicketExpired)
	}
	return nil
}

// SeedEpoch is the interactive seed epoch for a sector pre-committed at
// preCommitEpoch (read PreCommitEpoch from StateSectorPreCommitInfo, not
// from the message receipt's tipset).
func (p Policy) SeedEpoch(preCommitEpoch int64) int64 {
	return preCommitEpoch + p.PreCommitChallengeDelay
}

// SeedReadyAt is the head height at which Lotus considers the seed settled
// enough to draw: SeedEpoch + InteractivePoRepConfidence.
func (p Policy) SeedReadyAt(preCommitEpoch int64) int64 {
	return p.SeedEpoch(preCommitEpoch) + p.InteractivePoRepConfidence
}

// ProveCommitWindow returns the epochs (first, last] within which a prove
// commit for a sector pre-committed at preCommitEpoch may execute: strictly
// after the seed epoch and at most preCommitEpoch + MaxProveCommitDuration.
func (p Policy) ProveCommitWindow(preCommitEpoch int64) (after, last int64) {
	return p.SeedEpoch(preCommitEpoch), preCommitEpoch + p.MaxProveCommitDuration
}

// PreCommitExpiry is the epoch after which an unproven pre-commit is
// expired; its deposit is burnt ExpiredPreCommitCleanUpDelay later.
func (p Policy) PreCommitExpiry(preCommitEpoch int64) int64 {
	return preCommitEpoch + p.MaxProveCommitDuration
}
