// Package sha2 is SHA-256 specialised for Filecoin's binary tree node hash
//
//	H(a, b) = SHA-256(a ‖ b) with the two most significant bits of byte 31 cleared
//
// where a and b are 32-byte nodes (rust-fil-proofs Sha256Hasher with
// trim_to_fr32; the "sha2-256-trunc254-padded" of CommP, CommD and TreeD).
//
// Why not crypto/sha256: a node hash is exactly two compressions, and with
// SHA-NI those take about 80 ns, while sha256.Sum256 spends another ~50 ns
// per call on padding, buffering, the generic digest state and finalisation.
// Tree building is nothing but node hashes (2 per 64 bytes of input, summed
// over all levels), so that overhead was a third of CommP's cost. This package
// removes it in three ways:
//
//   - The second block of a 64-byte message is always the same padding block
//     (0x80, zeros, bit length 512), so its message schedule W[t]+K[t] is a
//     constant table; that block costs only its 64 rounds.
//   - HashPairs hashes a whole tree level (n nodes from 2n) in one call, so
//     there is no per-node call, bounds check or state setup.
//   - On amd64 with the SHA extensions the rounds run in assembly
//     (SHA256RNDS2/MSG1/MSG2), two independent pairs interleaved. Each
//     compression is one long dependency chain of SHA256RNDS2; the
//     instruction's latency is about twice its issue interval on current
//     cores, so a single chain leaves half the SHA unit idle and a second
//     chain fills it.
//
// Other CPUs and architectures, and builds with the purego tag, use a
// portable Go implementation with the same constant-padding shortcut.
package sha2
