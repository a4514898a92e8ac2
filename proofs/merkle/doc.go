// Package merkle builds, stores and proves the Merkle trees of a Filecoin
// sector exactly as rust-fil-proofs (storage-proofs-core/src/merkle) and
// the merkletree crate do, so that a cache directory written here is
// interchangeable with one written by lotus-worker or Curio.
//
// Trees. TreeD is a binary SHA-256 tree (node = SHA-256(left‖right) with the
// two top bits cleared) over the unsealed data; TreeC (over column hashes)
// and TreeR_last (over the replica) are Poseidon oct trees, which for 32 and
// 64 GiB sectors are split into 8 or 16 base trees joined by an arity-8
// node (and, for 64 GiB, an arity-2 root). Shape captures these
// (base, sub, top) arities; the same code builds every shape, so the small
// synthetic shapes in the tests cover the production paths.
//
// Files. Each base tree is one file in the cache directory,
// sc-02-data-<id>.dat, or sc-02-data-<id>-<n>.dat when a sector has several
// base trees. A DiskStore file (tree-d, tree-c) holds every row, leaves
// first, root last. A LevelCacheStore file (tree-r-last) holds only the rows
// above the leaves and the rows_to_discard rows after them, still lowest row
// first; the leaves are the sealed replica itself and the discarded rows are
// rebuilt for each proof from the arity^(rows_to_discard+1) leaves around
// the challenge, as merkletree gen_cached_proof does. Sub-tree and top-tree
// nodes are never stored; they are recomputed from the base roots.
//
// Building is streaming and parallel: a base tree is cut into independent
// sub-trees of at most 32768 leaves that the workers hash concurrently and
// write straight to their offsets in the file, so memory stays in the
// megabytes even for a 32 GiB sector and both cores are busy.
//
// Proofs follow rust-fil-proofs' model (shared/spec/porep.md §9.3): a base
// path of (siblings, index) elements from the leaf up, plus one sub-tree and
// one top-tree element for compound shapes. Proof.Verify recomputes the
// root; Proof.PathIndex gives the leaf index the path proves. The C1 and
// PoSt code convert these to their JSON/bincode forms.
package merkle
