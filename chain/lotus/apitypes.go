package lotus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/filecoin-project/go-state-types/dline"
	"github.com/filecoin-project/go-state-types/network"

	"github.com/google/uuid"
	"github.com/ipfs/go-cid"
	"golang.org/x/crypto/blake2b"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/bitfield"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/types"
)

// The types below mirror the JSON shapes of Lotus api/ and go-state-types
// as documented in lotus documentation/en/api-methods-v1-stable.md. Field
// names are the JSON names; unknown fields are ignored on decode so newer
// nodes stay compatible.

// TipSet is a set of blocks at one height (Lotus types.TipSet JSON).
type TipSet struct {
	Cids   []cid.Cid
	Blocks []BlockHeader
	Height types.ChainEpoch
}

// Key returns the tipset key (the block CIDs in order).
func (ts *TipSet) Key() types.TipSetKey { return types.NewTipSetKey(ts.Cids...) }

// MinTicketBlock returns the block with the smallest ticket: the one whose
// blake2b-256(Ticket.VRFProof) is lexicographically smallest, ties broken
// by block CID bytes (Lotus types.Ticket.Less and TipSet.MinTicketBlock).
// Its ticket is the randomness base for "from tickets" randomness.
func (ts *TipSet) MinTicketBlock() (*BlockHeader, error) {
	if len(ts.Blocks) == 0 {
		return nil, fmt.Errorf("lotus: tipset at %d has no blocks: %w", ts.Height, ErrBadResponse)
	}
	best := -1
	var bestDigest [32]byte
	for i := range ts.Blocks {
		b := &ts.Blocks[i]
		if b.Ticket == nil {
			return nil, fmt.Errorf("lotus: block %d of tipset at %d has no ticket: %w", i, ts.Height, ErrBadResponse)
		}
		d := blake2b.Sum256(b.Ticket.VRFProof)
		if best < 0 {
			best, bestDigest = i, d
			continue
		}
		switch c := bytes.Compare(d[:], bestDigest[:]); {
		case c < 0:
			best, bestDigest = i, d
		case c == 0 && i < len(ts.Cids) && best < len(ts.Cids) &&
			bytes.Compare(ts.Cids[i].Bytes(), ts.Cids[best].Bytes()) < 0:
			best = i
		}
	}
	return &ts.Blocks[best], nil
}

// BlockHeader is a block header (Lotus types.BlockHeader JSON).
type BlockHeader struct {
	Miner                 address.Address
	Ticket                *Ticket
	ElectionProof         *ElectionProof
	BeaconEntries         []BeaconEntry
	WinPoStProof          []PoStProof
	Parents               []cid.Cid
	ParentWeight          types.BigInt
	Height                types.ChainEpoch
	ParentStateRoot       cid.Cid
	ParentMessageReceipts cid.Cid
	Messages              cid.Cid
	BLSAggregate          *types.Signature
	Timestamp             uint64
	BlockSig              *types.Signature
	ForkSignaling         uint64
	ParentBaseFee         types.BigInt
}

// Ticket is a block's VRF ticket.
type Ticket struct {
	VRFProof []byte
}

// ElectionProof is a block's election VRF output.
type ElectionProof struct {
	WinCount int64
	VRFProof []byte
}

// BeaconEntry is a drand round included in a block.
type BeaconEntry struct {
	Round uint64
	Data  []byte
}

// PoStProof is a winning PoSt proof (PoStProof is the registered proof type).
type PoStProof struct {
	PoStProof  int64
	ProofBytes []byte
}

// Head change kinds sent by ChainNotify.
const (
	HCCurrent = "current"
	HCApply   = "apply"
	HCRevert  = "revert"
)

// HeadChange is one ChainNotify event.
type HeadChange struct {
	Type string
	Val  *TipSet
}

// NetworkVersion is the network version (e.g. 28 = FireHorse; go-state-types network).
type NetworkVersion = network.Version

// MinerInfo is the result of StateMinerInfo. Owner, Worker and control
// addresses are ID addresses; resolve them with StateAccountKey to find
// the signing key.
type MinerInfo struct {
	Owner                      address.Address
	Worker                     address.Address
	NewWorker                  address.Address
	ControlAddresses           []address.Address
	WorkerChangeEpoch          types.ChainEpoch
	PeerId                     *string //nolint:revive // Lotus JSON name
	Multiaddrs                 [][]byte
	WindowPoStProofType        int64
	SectorSize                 uint64
	WindowPoStPartitionSectors uint64
	ConsensusFaultElapsed      types.ChainEpoch
	PendingOwnerAddress        *address.Address
	Beneficiary                address.Address
	BeneficiaryTerm            *BeneficiaryTerm
	PendingBeneficiaryTerm     *PendingBeneficiaryChange
}

// BeneficiaryTerm is the active beneficiary quota.
type BeneficiaryTerm struct {
	Quota      types.BigInt
	UsedQuota  types.BigInt
	Expiration types.ChainEpoch
}

// PendingBeneficiaryChange is a proposed beneficiary change.
type PendingBeneficiaryChange struct {
	NewBeneficiary        address.Address
	NewQuota              types.BigInt
	NewExpiration         types.ChainEpoch
	ApprovedByBeneficiary bool
	ApprovedByNominee     bool
}

// SectorPreCommitInfo is the pre-commit a miner declared (go-state-types
// miner SectorPreCommitInfo, as in Lotus). UnsealedCid is nil for CC sectors.
type SectorPreCommitInfo = miner.SectorPreCommitInfo

// SectorPreCommitOnChainInfo is the result of StateSectorPreCommitInfo.
// PreCommitEpoch is the epoch the pre-commit executed, the base of the
// seed epoch.
type SectorPreCommitOnChainInfo struct {
	Info             SectorPreCommitInfo
	PreCommitDeposit types.BigInt
	PreCommitEpoch   types.ChainEpoch
}

// SectorOnChainInfo is the result of StateSectorGetInfo.
type SectorOnChainInfo struct {
	SectorNumber          uint64
	SealProof             int64
	SealedCID             cid.Cid
	DealIDs               []uint64
	Activation            types.ChainEpoch
	Expiration            types.ChainEpoch
	DealWeight            types.BigInt
	VerifiedDealWeight    types.BigInt
	InitialPledge         types.BigInt
	ExpectedDayReward     types.BigInt
	ExpectedStoragePledge types.BigInt
	PowerBaseEpoch        types.ChainEpoch
	ReplacedDayReward     types.BigInt
	SectorKeyCID          *cid.Cid
	Flags                 uint64
	DailyFee              types.BigInt
}

// DeadlineInfo is the result of StateMinerProvingDeadline (go-state-types
// dline.Info, as in Lotus).
type DeadlineInfo = dline.Info

// Partition is one partition of a deadline (StateMinerPartitions).
type Partition struct {
	AllSectors        BitField
	FaultySectors     BitField
	RecoveringSectors BitField
	LiveSectors       BitField
	ActiveSectors     BitField
}

// BitField is go-bitfield's JSON form: run lengths alternating unset and
// set, starting with an unset run. {2,3} is [2,2]; {0,1,2,8,9} is
// [0,3,5,2]; the empty set is [0] (or []).
//
// It stays a plain slice so that a value decoded from a node can be held
// and re-encoded without validation; Slice and Decode validate it through
// chain/bitfield, which owns the run-length rules.
type BitField []uint64

// BitFieldFromSet returns the run-length form of set (any order,
// duplicates allowed). Index 2^64-1 cannot be represented and yields an
// error wrapping bitfield.ErrOverflow.
func BitFieldFromSet(set []uint64) (BitField, error) {
	b, err := bitfield.NewFromSet(set)
	if err != nil {
		return nil, fmt.Errorf("lotus: bitfield: %w", err)
	}
	return BitFieldOf(b)
}

// BitFieldOf returns the run-length form of b; the empty set is [0], as
// go-bitfield writes it.
func BitFieldOf(b bitfield.BitField) (BitField, error) {
	runs, err := bitfield.Runs(b)
	if err != nil {
		return nil, fmt.Errorf("lotus: bitfield: %w", err)
	}
	if len(runs) == 0 {
		return BitField{0}, nil
	}
	return BitField(runs), nil
}

// Decode validates the runs (only the first may be zero, the total must
// fit a uint64) and returns the set. A malformed value from a node yields
// an error wrapping both ErrBadResponse and bitfield.ErrInvalid.
func (bf BitField) Decode() (bitfield.BitField, error) {
	b, err := bitfield.FromRuns(bf)
	if err != nil {
		return bitfield.BitField{}, fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	return b, nil
}

// Count returns the number of set bits. It does not validate the runs.
func (bf BitField) Count() uint64 {
	var n uint64
	for i := 1; i < len(bf); i += 2 {
		n += bf[i]
	}
	return n
}

// Slice expands the set bits in increasing order. It fails (wrapping
// ErrBadResponse) if the runs are malformed or the set has more than limit
// members, so a hostile node cannot make the client allocate without
// bound.
func (bf BitField) Slice(limit uint64) ([]uint64, error) {
	b, err := bf.Decode()
	if err != nil {
		return nil, err
	}
	if empty, err := b.IsEmpty(); err == nil && empty {
		return nil, nil
	}
	out, err := b.All(limit)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	return out, nil
}

// MarshalJSON writes [0] for an empty bitfield, as go-bitfield does.
func (bf BitField) MarshalJSON() ([]byte, error) {
	if len(bf) == 0 {
		return []byte("[0]"), nil
	}
	return json.Marshal([]uint64(bf))
}

// MessageSendSpec bounds fees for GasEstimateMessageGas (and
// MpoolPushMessage). A zero MaxFee means "node default".
type MessageSendSpec struct {
	MaxFee         types.BigInt
	MsgUuid        uuid.UUID //nolint:revive // Lotus JSON name
	MaximizeFeeCap bool
}

// Version is the result of Filecoin.Version.
type Version struct {
	Version    string
	APIVersion uint32
	BlockDelay uint64
	Agent      string
}
