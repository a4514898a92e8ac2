// Package c2 defines how Sealant obtains a PoRep SNARK (SealCommitPhase2)
// from a C1 output, and what it does where it cannot.
//
// A real C2 is a Groth16 proof over BLS12-381 of the C1 vanilla proofs, one
// 192-byte proof per partition. Producing it needs the published Groth16
// parameters (about 100 GiB for 32GiB sectors, not downloadable here) and,
// in practice, a GPU prover (filecoin-ffi / bellperson, SupraSeal, or a
// proof market). Sealant does not contain a Groth16 prover and nothing in it
// pretends to produce one:
//
//   - On a real network, C2 runs in an external processor (the worker's
//     [[processors.c2]], damocles-compatible JSON lines). Without one, a
//     sector stops at C2 with ErrNoProver.
//   - On Sealant's devnet, the chain accepts a DevnetProof instead: the
//     compact vanilla proofs (porep.EncodeCompact), verified in full by the
//     devnet with the proof engine. It is labelled as such everywhere and a
//     real chain would reject it.
package c2
