// Package porep seals sectors with Stacked DRG PoRep v1.1 and produces and
// verifies the C1 vanilla proofs, bit-exact with rust-fil-proofs.
//
// It orchestrates the lower layers of the proof engine: fr32 and commp stage
// pieces and compute CommD; sdr derives the replica id and computes the label
// layers (PC1); merkle builds TreeD, TreeC and TreeR_last; poseidon combines
// comm_c and comm_r_last into CommR. The sector directory it writes has the
// layout lotus and Curio use:
//
//	DIR/unsealed              the Fr32-padded staged sector (sector size bytes)
//	DIR/sealed                the replica
//	DIR/cache/sc-02-data-layer-N.dat, sc-02-data-tree-d.dat,
//	          sc-02-data-tree-c[-N].dat, sc-02-data-tree-r-last[-N].dat,
//	          p_aux, t_aux
//	DIR/sealant-seal.json     Sealant's record of the sector and finished stages
//	DIR/pc1out.json           the SealPreCommitPhase1Output of PC1 (pc1out.go)
//
// Every stage is idempotent: Seal records each finished stage in the record
// file (written atomically) and a rerun after a crash continues from the
// first unfinished one; PC1 itself resumes per layer. A directory that holds
// a different sector is refused rather than overwritten.
//
// The standalone stages (standalone.go: PreCommit1, PreCommit2, BuildTreeD)
// run PC1, PC2 and TreeD from paths and values alone, as filecoin-proofs
// does, exchanging SealPreCommitPhase1Output in filecoin-proofs-api's serde
// JSON, so Sealant and filecoin-proofs based engines (damocles processors,
// SupraSeal) can each run either half. AdoptTreeD, AdoptPC1 and AdoptPC2
// check what an external engine wrote into a sector directory and record it.
//
// NI-PoRep (FIP-0092, proof ids 15–19) seals the same way with its own
// porep id; its challenges (NIChallenges: 13 partitions of 2 for the test
// sizes, 126 of 18 for 32/64GiB) derive from replica_id and CommR instead of
// a seed, so C1 can run right after PC2. Challenges picks the derivation by
// proof id; C1 JSON names NI proofs as filecoin-proofs-api does
// (…V1_2_Feat_NonInteractivePoRep).
//
// C2 (the Groth16 SNARK over these vanilla proofs) is not part of this
// package: it needs the published Groth16 parameters and, in practice, a GPU
// prover. See package proofs/c2 for the interface and the external-processor
// hook. VerifyC1 checks the vanilla proofs themselves, which is what the
// devnet accepts in place of a SNARK (clearly labelled there).
package porep
