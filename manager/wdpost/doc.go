// Package wdpost is Architecture 1's WindowPoSt: when the provider keeps a
// tenant's sectors, it must also prove them every proving period, or the
// SP's sectors turn faulty and the SP pays penalties for storage it never
// held. The manager service wires a Service per manager; this package
// depends only on narrow interfaces (Chain, Signer, Prover, SectorStore)
// so that it can be tested against a fake chain and the devnet alike.
//
// Each Tick, for every tenant, the Service reads the miner's current
// proving deadline (StateMinerProvingDeadline) and its partitions
// (StateMinerPartitions), proves the live, non-faulty and recovering
// sectors of the deadline over the files in the provider's store with the
// challenge randomness drawn at the deadline's challenge epoch, and sends
// SubmitWindowedPoSt (miner method 5) from the tenant's worker address,
// signed by the SP's own signer through the Signer interface (the signer
// hub in production; the SP's policy allows method 5 for that miner). A
// sector whose files are missing or do not prove is listed in its
// partition's Skipped set, which is how a fault is declared in the same
// message; once its files prove again, the Service declares it recovered
// (DeclareFaultsRecovered, method 11) for a deadline whose fault cutoff
// has not passed.
//
// The proof itself comes from a Prover. On a real network that is the
// Groth16 WindowPoSt SNARK from an external processor speaking the
// damocles window_post task (ProcessorProver); on the Sealant devnet it is
// the devnet's labelled stand-in, the fallback-PoSt vanilla proofs
// (DevnetProver, format defined by devnet/state.EncodeWindowPoStProof).
package wdpost
