// Package sha2 is SHA-256 specialised for Filecoin's binary tree node hash
//
//	H(a, b) = SHA-256(a ‖ b) with the two most significant bits of byte 31 cleared
//
// where a and b are 32-byte nodes (rust-fil-proofs Sha256Hasher with
// trim_to_fr32; the "sha2-256-trunc254-padded" of CommP, CommD and TreeD).
//
// Why not crypto/sha256: a node hash is exactly two compressions, but
// sha256.Sum256 also pays for padding, buffering, the generic digest state
// and finalisation on every call. Measured on the AMD EPYC (SHA-NI) build
// machine, in CPU time per node: sha256.Sum256 about 155 ns, HashPair 90 ns,
// HashPairs 42 ns. Tree building is nothing but node hashes (one per 32
// bytes of input, summed over all levels), so this is most of the cost of
// CommP and TreeD. The package gets there in three steps:
//
//   - The second block of a 64-byte message is always the same padding block
//     (0x80, zeros, bit length 512), so its message schedule W[t]+K[t] is a
//     constant table; that block costs only its 64 rounds.
//   - HashPairs hashes a whole tree level (n nodes from 2n) in one call, so
//     there is no per-node call, bounds check or state setup.
//   - On amd64 with the SHA extensions the rounds run in assembly
//     (SHA256RNDS2/MSG1/MSG2), two independent pairs interleaved. Each
//     compression is one long dependency chain of SHA256RNDS2, whose
//     latency is about twice its issue interval on the cores measured, so
//     a single chain leaves the SHA unit half idle and a second chain fills
//     it: 21 ns per compression against 36 ns for one chain alone.
//
// Other CPUs and architectures, and builds with the purego tag, use a
// portable Go implementation with the same constant-padding shortcut.
package sha2
