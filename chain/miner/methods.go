package miner

import (
	"github.com/filecoin-project/go-state-types/abi"
	"github.com/filecoin-project/go-state-types/builtin/v17/verifreg"

	"github.com/sealant/sealant/chain/types"
)

// Miner actor method numbers (builtin-actors actors/miner Method enum).
// Methods marked removed fail with USR_UNHANDLED_MESSAGE (22) on current
// networks; they are kept for decoding old messages.
const (
	// MethodSend (0) is the plain value transfer every actor accepts;
	// Lotus names it "Send".
	MethodSend                       types.MethodNum = 0
	MethodConstructor                types.MethodNum = 1
	MethodControlAddresses           types.MethodNum = 2
	MethodChangeWorkerAddress        types.MethodNum = 3
	MethodChangePeerID               types.MethodNum = 4
	MethodSubmitWindowedPoSt         types.MethodNum = 5
	MethodPreCommitSector            types.MethodNum = 6 // removed nv22
	MethodProveCommitSector          types.MethodNum = 7 // removed nv23
	MethodExtendSectorExpiration     types.MethodNum = 8 // removed nv27
	MethodTerminateSectors           types.MethodNum = 9
	MethodDeclareFaults              types.MethodNum = 10
	MethodDeclareFaultsRecovered     types.MethodNum = 11
	MethodOnDeferredCronEvent        types.MethodNum = 12
	MethodCheckSectorProven          types.MethodNum = 13
	MethodApplyRewards               types.MethodNum = 14
	MethodReportConsensusFault       types.MethodNum = 15
	MethodWithdrawBalance            types.MethodNum = 16
	MethodInternalSectorSetupPreseal types.MethodNum = 17
	MethodChangeMultiaddrs           types.MethodNum = 18
	MethodCompactPartitions          types.MethodNum = 19
	MethodCompactSectorNumbers       types.MethodNum = 20
	MethodConfirmChangeWorkerAddress types.MethodNum = 21
	MethodRepayDebt                  types.MethodNum = 22
	MethodChangeOwnerAddress         types.MethodNum = 23
	MethodDisputeWindowedPoSt        types.MethodNum = 24
	MethodPreCommitSectorBatch       types.MethodNum = 25 // removed nv22
	MethodProveCommitAggregate       types.MethodNum = 26 // removed nv27
	MethodProveReplicaUpdates        types.MethodNum = 27 // removed nv27
	MethodPreCommitSectorBatch2      types.MethodNum = 28
	MethodProveReplicaUpdates2       types.MethodNum = 29 // removed nv22
	MethodChangeBeneficiary          types.MethodNum = 30
	MethodGetBeneficiary             types.MethodNum = 31
	MethodExtendSectorExpiration2    types.MethodNum = 32
	MethodProveCommitSectors3        types.MethodNum = 34
	MethodProveReplicaUpdates3       types.MethodNum = 35
	MethodProveCommitSectorsNI       types.MethodNum = 36
)

var methodNames = map[types.MethodNum]string{
	MethodSend:                       "Send",
	MethodConstructor:                "Constructor",
	MethodControlAddresses:           "ControlAddresses",
	MethodChangeWorkerAddress:        "ChangeWorkerAddress",
	MethodChangePeerID:               "ChangePeerID",
	MethodSubmitWindowedPoSt:         "SubmitWindowedPoSt",
	MethodPreCommitSector:            "PreCommitSector",
	MethodProveCommitSector:          "ProveCommitSector",
	MethodExtendSectorExpiration:     "ExtendSectorExpiration",
	MethodTerminateSectors:           "TerminateSectors",
	MethodDeclareFaults:              "DeclareFaults",
	MethodDeclareFaultsRecovered:     "DeclareFaultsRecovered",
	MethodOnDeferredCronEvent:        "OnDeferredCronEvent",
	MethodCheckSectorProven:          "CheckSectorProven",
	MethodApplyRewards:               "ApplyRewards",
	MethodReportConsensusFault:       "ReportConsensusFault",
	MethodWithdrawBalance:            "WithdrawBalance",
	MethodInternalSectorSetupPreseal: "InternalSectorSetupForPreseal",
	MethodChangeMultiaddrs:           "ChangeMultiaddrs",
	MethodCompactPartitions:          "CompactPartitions",
	MethodCompactSectorNumbers:       "CompactSectorNumbers",
	MethodConfirmChangeWorkerAddress: "ConfirmChangeWorkerAddress",
	MethodRepayDebt:                  "RepayDebt",
	MethodChangeOwnerAddress:         "ChangeOwnerAddress",
	MethodDisputeWindowedPoSt:        "DisputeWindowedPoSt",
	MethodPreCommitSectorBatch:       "PreCommitSectorBatch",
	MethodProveCommitAggregate:       "ProveCommitAggregate",
	MethodProveReplicaUpdates:        "ProveReplicaUpdates",
	MethodPreCommitSectorBatch2:      "PreCommitSectorBatch2",
	MethodProveReplicaUpdates2:       "ProveReplicaUpdates2",
	MethodChangeBeneficiary:          "ChangeBeneficiary",
	MethodGetBeneficiary:             "GetBeneficiary",
	MethodExtendSectorExpiration2:    "ExtendSectorExpiration2",
	MethodProveCommitSectors3:        "ProveCommitSectors3",
	MethodProveReplicaUpdates3:       "ProveReplicaUpdates3",
	MethodProveCommitSectorsNI:       "ProveCommitSectorsNI",
}

// MethodName returns the miner actor method name for m, or "" if unknown.
func MethodName(m types.MethodNum) string { return methodNames[m] }

// Sector, deal, piece and allocation numbers (go-state-types abi, verifreg).
type (
	SectorNumber    = abi.SectorNumber
	DealID          = abi.DealID
	PaddedPieceSize = abi.PaddedPieceSize
	AllocationID    = verifreg.AllocationId
)

// TokenAmount is an amount of attoFIL in actor params (go-state-types abi).
type TokenAmount = abi.TokenAmount

// RegisteredSealProof selects the PoRep algorithm and sector size
// (go-state-types abi; its methods give sector and proof sizes).
type RegisteredSealProof = abi.RegisteredSealProof

// Seal proof types, under the names Sealant's code uses.
const (
	RegisteredSealProofStackedDrg2KiBV1   = abi.RegisteredSealProof_StackedDrg2KiBV1
	RegisteredSealProofStackedDrg8MiBV1   = abi.RegisteredSealProof_StackedDrg8MiBV1
	RegisteredSealProofStackedDrg512MiBV1 = abi.RegisteredSealProof_StackedDrg512MiBV1
	RegisteredSealProofStackedDrg32GiBV1  = abi.RegisteredSealProof_StackedDrg32GiBV1
	RegisteredSealProofStackedDrg64GiBV1  = abi.RegisteredSealProof_StackedDrg64GiBV1

	RegisteredSealProofStackedDrg2KiBV1_1   = abi.RegisteredSealProof_StackedDrg2KiBV1_1
	RegisteredSealProofStackedDrg8MiBV1_1   = abi.RegisteredSealProof_StackedDrg8MiBV1_1
	RegisteredSealProofStackedDrg512MiBV1_1 = abi.RegisteredSealProof_StackedDrg512MiBV1_1
	RegisteredSealProofStackedDrg32GiBV1_1  = abi.RegisteredSealProof_StackedDrg32GiBV1_1
	RegisteredSealProofStackedDrg64GiBV1_1  = abi.RegisteredSealProof_StackedDrg64GiBV1_1

	RegisteredSealProofStackedDrg2KiBV1_1_Feat_SyntheticPoRep   = abi.RegisteredSealProof_StackedDrg2KiBV1_1_Feat_SyntheticPoRep
	RegisteredSealProofStackedDrg8MiBV1_1_Feat_SyntheticPoRep   = abi.RegisteredSealProof_StackedDrg8MiBV1_1_Feat_SyntheticPoRep
	RegisteredSealProofStackedDrg512MiBV1_1_Feat_SyntheticPoRep = abi.RegisteredSealProof_StackedDrg512MiBV1_1_Feat_SyntheticPoRep
	RegisteredSealProofStackedDrg32GiBV1_1_Feat_SyntheticPoRep  = abi.RegisteredSealProof_StackedDrg32GiBV1_1_Feat_SyntheticPoRep
	RegisteredSealProofStackedDrg64GiBV1_1_Feat_SyntheticPoRep  = abi.RegisteredSealProof_StackedDrg64GiBV1_1_Feat_SyntheticPoRep

	RegisteredSealProofStackedDrg2KiBV1_2_Feat_NiPoRep   = abi.RegisteredSealProof_StackedDrg2KiBV1_2_Feat_NiPoRep
	RegisteredSealProofStackedDrg8MiBV1_2_Feat_NiPoRep   = abi.RegisteredSealProof_StackedDrg8MiBV1_2_Feat_NiPoRep
	RegisteredSealProofStackedDrg512MiBV1_2_Feat_NiPoRep = abi.RegisteredSealProof_StackedDrg512MiBV1_2_Feat_NiPoRep
	RegisteredSealProofStackedDrg32GiBV1_2_Feat_NiPoRep  = abi.RegisteredSealProof_StackedDrg32GiBV1_2_Feat_NiPoRep
	RegisteredSealProofStackedDrg64GiBV1_2_Feat_NiPoRep  = abi.RegisteredSealProof_StackedDrg64GiBV1_2_Feat_NiPoRep
)

// RegisteredPoStProof selects the PoSt algorithm and sector size (go-state-types abi).
type RegisteredPoStProof = abi.RegisteredPoStProof

// PoSt proof types (Winning 0–4, Window V1 5–9, Window V1_1 10–14).
const (
	RegisteredPoStProofStackedDrgWinning2KiBV1   = abi.RegisteredPoStProof_StackedDrgWinning2KiBV1
	RegisteredPoStProofStackedDrgWinning8MiBV1   = abi.RegisteredPoStProof_StackedDrgWinning8MiBV1
	RegisteredPoStProofStackedDrgWinning512MiBV1 = abi.RegisteredPoStProof_StackedDrgWinning512MiBV1
	RegisteredPoStProofStackedDrgWinning32GiBV1  = abi.RegisteredPoStProof_StackedDrgWinning32GiBV1
	RegisteredPoStProofStackedDrgWinning64GiBV1  = abi.RegisteredPoStProof_StackedDrgWinning64GiBV1

	RegisteredPoStProofStackedDrgWindow2KiBV1   = abi.RegisteredPoStProof_StackedDrgWindow2KiBV1
	RegisteredPoStProofStackedDrgWindow8MiBV1   = abi.RegisteredPoStProof_StackedDrgWindow8MiBV1
	RegisteredPoStProofStackedDrgWindow512MiBV1 = abi.RegisteredPoStProof_StackedDrgWindow512MiBV1
	RegisteredPoStProofStackedDrgWindow32GiBV1  = abi.RegisteredPoStProof_StackedDrgWindow32GiBV1
	RegisteredPoStProofStackedDrgWindow64GiBV1  = abi.RegisteredPoStProof_StackedDrgWindow64GiBV1

	RegisteredPoStProofStackedDrgWindow2KiBV1_1   = abi.RegisteredPoStProof_StackedDrgWindow2KiBV1_1
	RegisteredPoStProofStackedDrgWindow8MiBV1_1   = abi.RegisteredPoStProof_StackedDrgWindow8MiBV1_1
	RegisteredPoStProofStackedDrgWindow512MiBV1_1 = abi.RegisteredPoStProof_StackedDrgWindow512MiBV1_1
	RegisteredPoStProofStackedDrgWindow32GiBV1_1  = abi.RegisteredPoStProof_StackedDrgWindow32GiBV1_1
	RegisteredPoStProofStackedDrgWindow64GiBV1_1  = abi.RegisteredPoStProof_StackedDrgWindow64GiBV1_1
)

// RegisteredAggregationProof selects the proof aggregation scheme (go-state-types abi).
type RegisteredAggregationProof = abi.RegisteredAggregationProof

// Aggregation proof types. Only SnarkPackV2 is accepted by methods 34 and 36.
const (
	RegisteredAggregationProofSnarkPackV1 = abi.RegisteredAggregationProof_SnarkPackV1
	RegisteredAggregationProofSnarkPackV2 = abi.RegisteredAggregationProof_SnarkPackV2
)
