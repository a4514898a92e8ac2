package signer

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
)

// ErrPolicy: a policy file is malformed or incomplete.
var ErrPolicy = errors.New("signer: invalid policy")

// EpochsPerDay is the number of 30-second epochs in a day.
const EpochsPerDay = rand.EpochsInDay

// maxTicketLookback bounds how old a PreCommit's SealRandEpoch may be
// (builtin-actors: 2880 + 900 epochs); it is the slack allowed between a
// sector's ticket epoch and the epoch its expiration is measured from.
const maxTicketLookback = rand.MaxPreCommitRandomnessLookback

// DefaultMethods are the miner methods a signer allows when the policy
// lists none: PreCommitSectorBatch2, ProveCommitSectors3,
// ProveCommitSectorsNI (NI-PoRep, FIP-0092), SubmitWindowedPoSt and
// DeclareFaultsRecovered.
var DefaultMethods = []uint64{28, 34, 36, 5, 11}

// checkedMethods are the miner methods whose params the policy inspects;
// only they may be allowed.
var checkedMethods = map[types.MethodNum]bool{
	miner.MethodSubmitWindowedPoSt: true, miner.MethodDeclareFaultsRecovered: true,
	miner.MethodWithdrawBalance: true, miner.MethodPreCommitSectorBatch2: true,
	miner.MethodProveCommitSectors3: true, miner.MethodProveCommitSectorsNI: true,
}

// PolicyFile is the TOML policy as written by the operator. Amounts are
// FIL decimal strings ("0.5", "0.5 FIL"); "0" forbids any amount. The value
// and fee caps are required, so that forgetting one never means "no limit".
type PolicyFile struct {
	// Miners are the miner actors (To) the signer signs for, as ID
	// addresses ("f01000").
	Miners []string `toml:"miners"`
	// Methods are the allowed method numbers (default DefaultMethods).
	Methods []uint64 `toml:"methods"`
	// Senders optionally restricts From to a subset of the keystore.
	Senders []string `toml:"senders"`

	MaxValuePerMessage string `toml:"max_value_per_message"`
	MaxValuePerDay     string `toml:"max_value_per_day"`
	// MaxGasFeeCap and MaxGasPremium are attoFIL-per-gas caps as FIL
	// decimals (e.g. "0.000000001" = 1 nanoFIL).
	MaxGasFeeCap  string `toml:"max_gas_fee_cap"`
	MaxGasPremium string `toml:"max_gas_premium"`
	// MaxFeePerMessage caps GasFeeCap × GasLimit, the most a message can
	// cost in gas; MaxFeePerDay caps the daily sum of it.
	MaxFeePerMessage string `toml:"max_fee_per_message"`
	MaxFeePerDay     string `toml:"max_fee_per_day"`
	// MaxGasLimit (default the block gas limit).
	MaxGasLimit int64 `toml:"max_gas_limit"`
	// MaxMessageBytes caps the signed message size (default the 64 KiB
	// mpool limit of mainnet). Only a Sealant devnet, whose devnet proofs
	// replace SNARKs, needs more (its mpool takes up to 32 MiB).
	MaxMessageBytes int `toml:"max_message_bytes"`

	Sectors SectorPolicyFile `toml:"sectors"`
}

// SectorPolicyFile holds the params sanity rules.
type SectorPolicyFile struct {
	// Numbers are the sector-number ranges of the tenant ("1000-1999",
	// "42"); required when a sector-naming method is allowed.
	Numbers []string `toml:"numbers"`
	// MaxPerMessage bounds the sectors in one message (default 256 for
	// PreCommit; ProveCommit aggregates allow up to 819).
	MaxPerMessage int `toml:"max_per_message"`
	// ExpirationMinDays / ExpirationMaxDays bound Expiration −
	// SealRandEpoch (defaults 180 and 1278 days, the actor's limits, with
	// the ticket-lookback slack added to the maximum).
	ExpirationMinDays int64 `toml:"expiration_min_days"`
	ExpirationMaxDays int64 `toml:"expiration_max_days"`
	// SealProofs are the allowed RegisteredSealProof values (default
	// 5–19: V1_1, synthetic and NI-PoRep of every size).
	SealProofs []int64 `toml:"seal_proofs"`
	// AllowDeals permits legacy market DealIDs in PreCommits.
	AllowDeals bool `toml:"allow_deals"`
	// NotifyActors are the actors ProveCommitSectors3 pieces may notify
	// (default the market actor f05).
	NotifyActors []string `toml:"notify_actors"`
}

// Policy is a checked, ready-to-evaluate policy.
type Policy struct {
	miners        map[address.Address]bool
	methods       map[types.MethodNum]bool
	senders       map[address.Address]bool
	maxValueMsg   types.BigInt
	maxValueDay   types.BigInt
	maxFeeCap     types.BigInt
	maxPremium    types.BigInt
	maxFeeMsg     types.BigInt
	maxFeeDay     types.BigInt
	maxGasLimit   int64
	maxMsgBytes   int
	ranges        []sectorRange
	maxSectors    int
	expMin        int64
	expMax        int64
	sealProofs    map[miner.RegisteredSealProof]bool
	allowDeals    bool
	notifyActors  map[address.Address]bool
	methodsSorted []uint64
}

type sectorRange struct{ lo, hi uint64 }

// LoadPolicy reads and checks a TOML policy file.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signer: policy: %w", err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return p, nil
}

// ParsePolicy parses and checks a TOML policy. Unknown keys are errors: a
// misspelt cap must not silently mean "no cap".
func ParsePolicy(data []byte) (*Policy, error) {
	var f PolicyFile
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPolicy, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("%w: unknown keys %s", ErrPolicy, strings.Join(keys, ", "))
	}
	return f.Compile()
}

func parseAmount(name, s string) (types.BigInt, error) {
	if strings.TrimSpace(s) == "" {
		return types.BigInt{}, fmt.Errorf("%w: %s is required (use \"0\" to forbid)", ErrPolicy, name)
	}
	v, err := types.ParseFIL(strings.TrimSpace(s))
	if err != nil {
		return types.BigInt{}, fmt.Errorf("%w: %s: %v", ErrPolicy, name, err)
	}
	if v.Sign() < 0 {
		return types.BigInt{}, fmt.Errorf("%w: %s is negative", ErrPolicy, name)
	}
	return v, nil
}

func parseRange(s string) (sectorRange, error) {
	s = strings.TrimSpace(s)
	lo, hi, found := strings.Cut(s, "-")
	a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
	if err != nil {
		return sectorRange{}, fmt.Errorf("%w: sector range %q", ErrPolicy, s)
	}
	b := a
	if found {
		if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 64); err != nil || b < a {
			return sectorRange{}, fmt.Errorf("%w: sector range %q", ErrPolicy, s)
		}
	}
	return sectorRange{a, b}, nil
}

// Compile checks f and returns the evaluable policy.
func (f *PolicyFile) Compile() (*Policy, error) {
	p := &Policy{miners: map[address.Address]bool{}, methods: map[types.MethodNum]bool{},
		senders: map[address.Address]bool{}, sealProofs: map[miner.RegisteredSealProof]bool{},
		notifyActors: map[address.Address]bool{}}
	if len(f.Miners) == 0 {
		return nil, fmt.Errorf("%w: miners is empty", ErrPolicy)
	}
	for _, s := range f.Miners {
		a, err := address.Parse(s)
		if err != nil || a.Protocol() != address.ID {
			return nil, fmt.Errorf("%w: miner %q is not an ID address", ErrPolicy, s)
		}
		p.miners[a] = true
	}
	methods := f.Methods
	if len(methods) == 0 {
		methods = DefaultMethods
	}
	for _, m := range methods {
		mn := types.MethodNum(m)
		if !checkedMethods[mn] {
			return nil, fmt.Errorf("%w: method %d (%s) has no params checks; the signer only signs params it can inspect (5, 11, 16, 28, 34, 36)", ErrPolicy, m, miner.MethodName(mn))
		}
		p.methods[mn] = true
		p.methodsSorted = append(p.methodsSorted, m)
	}
	sort.Slice(p.methodsSorted, func(i, j int) bool { return p.methodsSorted[i] < p.methodsSorted[j] })
	for _, s := range f.Senders {
		a, err := address.Parse(s)
		if err != nil || (a.Protocol() != address.SECP256K1 && a.Protocol() != address.BLS) {
			return nil, fmt.Errorf("%w: sender %q is not an f1/f3 address", ErrPolicy, s)
		}
		p.senders[a] = true
	}
	var err error
	for _, x := range []struct {
		dst  *types.BigInt
		name string
		val  string
	}{
		{&p.maxValueMsg, "max_value_per_message", f.MaxValuePerMessage},
		{&p.maxValueDay, "max_value_per_day", f.MaxValuePerDay},
		{&p.maxFeeCap, "max_gas_fee_cap", f.MaxGasFeeCap},
		{&p.maxPremium, "max_gas_premium", f.MaxGasPremium},
		{&p.maxFeeMsg, "max_fee_per_message", f.MaxFeePerMessage},
		{&p.maxFeeDay, "max_fee_per_day", f.MaxFeePerDay},
	} {
		if *x.dst, err = parseAmount(x.name, x.val); err != nil {
			return nil, err
		}
	}
	p.maxMsgBytes = f.MaxMessageBytes
	if p.maxMsgBytes <= 0 {
		p.maxMsgBytes = types.MaxMessageSize
	}
	p.maxGasLimit = f.MaxGasLimit
	if p.maxGasLimit <= 0 || p.maxGasLimit > types.BlockGasLimit {
		p.maxGasLimit = types.BlockGasLimit
	}
	sp := f.Sectors
	for _, s := range sp.Numbers {
		r, err := parseRange(s)
		if err != nil {
			return nil, err
		}
		p.ranges = append(p.ranges, r)
	}
	for _, m := range []types.MethodNum{miner.MethodPreCommitSectorBatch2, miner.MethodProveCommitSectors3,
		miner.MethodProveCommitSectorsNI, miner.MethodDeclareFaultsRecovered} {
		if p.methods[m] && len(p.ranges) == 0 {
			return nil, fmt.Errorf("%w: method %d names sectors but sectors.numbers is empty", ErrPolicy, m)
		}
	}
	p.maxSectors = sp.MaxPerMessage
	if p.maxSectors <= 0 {
		p.maxSectors = rand.MaxAggregatedSectors
	}
	p.expMin, p.expMax = sp.ExpirationMinDays*EpochsPerDay, sp.ExpirationMaxDays*EpochsPerDay
	if sp.ExpirationMinDays <= 0 {
		p.expMin = rand.MinSectorExpiration
	}
	if sp.ExpirationMaxDays <= 0 {
		p.expMax = rand.MaxSectorExpirationExtension + maxTicketLookback
	}
	if p.expMin > p.expMax {
		return nil, fmt.Errorf("%w: expiration_min_days > expiration_max_days", ErrPolicy)
	}
	proofs := sp.SealProofs
	if len(proofs) == 0 {
		for i := int64(5); i <= 19; i++ {
			proofs = append(proofs, i)
		}
	}
	for _, sp := range proofs {
		if _, err := miner.RegisteredSealProof(sp).SectorSize(); err != nil {
			return nil, fmt.Errorf("%w: seal proof %d: %v", ErrPolicy, sp, err)
		}
		p.sealProofs[miner.RegisteredSealProof(sp)] = true
	}
	p.allowDeals = sp.AllowDeals
	notify := sp.NotifyActors
	if notify == nil {
		notify = []string{"f05"}
	}
	for _, s := range notify {
		a, err := address.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("%w: notify actor %q: %v", ErrPolicy, s, err)
		}
		p.notifyActors[a] = true
	}
	return p, nil
}

func (p *Policy) inRange(n uint64) bool {
	for _, r := range p.ranges {
		if n >= r.lo && n <= r.hi {
			return true
		}
	}
	return false
}

// PolicyTemplate is the commented policy `sealant signer init` writes.
const PolicyTemplate = `# Sealant signer policy. Every sign request is decoded and checked against
# these rules before a key is used; anything else is refused with a reason.

# Miner actors (message To) this signer signs for.
miners = ["f01000"]

# Allowed miner methods: 28 PreCommitSectorBatch2, 34 ProveCommitSectors3,
# 36 ProveCommitSectorsNI (NI-PoRep), 5 SubmitWindowedPoSt,
# 11 DeclareFaultsRecovered.
methods = [28, 34, 36, 5, 11]

# Optional: restrict senders to some of the keystore's addresses.
# senders = ["f3..."]

# Caps in FIL. All are required; "0" forbids.
max_value_per_message = "5"      # deposit / pledge sent with one message
max_value_per_day     = "50"
max_gas_fee_cap       = "0.000001" # per gas unit (1000 nanoFIL)
max_gas_premium       = "0.0000002"
max_fee_per_message   = "0.5"    # GasFeeCap x GasLimit
max_fee_per_day       = "5"

[sectors]
# The tenant's sector-number range(s) on this miner.
numbers = ["0-999999"]
max_per_message = 256
expiration_min_days = 180
expiration_max_days = 1278
# seal_proofs = [8, 13]          # default: 5..19
# allow_deals = false
# notify_actors = ["f05"]
`
