// Package bitfield implements Filecoin's RLE+ bitfield encoding, used by
// miner actor parameters for sets of sector numbers (DeclareFaultsRecovered,
// ProveCommitAggregate) and of partition indices (SubmitWindowedPoSt
// Skipped).
//
// Why a local implementation: go-bitfield is a filecoin-project module that
// cannot be imported here. The decoder follows the consensus implementation
// (ref-fvm ipld/bitfield, used by builtin-actors), which is stricter than
// go-bitfield: every set has exactly one encoding (minimal blocks, no
// trailing zero bytes, no trailing run of zeros, no overflow), so a message
// that round-trips through this package keeps its bytes and its CID.
//
// Format (spec: filecoin-project/specs data_structures, bits are read
// least-significant first within each byte):
//
//	<encoding> ::= "00" <first-bit> <block>*
//	<block>    ::= "1"                  run of length 1
//	             | "01" <4-bit length>  run of length 2..15
//	             | "00" <uvarint>       run of length ≥ 16
//
// Runs alternate between unset and set bits starting with <first-bit>.
package bitfield
