package miner

import (
	"github.com/filecoin-project/go-state-types/builtin/v17/miner"
	"github.com/filecoin-project/go-state-types/proof"
)

// The params are go-state-types' types for actors v17, the version mainnet
// runs (network version 27); their cbor-gen encoders are the ones Lotus and
// builtin-actors use, so the bytes a signer signs match the chain's.

// PreCommitSectorBatch2 (28).
type (
	// SectorPreCommitInfo describes one sector being pre-committed; a nil
	// UnsealedCid marks a CC sector.
	SectorPreCommitInfo = miner.SectorPreCommitInfo
	// PreCommitSectorBatchParams2 are the params of PreCommitSectorBatch2.
	PreCommitSectorBatchParams2 = miner.PreCommitSectorBatchParams2
)

// ProveCommitSectors3 (34).
type (
	// VerifiedAllocationKey names a verified-registry allocation.
	VerifiedAllocationKey = miner.VerifiedAllocationKey
	// DataActivationNotification asks the miner to notify an actor
	// (typically the market, f05) when a piece is activated.
	DataActivationNotification = miner.DataActivationNotification
	// PieceActivationManifest describes one data piece of a sector.
	PieceActivationManifest = miner.PieceActivationManifest
	// SectorActivationManifest lists one sector's pieces (none for CC).
	SectorActivationManifest = miner.SectorActivationManifest
	// ProveCommitSectors3Params are the params of ProveCommitSectors3.
	ProveCommitSectors3Params = miner.ProveCommitSectors3Params
)

// ProveCommitSectorsNI (36).
type (
	// SectorNIActivationInfo describes one NI-PoRep sector.
	SectorNIActivationInfo = miner.SectorNIActivationInfo
	// ProveCommitSectorsNIParams are the params of ProveCommitSectorsNI.
	ProveCommitSectorsNIParams = miner.ProveCommitSectorsNIParams
)

// SubmitWindowedPoSt (5), DeclareFaultsRecovered (11), WithdrawBalance (16).
type (
	// PoStPartition is one partition being proven; Skipped sectors become faulty.
	PoStPartition = miner.PoStPartition
	// PoStProof is one proof per distinct PoSt proof type.
	PoStProof = proof.PoStProof
	// SubmitWindowedPoStParams are the params of SubmitWindowedPoSt.
	SubmitWindowedPoStParams = miner.SubmitWindowedPoStParams
	// RecoveryDeclaration names sectors of one partition declared recovered.
	RecoveryDeclaration = miner.RecoveryDeclaration
	// DeclareFaultsRecoveredParams are the params of DeclareFaultsRecovered.
	DeclareFaultsRecoveredParams = miner.DeclareFaultsRecoveredParams
	// WithdrawBalanceParams are the params of WithdrawBalance.
	WithdrawBalanceParams = miner.WithdrawBalanceParams
)

// Legacy methods, decoded so that old messages can be inspected: removed
// from the actor (6, 25 at nv22; 7 at nv23; 26 at nv27).
type (
	PreCommitSectorParams      = miner.PreCommitSectorParams
	PreCommitSectorBatchParams = miner.PreCommitSectorBatchParams
	ProveCommitSectorParams    = miner.ProveCommitSectorParams
	ProveCommitAggregateParams = miner.ProveCommitAggregateParams
)
