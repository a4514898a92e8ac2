// Package miner defines the storage-miner actor methods a sealing service
// calls — PreCommitSectorBatch2 (28), ProveCommitSectors3 (34),
// ProveCommitSectorsNI (36), SubmitWindowedPoSt (5), DeclareFaultsRecovered
// (11), WithdrawBalance (16) — with their parameter types, DAG-CBOR tuple
// encodings and Lotus JSON shapes, plus decode-only support for the removed
// legacy methods PreCommitSector (6), ProveCommitSector (7),
// PreCommitSectorBatch (25) and ProveCommitAggregate (26) so that old
// messages can still be inspected.
//
// Why: the message Params bytes are hashed into the message CID that the
// SP's key signs, so they must match go-state-types / builtin-actors byte
// for byte (spec/chain.md §4). Decoders are strict (exact field counts,
// canonical integers and CIDs, canonical RLE+ bitfields) and never panic;
// a decoded value re-encodes to the input bytes.
//
// The numeric enums (RegisteredSealProof, RegisteredPoStProof,
// RegisteredAggregationProof) are int64 like in go-state-types abi; their
// JSON form is a number.
package miner
