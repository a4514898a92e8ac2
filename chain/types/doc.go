// Package types holds the chain data types a sealing service sends to and
// reads from a Filecoin node: token amounts (BigInt), messages and signed
// messages with their DAG-CBOR encodings and CIDs, signatures, tipset keys,
// receipts and exit codes, and their Lotus JSON-RPC shapes.
//
// Why hand-written: the filecoin-project modules (go-state-types, lotus
// chain/types) cannot be imported here, yet every byte we produce is hashed
// into a CID that a signer signs and a node must recompute identically. The
// encoders therefore mirror cbor-gen's canonical output (shortest integer
// headers, tuple structs, byte-string big integers) and are checked against
// the Lotus vectors in testdata/ (spec/chain.md §2, §6.3).
//
// Decoders are strict and never panic: they reject non-canonical integers,
// unknown signature types, wrong field counts and trailing bytes, so that
// decode→encode reproduces the input bytes and a decoded message's Cid()
// equals the CID of the bytes it came from.
//
// The exported Cbor* helpers are the small set of CBOR primitives the
// chain packages share (chain/miner uses them for actor params); they
// build on github.com/whyrusleeping/cbor-gen's reader and writer.
package types
