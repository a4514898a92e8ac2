// Package commp computes Filecoin piece and data commitments: CommP of a
// payload stream, the zero-piece commitments, CommD of a sector from its
// pieces, and their CID encodings.
//
// Why it exists: every deal names its data by a piece CID, and every sector
// commits to its unsealed content by CommD. Both are the root of one binary
// Merkle tree (shared/spec/porep.md §2):
//
//   - leaves are the 32-byte words of the Fr32-padded data (package fr32),
//     taken as-is;
//   - an inner node is SHA-256 of its two children with the two most
//     significant bits of the last byte cleared ("sha2-256-trunc254-padded"),
//     so that every node is a BLS12-381 field element (HashPair);
//   - a region of zero bytes has a closed-form root: Z[0] is the zero leaf
//     and Z[i+1] = HashPair(Z[i], Z[i]) (ZeroCommitment). Zero fill never has
//     to be hashed.
//
// CommP (FromReader, Calc) follows go-fil-commp-hashhash, the de-facto client
// implementation: any payload of 65 bytes or more is accepted, zero-padded
// to the next 127·2^k bytes, Fr32-padded and reduced to a root. The work is
// split into fixed 1 MiB padded chunks: one goroutine reads, a pool of
// workers pads and hashes whole chunk subtrees in parallel, and the chunk
// roots are folded in order. Memory stays bounded (a few chunk buffers per
// worker) whatever the payload size.
//
// CommD (ComputeCommD) follows lotus' GenerateUnsealedCID on top of
// rust-fil-proofs compute_comm_d: pieces are laid out in order, each aligned
// to a multiple of its own padded size by zero pieces, and the sector is
// completed with zero pieces.
//
// CIDs follow go-fil-commcid: an unsealed commitment (CommP, CommD) is a
// CIDv1 with codec fil-commitment-unsealed (0xf101) and multihash
// sha2-256-trunc254-padded (0x1012); a sealed one (CommR) uses
// fil-commitment-sealed (0xf102) and poseidon-bls12_381-a2-fc1 (0xb401).
// Parsing is stricter than go-fil-commcid: the commitment must also be a
// canonical field element.
package commp
