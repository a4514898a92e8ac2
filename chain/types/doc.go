// Package types holds the chain data types a sealing service sends to and
// reads from a Filecoin node: token amounts (BigInt), messages and signed
// messages with their DAG-CBOR encodings and CIDs, signatures, tipset keys,
// receipts and exit codes, and their Lotus JSON-RPC shapes.
//
// Field types come from go-state-types (abi epochs, actor ids and method
// numbers; exitcode; crypto signatures) and go-address. Lotus's own
// chain/types is not a module the proxy serves, and venus-shared's copy of it
// pulls in libp2p (see chain/lotus), so Message, SignedMessage, receipts and
// tipset keys are kept here, built on those library types; every byte they
// produce is hashed into a CID that a signer signs and a node must recompute
// identically, and they are checked against the Lotus vectors in testdata/
// (spec/chain.md §2, §6.3).
//
// BigInt stays Sealant's own type for two reasons, both tested against
// go-state-types big.Int (abi.TokenAmount): its methods treat the zero value
// as 0 where go-state-types' panic on it, and its decoder refuses the
// non-canonical encodings go-state-types accepts (a sign byte without
// magnitude, leading zero bytes). The two convert freely, types.BigInt(x)
// and abi.TokenAmount(y), since both are a struct holding one *big.Int.
//
// Decoders are strict and never panic: they reject non-canonical integers,
// unknown signature types, wrong field counts and trailing bytes, so that
// decode→encode reproduces the input bytes and a decoded message's Cid()
// equals the CID of the bytes it came from.
//
// The exported Cbor* helpers are the small set of CBOR primitives these
// types use; they build on github.com/whyrusleeping/cbor-gen's reader and
// writer.
package types
