// Package miner names the storage-miner actor methods a sealing service
// calls — PreCommitSectorBatch2 (28), ProveCommitSectors3 (34),
// ProveCommitSectorsNI (36), SubmitWindowedPoSt (5), DeclareFaultsRecovered
// (11), WithdrawBalance (16) — and maps each to its params type from
// go-state-types (builtin/v17/miner, the actors version mainnet runs), with
// decode-only support for the removed legacy methods PreCommitSector (6),
// ProveCommitSector (7), PreCommitSectorBatch (25) and ProveCommitAggregate
// (26) so that old messages can still be inspected.
//
// What Sealant adds over go-state-types: DecodeParams and DecodeBatchReturn
// refuse trailing bytes after the value (cbor-gen's decoders stop after one
// value), since the params bytes are hashed into the message CID a signer
// signs; and SealedCID/UnsealedCID build and check the commitment CIDs.
//
// The numeric enums (RegisteredSealProof, RegisteredPoStProof,
// RegisteredAggregationProof) are go-state-types abi's; their JSON form is a
// number.
package miner
