package miner

import (
	"fmt"

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

// SectorNumber identifies a sector within a miner (≤ 2^63-1).
type SectorNumber = uint64

// DealID identifies a legacy storage-market deal.
type DealID = uint64

// PaddedPieceSize is a piece size in bytes after Fr32 padding (a power of two).
type PaddedPieceSize = uint64

// AllocationID identifies a verified-registry allocation.
type AllocationID = uint64

// RegisteredSealProof selects the PoRep algorithm and sector size
// (go-state-types abi/sector.go).
type RegisteredSealProof int64

// Seal proof types.
const (
	RegisteredSealProofStackedDrg2KiBV1   RegisteredSealProof = 0
	RegisteredSealProofStackedDrg8MiBV1   RegisteredSealProof = 1
	RegisteredSealProofStackedDrg512MiBV1 RegisteredSealProof = 2
	RegisteredSealProofStackedDrg32GiBV1  RegisteredSealProof = 3
	RegisteredSealProofStackedDrg64GiBV1  RegisteredSealProof = 4

	RegisteredSealProofStackedDrg2KiBV1_1   RegisteredSealProof = 5
	RegisteredSealProofStackedDrg8MiBV1_1   RegisteredSealProof = 6
	RegisteredSealProofStackedDrg512MiBV1_1 RegisteredSealProof = 7
	RegisteredSealProofStackedDrg32GiBV1_1  RegisteredSealProof = 8
	RegisteredSealProofStackedDrg64GiBV1_1  RegisteredSealProof = 9

	RegisteredSealProofStackedDrg2KiBV1_1_Feat_SyntheticPoRep   RegisteredSealProof = 10
	RegisteredSealProofStackedDrg8MiBV1_1_Feat_SyntheticPoRep   RegisteredSealProof = 11
	RegisteredSealProofStackedDrg512MiBV1_1_Feat_SyntheticPoRep RegisteredSealProof = 12
	RegisteredSealProofStackedDrg32GiBV1_1_Feat_SyntheticPoRep  RegisteredSealProof = 13
	RegisteredSealProofStackedDrg64GiBV1_1_Feat_SyntheticPoRep  RegisteredSealProof = 14

	RegisteredSealProofStackedDrg2KiBV1_2_Feat_NiPoRep   RegisteredSealProof = 15
	RegisteredSealProofStackedDrg8MiBV1_2_Feat_NiPoRep   RegisteredSealProof = 16
	RegisteredSealProofStackedDrg512MiBV1_2_Feat_NiPoRep RegisteredSealProof = 17
	RegisteredSealProofStackedDrg32GiBV1_2_Feat_NiPoRep  RegisteredSealProof = 18
	RegisteredSealProofStackedDrg64GiBV1_2_Feat_NiPoRep  RegisteredSealProof = 19
)

var sectorSizes = [5]uint64{2 << 10, 8 << 20, 512 << 20, 32 << 30, 64 << 30}

// SectorSize returns the sector size in bytes of a known seal proof type.
func (p RegisteredSealProof) SectorSize() (uint64, error) {
	if p < 0 || p > RegisteredSealProofStackedDrg64GiBV1_2_Feat_NiPoRep {
		return 0, fmt.Errorf("miner: unknown seal proof type %d", int64(p))
	}
	return sectorSizes[p%5], nil
}

// ProofSize returns the byte length of one sector's (non-aggregated) PoRep:
// 192 bytes per partition, 10 partitions for 32/64 GiB sectors.
func (p RegisteredSealProof) ProofSize() (int, error) {
	if _, err := p.SectorSize(); err != nil {
		return 0, err
	}
	if p%5 >= 3 {
		return 1920, nil
	}
	return 192, nil
}

// RegisteredPoStProof selects the PoSt algorithm and sector size.
type RegisteredPoStProof int64

// PoSt proof types (Winning 0–4, Window V1 5–9, Window V1_1 10–14).
const (
	RegisteredPoStProofStackedDrgWinning2KiBV1   RegisteredPoStProof = 0
	RegisteredPoStProofStackedDrgWinning8MiBV1   RegisteredPoStProof = 1
	RegisteredPoStProofStackedDrgWinning512MiBV1 RegisteredPoStProof = 2
	RegisteredPoStProofStackedDrgWinning32GiBV1  RegisteredPoStProof = 3
	RegisteredPoStProofStackedDrgWinning64GiBV1  RegisteredPoStProof = 4

	RegisteredPoStProofStackedDrgWindow2KiBV1   RegisteredPoStProof = 5
	RegisteredPoStProofStackedDrgWindow8MiBV1   RegisteredPoStProof = 6
	RegisteredPoStProofStackedDrgWindow512MiBV1 RegisteredPoStProof = 7
	RegisteredPoStProofStackedDrgWindow32GiBV1  RegisteredPoStProof = 8
	RegisteredPoStProofStackedDrgWindow64GiBV1  RegisteredPoStProof = 9

	RegisteredPoStProofStackedDrgWindow2KiBV1_1   RegisteredPoStProof = 10
	RegisteredPoStProofStackedDrgWindow8MiBV1_1   RegisteredPoStProof = 11
	RegisteredPoStProofStackedDrgWindow512MiBV1_1 RegisteredPoStProof = 12
	RegisteredPoStProofStackedDrgWindow32GiBV1_1  RegisteredPoStProof = 13
	RegisteredPoStProofStackedDrgWindow64GiBV1_1  RegisteredPoStProof = 14
)

// RegisteredAggregationProof selects the proof aggregation scheme.
type RegisteredAggregationProof int64

// Aggregation proof types. Only SnarkPackV2 is accepted by methods 34 and 36.
const (
	RegisteredAggregationProofSnarkPackV1 RegisteredAggregationProof = 0
	RegisteredAggregationProofSnarkPackV2 RegisteredAggregationProof = 1
)
