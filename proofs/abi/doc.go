// Package abi names the Filecoin proof types Sealant understands and carries
// their per-size constants.
//
// A registered seal proof id (go-state-types abi.RegisteredSealProof, the
// rust-filecoin-proofs-api registry) fixes everything about a sector that is
// not data: its size, the SDR graph (the id is the first eight bytes of the
// porep_id, which seeds the DRG and the Feistel keys, so two ids of the same
// size have different graphs), the number of layers, the challenge counts,
// the Merkle tree shapes and the PoSt proofs that later prove the sector.
// Every other proof package takes these values from here instead of keeping
// its own table, so there is exactly one place where "32GiB" turns into
// 2^30 nodes, 11 layers and 10 partitions of 18 challenges.
//
// The constants are those of rust-fil-proofs (filecoin-proofs/src/constants.rs,
// parameters.rs) as written down in shared/spec/porep.md §3 and §4.1. Only the
// interactive PoRep ids (V1, V1_1 and V1_1 SyntheticPoRep) are registered;
// NI-PoRep ids (15–19) are rejected because their challenge model differs.
package abi
