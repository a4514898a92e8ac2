// Package rand derives Filecoin chain randomness and holds the sealing
// timing policy that decides which epochs randomness is drawn at.
//
// Why a separate package: the sealing pipeline needs the PoRep ticket and
// seed to be bit-exact with what the miner actor recomputes when it
// verifies a proof, and the manager needs to know, without asking a node,
// when a ticket becomes too old or when the seed becomes available. Both
// are pure functions of a handful of integers and hashes, so they live here
// with no I/O and no dependency on the RPC client.
//
// # Derivation (spec/chain.md §5.2, lotus chain/rand/rand.go)
//
// A node first reduces the randomness base to a 32-byte digest:
//
//	digest = blake2b-256(VRFProof of the min-ticket block)   // "from tickets"
//	digest = blake2b-256(drand beacon entry signature)      // "from beacon"
//
// and then mixes it with the domain separation tag, the epoch and the
// caller's entropy:
//
//	randomness = blake2b-256( i64be(tag) || digest || i64be(epoch) || entropy )
//
// [DrawRandomnessFromDigest] implements the second step and is what the
// Lotus "…DigestFromTickets/FromBeacon" API results feed into;
// [DrawRandomness] performs both steps from the raw base bytes.
//
// For PoRep the entropy is the CBOR encoding of the miner's ID address
// ([SealEntropy]); using a robust (f2) address silently yields a different
// ticket that the actor will reject.
//
// # Timing
//
// The constants in timing.go are the mainnet values from builtin-actors
// (runtime/src/runtime/policy.rs, actors/miner/src/policy.rs) and Lotus
// (chain/actors/policy). [Policy] bundles the ones that differ between
// mainnet and devnets so the manager can plan epochs for either.
//
// Everything in this package is safe for concurrent use.
package rand
