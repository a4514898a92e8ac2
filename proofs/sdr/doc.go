// Package sdr implements the Stacked Depth Robust Graph of Filecoin's PoRep
// (v1.1) and the first pre-commit phase that labels it (PC1).
//
// Sealing a sector first derives a replica id from the prover, sector number,
// ticket, CommD and proof type, then computes ℓ layers of N labels. Each label
// is a SHA-256 over the replica id, its position and the labels of 14 parents:
// 6 from a bucket-sampled DRG over the same layer (a ChaCha8 stream seeded per
// porep_id picks them, parent 0 is always node−1, so a layer is strictly
// sequential) and 8 from a Feistel-permutation expander over the previous
// layer. The graph is fixed per proof id, so its parent lists are computed
// once and stored in a parent cache file (14 u32 per node), the same format
// and SHA-256 digest rust-fil-proofs uses; reproducing those production
// digests bit for bit is how we know the graph is right.
//
// Everything here follows shared/spec/porep.md §4–§6; the golden 2KiB sector
// (§11.1) pins the labels and graph.json (§11.2) pins the graph.
//
// Performance shape: a label costs 20 SHA-256 compressions (1,248 bytes) and
// cannot be parallelised within a layer (parent 0 is node−1), so PC1 is one
// hot loop per layer. Its two costs are the hash and memory latency: parent
// labels sit at effectively random offsets of two N·32-byte layers, so the
// loop prefetches the parents of the node a few positions ahead (amd64
// assembly hint) and keeps the current layer in huge-page-advised memory.
// Parent generation is embarrassingly parallel and done once per graph into
// the parent cache using every core; the expander's Feistel round function
// only depends on a ≤17-bit half and the round, so Graph.Warm memoises it in
// a table of at most 1.5 MiB instead of calling BLAKE2b ~48 times per node.
//
// Memory and durability of RunPC1: the layer being computed is held in
// memory (N·32 bytes: 512 MiB for 512MiB sectors, 32 GiB for 32GiB), the
// previous layer is mapped read-only from its completed file (page cache),
// parents stream from the cache file with ~2 MiB of read-ahead. Each layer is
// written to a temporary file, fsynced and renamed, and its SHA-256 recorded
// in a manifest bound to the proof and replica id; a restart keeps exactly the
// leading layers whose files still hash to the manifest.
package sdr
