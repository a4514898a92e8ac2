package devnet

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/devnet/state"
	"github.com/sealant/sealant/rpc"
)

// Methods third-party Filecoin clients (iso-filecoin, zondax signing tools)
// call besides those chain/lotus uses. Each answers in the JSON shape of
// Lotus's documented example (documentation/en/api-methods-v1-stable.md,
// lotus b835fab); api_state_test.go checks them against it.

// consensusMinerMinPower is the 2k build's minimum power (lotus
// build/buildconstants/params_2k.go), as StateMinerPower's HasMinPower
// applies it: at least this much raw power, or any power while fewer than
// consensusMinerMinMiners miners have it.
const (
	consensusMinerMinPower  = 2048
	consensusMinerMinMiners = 4
)

// actorCodes are builtin-actors v18 code CIDs of Lotus's "devnet" bundle
// (lotus build/builtin_actors_gen.go), so clients that tell actors apart
// by code recognise them. The devnet's burnt-funds actor is an account on
// Lotus.
var actorCodes = map[state.Code]cid.Cid{
	state.CodeSystem:  cid.MustParse("bafk2bzacedced5maxljwmavukjvtnmknpzoullfcwk3upaz5x5hvvdl2pk24e"),
	state.CodeReward:  cid.MustParse("bafk2bzacedchalmz2omgitfunbqg5opzcvrlvju77k6dr5zt2poyy7jjzkvwa"),
	state.CodePower:   cid.MustParse("bafk2bzacebydegz3ap6xgejojdu3usfddhyrj476f25ooahgcqko6d7djynas"),
	state.CodeBurnt:   cid.MustParse("bafk2bzacedpmhtrp2kdjoga2phrbi3f7z7wn25s3tluxoagcu7hsg2ppktxbw"),
	state.CodeAccount: cid.MustParse("bafk2bzacedpmhtrp2kdjoga2phrbi3f7z7wn25s3tluxoagcu7hsg2ppktxbw"),
	state.CodeMiner:   cid.MustParse("bafk2bzacedhvcxgdz2w75izwa5s5dwvsrxsnzkjcbpbresziyrrjrsvjzwvxe"),
}

func apiStateNetworkName(_ context.Context, n *Node, params []json.RawMessage) (any, error) {
	if err := args(params); err != nil {
		return nil, err
	}
	return n.gen.NetworkName, nil
}

// minerPower is Lotus's api.MinerPower.
type minerPower struct {
	MinerPower  powerClaim
	TotalPower  powerClaim
	HasMinPower bool
}

type powerClaim struct {
	RawBytePower    types.BigInt
	QualityAdjPower types.BigInt
}

func claimOf(raw uint64) powerClaim {
	v := types.FromBig(new(big.Int).SetUint64(raw))
	return powerClaim{RawBytePower: v, QualityAdjPower: v}
}

// aboveMinPower counts the miners with at least consensusMinerMinPower.
func aboveMinPower(st *state.State) int64 {
	var n int64
	for _, a := range st.Actors {
		if a.Code == state.CodeMiner && a.Miner != nil && a.Miner.ActivePower() >= consensusMinerMinPower {
			n++
		}
	}
	return n
}

func apiStateMinerPower(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	a, tsk, err := addrTsk(params)
	if err != nil {
		return nil, err
	}
	return withState(ctx, n, tsk, func(st *state.State, _ int64) (any, error) {
		m, err := st.Miner(a)
		if err != nil {
			return nil, err
		}
		total := st.NetworkQAP()
		p := m.Miner.ActivePower()
		has := p >= consensusMinerMinPower || aboveMinPower(st) < consensusMinerMinMiners && p > 0
		return minerPower{MinerPower: claimOf(p), TotalPower: powerClaim{RawBytePower: total, QualityAdjPower: total}, HasMinPower: has}, nil
	})
}

// apiStateLookupRobustAddress returns the key address of an account given
// by ID, as Lotus reads it from the init actor. Devnet miners are not
// created through the init actor's Exec and have no robust address: Lotus
// answers "Address … not found" for such actors, and so does the devnet.
func apiStateLookupRobustAddress(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	a, tsk, err := addrTsk(params)
	if err != nil {
		return nil, err
	}
	if a.Protocol() != address.ID {
		return nil, fmt.Errorf("failed to decode provided address as id addr: %s is not an ID address", a)
	}
	return withState(ctx, n, tsk, func(st *state.State, _ int64) (any, error) {
		act, err := st.Lookup(a)
		if err != nil {
			return nil, err
		}
		if act.Code != state.CodeAccount {
			return nil, fmt.Errorf("Address %s not found", a)
		}
		return address.Parse(act.Key)
	})
}

// actorState is Lotus's api.ActorState.
type actorState struct {
	Balance types.BigInt
	Code    cid.Cid
	State   any
}

// placeholderCID stands for a HAMT/AMT root the devnet does not build (its
// state is not IPLD): deterministic, in the shape Lotus prints, but not
// loadable with ChainReadObj.
func placeholderCID(parts ...any) cid.Cid {
	b, _ := json.Marshal(parts)
	sum, err := mh.Sum(b, mh.BLAKE2B_MIN+31, -1)
	if err != nil {
		panic(err) // blake2b-256 is always registered
	}
	return cid.NewCidV1(cid.DagCBOR, sum)
}

// minerActorState is builtin-actors' miner State (go-state-types
// builtin/v16/miner), the JSON Lotus prints for StateReadState.
type minerActorState struct {
	Info                       cid.Cid
	PreCommitDeposits          types.BigInt
	LockedFunds                types.BigInt
	VestingFunds               cid.Cid
	FeeDebt                    types.BigInt
	InitialPledge              types.BigInt
	PreCommittedSectors        *cid.Cid
	PreCommittedSectorsCleanUp *cid.Cid
	AllocatedSectors           cid.Cid
	Sectors                    cid.Cid
	ProvingPeriodStart         types.ChainEpoch
	CurrentDeadline            uint64
	Deadlines                  cid.Cid
	EarlyTerminations          lotus.BitField
	DeadlineCronActive         bool
}

// powerActorState is builtin-actors' power State (go-state-types
// builtin/v16/power).
type powerActorState struct {
	TotalRawBytePower         types.BigInt
	TotalBytesCommitted       types.BigInt
	TotalQualityAdjPower      types.BigInt
	TotalQABytesCommitted     types.BigInt
	TotalPledgeCollateral     types.BigInt
	ThisEpochRawBytePower     types.BigInt
	ThisEpochQualityAdjPower  types.BigInt
	ThisEpochPledgeCollateral types.BigInt
	ThisEpochQAPowerSmoothed  filterEstimate
	MinerCount                int64
	MinerAboveMinPowerCount   int64
	RampStartEpoch            int64
	RampDurationEpochs        uint64
	CronEventQueue            cid.Cid
	FirstCronEpoch            types.ChainEpoch
	Claims                    cid.Cid
	ProofValidationBatch      *cid.Cid
}

// filterEstimate is smoothing.FilterEstimate: Q.128 fixed-point values.
type filterEstimate struct {
	PositionEstimate types.BigInt
	VelocityEstimate types.BigInt
}

// accountActorState is builtin-actors' account State.
type accountActorState struct {
	Address address.Address
}

func apiStateReadState(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	a, tsk, err := addrTsk(params)
	if err != nil {
		return nil, err
	}
	return withState(ctx, n, tsk, func(st *state.State, h int64) (any, error) {
		act, err := st.Lookup(a)
		if err != nil {
			return nil, err
		}
		out := actorState{Balance: nzBig(act.Balance), Code: actorCodes[act.Code]}
		switch act.Code {
		case state.CodeAccount:
			k, err := address.Parse(act.Key)
			if err != nil {
				return nil, err
			}
			out.State = accountActorState{Address: k}
		case state.CodeBurnt:
			out.State = accountActorState{Address: address.NewIDAddress(act.ID)}
		case state.CodeMiner:
			out.State = minerStateJSON(act, act.Miner.DeadlineInfo(n.policy, h))
		case state.CodePower:
			out.State = powerStateJSON(st)
		default:
			return nil, fmt.Errorf("devnet: StateReadState: the %s actor's state is not served (account, miner and power actors are)", act.Code)
		}
		return out, nil
	})
}

func nzBig(b types.BigInt) types.BigInt {
	if b.Int == nil {
		return types.Zero()
	}
	return b
}

func minerStateJSON(act *state.Actor, di lotus.DeadlineInfo) minerActorState {
	m := act.Miner
	id := act.ID
	var precommits *cid.Cid
	if len(m.PreCommits) > 0 {
		c := placeholderCID("precommits", id, m.PreCommits)
		precommits = &c
	}
	nums := make([]uint64, 0, len(m.Sectors))
	for k := range m.Sectors {
		nums = append(nums, k)
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	return minerActorState{
		Info:                placeholderCID("info", id, m.Info()),
		PreCommitDeposits:   nzBig(m.PreCommitDeposits),
		LockedFunds:         types.Zero(),
		VestingFunds:        placeholderCID("vesting", id),
		FeeDebt:             types.Zero(),
		InitialPledge:       nzBig(m.InitialPledge),
		PreCommittedSectors: precommits,
		AllocatedSectors:    placeholderCID("allocated", id, m.Allocated),
		Sectors:             placeholderCID("sectors", id, nums),
		ProvingPeriodStart:  di.PeriodStart,
		CurrentDeadline:     di.Index,
		Deadlines:           placeholderCID("deadlines", id, m.Deadlines),
		EarlyTerminations:   lotus.BitField{0},
		DeadlineCronActive:  len(m.Sectors) > 0 || len(m.PreCommits) > 0,
	}
}

func powerStateJSON(st *state.State) powerActorState {
	total := st.NetworkQAP()
	var miners int64
	pledge := new(big.Int)
	for _, a := range st.Actors {
		if a.Code == state.CodeMiner && a.Miner != nil {
			miners++
			if a.Miner.InitialPledge.Int != nil {
				pledge.Add(pledge, a.Miner.InitialPledge.Int)
			}
		}
	}
	q128 := new(big.Int).Lsh(new(big.Int).Set(total.Int), 128)
	return powerActorState{
		TotalRawBytePower: total, TotalBytesCommitted: total, TotalQualityAdjPower: total, TotalQABytesCommitted: total,
		TotalPledgeCollateral: types.FromBig(pledge),
		ThisEpochRawBytePower: total, ThisEpochQualityAdjPower: total, ThisEpochPledgeCollateral: types.FromBig(pledge),
		ThisEpochQAPowerSmoothed: filterEstimate{PositionEstimate: types.FromBig(q128), VelocityEstimate: types.Zero()},
		MinerCount:               miners, MinerAboveMinPowerCount: aboveMinPower(st),
		CronEventQueue: placeholderCID("power-cron"), Claims: placeholderCID("power-claims", total),
	}
}

// apiFilecoinAddressToEthAddress converts a Filecoin address to its Eth
// form, as Lotus does: an ID address (or an f1/f2/f3 resolved to its ID)
// becomes the masked ID address 0xff 00…00 <id, 8 bytes big-endian>; an
// f410 address its 20-byte sub-address. Params: [address, blkNum?] (the
// devnet has no reorgs, so blkNum only selects the head).
func apiFilecoinAddressToEthAddress(ctx context.Context, n *Node, params []json.RawMessage) (any, error) {
	var a address.Address
	var blk string
	if len(params) == 0 {
		return nil, fmt.Errorf("%w: want [address, blkNum?]", rpc.ErrInvalidParams)
	}
	if err := args(params, &a, &blk); err != nil {
		return nil, err
	}
	switch a.Protocol() {
	case address.ID:
		id, err := address.IDOf(a)
		if err != nil {
			return nil, err
		}
		return maskedID(id), nil
	case address.Delegated:
		p := a.Payload()
		ns, k := binary.Uvarint(p)
		if k <= 0 || ns != eamActorID || len(p)-k != 20 {
			return nil, fmt.Errorf("devnet: %s is not an Ethereum-compatible (f410) address", a)
		}
		return "0x" + hex.EncodeToString(p[k:]), nil
	}
	return withState(ctx, n, types.TipSetKey{}, func(st *state.State, _ int64) (any, error) {
		id, err := st.LookupID(a)
		if err != nil {
			return nil, err
		}
		n, _ := address.IDOf(id)
		return maskedID(n), nil
	})
}

// eamActorID is the Ethereum Address Manager's ID, the namespace of f410
// addresses.
const eamActorID = 10

func maskedID(id uint64) string {
	var b [20]byte
	b[0] = 0xff
	binary.BigEndian.PutUint64(b[12:], id)
	return "0x" + hex.EncodeToString(b[:])
}
