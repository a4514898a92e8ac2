// Package post builds and verifies fallback Proof-of-Spacetime vanilla
// proofs (WindowPoSt and WinningPoSt) over sealed sectors, as
// rust-fil-proofs storage-proofs-post/src/fallback does
// (shared/spec/porep.md §12).
//
// A vanilla PoSt proof opens a few pseudo-random leaves of each sector's
// replica in TreeR_last and shows comm_c and comm_r_last, which hash to the
// on-chain CommR. The Groth16 SNARK that compresses these on a real network
// is not built here (see proofs/c2): Sealant uses the vanilla proofs to check
// delivered sectors, and the devnet accepts them as its labelled stand-in.
package post
