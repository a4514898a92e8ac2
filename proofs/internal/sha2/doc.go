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
// The package also computes the SDR label hash (Label, LabelFrom): SHA-256
// over a 64-byte prefix and 37 parent labels, 20 compressions. There is no
// second independent chain within a layer to interleave (every label
// depends on the previous one through parent 0), so the gains are smaller
// and come from elsewhere: the parents are passed once (6 or 14 unique
// labels) and repeated cyclically by the assembly instead of being copied
// into a 1,248-byte message, the final padding words are constants, and
// LabelFrom compresses the next node's prefix block, which depends on no
// label, in a second lane beside the current label's first parent block,
// leaving 19 compressions on the chain. Measured in CPU time on the same
// machine under heavy load: crypto/sha256 over the built message about
// 930–985 ns, Label 840–880 ns, LabelFrom 810–875 ns (a single chain runs
// at about 40 ns per compression here; the SHA256RNDS2 latency sets that
// floor).
//
// Other CPUs and architectures, and builds with the purego tag, use a
// portable Go implementation with the same constant-padding shortcut.
package sha2
