package state

import (
	"math/big"

	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
)

// Policy holds the chain parameters the actors check against. Defaults are
// mainnet values (builtin-actors runtime/policy.rs, miner/policy.rs) except
// where a devnet needs to be fast, which DefaultPolicy documents.
type Policy struct {
	// PreCommitChallengeDelay: pre-commit epoch → seed epoch (mainnet 150,
	// devnet default 10 as in Lotus 2k builds with "short-precommit").
	PreCommitChallengeDelay int64
	// MaxProveCommitDuration: the last epoch to prove is
	// PreCommitEpoch + this (mainnet 30 days + 150; it includes the delay).
	MaxProveCommitDuration int64
	// MaxPreCommitRandomnessLookback: oldest ticket accepted (2880 + 900).
	MaxPreCommitRandomnessLookback int64
	// MaxProveCommitNIRandomnessLookback: oldest SealRandEpoch an NI-PoRep
	// sector may use at ProveCommitSectorsNI (180 days).
	MaxProveCommitNIRandomnessLookback int64
	// ExpiredPreCommitCleanUpDelay: an unproven pre-commit is removed and its
	// deposit burnt this long after its prove-commit deadline (960).
	ExpiredPreCommitCleanUpDelay int64
	// MinSectorExpiration, MaxSectorExpirationExtension,
	// SectorMaximumLifetime bound a pre-commit's Expiration.
	MinSectorExpiration          int64
	MaxSectorExpirationExtension int64
	SectorMaximumLifetime        int64

	// WindowPoSt: WPoStPeriodDeadlines deadlines of WPoStChallengeWindow
	// epochs each make a proving period. Mainnet: 48 × 60.
	WPoStPeriodDeadlines   uint64
	WPoStChallengeWindow   int64
	WPoStChallengeLookback int64
	FaultDeclarationCutoff int64

	// BaseFee is the constant base fee in attoFIL.
	BaseFee types.BigInt
	// EpochReward is the (constant) block reward per epoch used by the
	// deposit and pledge formulas.
	EpochReward types.BigInt
	// BaselinePower is the network power floor (bytes) in those formulas.
	BaselinePower types.BigInt
	// CirculatingSupply is the circulating supply in the pledge formula.
	CirculatingSupply types.BigInt
}

// Chain-wide constants (mainnet values). The chain ones come from
// chain/rand, which owns the actor policy numbers, so the devnet cannot
// drift from what the manager and signer check.
const (
	EpochsInDay        = rand.EpochsInDay
	EpochsInYear       = rand.EpochsInYear
	MaxSectorNumber    = rand.MaxSectorNumber
	InitialPledgeDays  = 20 // INITIAL_PLEDGE_PROJECTION_PERIOD and deposit projection
	QAPowerMaxMultiple = 10 // pre-commit deposit assumes max verified multiplier
)

// DefaultPolicy returns the devnet defaults: mainnet rules with a 10-epoch
// challenge delay (Lotus 2k devnet "short-precommit") and a 20-epoch
// WindowPoSt challenge window so a proving period is 960 epochs.
func DefaultPolicy() Policy {
	return Policy{
		PreCommitChallengeDelay:            rand.Devnet2K.PreCommitChallengeDelay,
		MaxProveCommitDuration:             rand.Devnet2K.MaxProveCommitDuration,
		MaxPreCommitRandomnessLookback:     rand.MaxPreCommitRandomnessLookback,
		MaxProveCommitNIRandomnessLookback: rand.MaxProveCommitNiLookback,
		ExpiredPreCommitCleanUpDelay:       rand.ExpiredPreCommitCleanUpDelay,
		MinSectorExpiration:                rand.MinSectorExpiration,
		MaxSectorExpirationExtension:       rand.MaxSectorExpirationExtension,
		SectorMaximumLifetime:              rand.SealProofSectorMaximumLifetime,
		WPoStPeriodDeadlines:               rand.WPoStPeriodDeadlines,
		WPoStChallengeWindow:               20, // mainnet 60: a short proving period for tests
		WPoStChallengeLookback:             rand.WPoStChallengeLookback,
		FaultDeclarationCutoff:             rand.FaultDeclarationCutoff,
		BaseFee:                            types.NewInt(100),
		EpochReward:                        types.FromFil(20),
		BaselinePower:                      types.NewInt(1 << 50), // 1 PiB
		CirculatingSupply:                  types.FromFil(500_000_000),
	}
}

// ProvingPeriod is the length of a WindowPoSt proving period in epochs.
func (p Policy) ProvingPeriod() int64 {
	return int64(p.WPoStPeriodDeadlines) * p.WPoStChallengeWindow
}

// expectedReward is EpochReward × qap / max(networkQAP, baseline) × days.
func (p Policy) expectedReward(qap, networkQAP *big.Int, days int64) *big.Int {
	den := new(big.Int).Set(p.BaselinePower.Int)
	if networkQAP.Cmp(den) > 0 {
		den.Set(networkQAP)
	}
	r := new(big.Int).Mul(p.EpochReward.Int, qap)
	r.Mul(r, big.NewInt(days*EpochsInDay))
	return r.Quo(r, den)
}

// PreCommitDeposit is the deposit per sector of the given size:
// the expected reward of InitialPledgeDays for 10× the sector's raw power
// (builtin-actors pre_commit_deposit_for_power with qa_power_max), with the
// devnet's constant reward and baseline:
//
//	deposit = EpochReward × 10·size × 20·2880 / max(networkQAP, BaselinePower)
func (p Policy) PreCommitDeposit(sectorSize uint64, networkQAP types.BigInt) types.BigInt {
	qap := new(big.Int).SetUint64(sectorSize)
	qap.Mul(qap, big.NewInt(QAPowerMaxMultiple))
	return types.FromBig(p.expectedReward(qap, bigOr0(networkQAP), InitialPledgeDays))
}

// InitialPledge is the pledge locked when a sector of qaPower bytes activates
// (builtin-actors initial_pledge_for_power without the ramp):
//
//	pledge = EpochReward × qap × 20·2880 / max(networkQAP, BaselinePower)
//	       + 0.3 × CirculatingSupply × qap / max(networkQAP, BaselinePower)
func (p Policy) InitialPledge(qaPower uint64, networkQAP types.BigInt) types.BigInt {
	qap := new(big.Int).SetUint64(qaPower)
	storage := p.expectedReward(qap, bigOr0(networkQAP), InitialPledgeDays)
	den := new(big.Int).Set(p.BaselinePower.Int)
	if n := bigOr0(networkQAP); n.Cmp(den) > 0 {
		den.Set(n)
	}
	cons := new(big.Int).Mul(p.CirculatingSupply.Int, qap)
	cons.Mul(cons, big.NewInt(3))
	cons.Quo(cons, new(big.Int).Mul(den, big.NewInt(10)))
	return types.FromBig(storage.Add(storage, cons))
}

// ExpectedDayReward is one day of expected reward for qaPower bytes.
func (p Policy) ExpectedDayReward(qaPower uint64, networkQAP types.BigInt) types.BigInt {
	return types.FromBig(p.expectedReward(new(big.Int).SetUint64(qaPower), bigOr0(networkQAP), 1))
}

func bigOr0(b types.BigInt) *big.Int {
	if b.Int == nil {
		return new(big.Int)
	}
	return b.Int
}
