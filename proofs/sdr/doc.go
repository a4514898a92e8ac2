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
// cannot be parallelised within a layer, so PC1 is a single hot loop; parent
// generation (about 50 BLAKE2b calls per node for the expander) is
// embarrassingly parallel and done once into the cache using every core.
// PC1 keeps the layer being computed in memory and maps the previous layer
// from its completed file, writes each layer atomically and records a SHA-256
// per layer in a manifest so that a restart resumes after the last layer that
// verifies.
package sdr
