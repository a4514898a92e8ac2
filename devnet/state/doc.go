// Package state is the devnet's deterministic state-transition core: the
// actor state of a small Filecoin chain and the function that applies one
// signed message to it, returning a receipt.
//
// Why a separate, pure package: the checks a sealing pipeline can trip over
// (ticket and seed windows, CID prefixes, deposits, pledge, proofs, caller
// rights, exit codes) are the part of the devnet that must be right, so they
// live here without network, clock, database or goroutines, and are tested by
// calling Apply directly. Randomness and proof verification come in through
// the Env and Verifier interfaces, so tests can inject them and the node can
// back them with its chain and the proof engine.
//
// # What is modelled (spec/chain.md §4, §5, §8)
//
//   - Accounts (f1/f3 keys with an ID address), the system (f00), reward (f02),
//     power (f04) and burnt-funds (f099) actors.
//   - Miner actors with owner/worker/control addresses, seal and WindowPoSt
//     proof types, balance, pre-commit deposits, initial pledge, allocated
//     sector numbers, pre-committed and proven sectors, 48 deadlines with
//     partitions, faults and recoveries.
//   - Miner methods PreCommitSectorBatch2 (28), ProveCommitSectors3 (34),
//     ProveCommitSectorsNI (36, NI-PoRep CC sectors: no pre-commit, no
//     deposit, no seed; see proveCommitSectorsNI), SubmitWindowedPoSt (5), DeclareFaultsRecovered (11), WithdrawBalance (16)
//     with the validation order and exit codes of builtin-actors' miner actor;
//     removed methods (6, 7, 8, 25, 26, 27, 29) answer USR_UNHANDLED_MESSAGE
//     (22) as on mainnet. Methods a sealing pipeline never sends are not
//     implemented and also answer 22.
//   - Power and reward reduced to two documented formulas (see Policy):
//     deposit = 20 days of expected reward for a sector at 10× QA power,
//     initial pledge = 20 days of expected reward + 30 % of the circulating
//     supply share of the sector's power.
//
// # Gas model (devnet, documented, deterministic)
//
// GasUsed depends only on the message, never on execution, so
// GasEstimateMessageGas is exact and cheap:
//
//	GasUsed = 100_000 + 1_000 × len(signed message bytes) + method cost
//	method cost: 28 → 5_000_000 per sector; 34 and 36 → 50_000_000 per sector;
//	             5 → 20_000_000 per partition; 11 → 2_000_000 per declaration;
//	             other → 1_000_000
//
// The sender pays GasUsed × (BaseFee + effective premium); the BaseFee part is
// burnt (f099) and the premium goes to the reward actor. BaseFee is constant
// (Policy.BaseFee, default 100 attoFIL, Lotus's minimum). There is no
// over-estimation burn. GasUsed > GasLimit fails with SysErrOutOfGas (7)
// and charges GasLimit × BaseFee.
//
// # Devnet proofs
//
// ProveCommitSectors3 accepts, per sector, a devnet proof: the sector's C1
// vanilla proofs in porep's compact encoding (magic "SLNTC1v1"), verified in
// full with the proof engine. It is a devnet-only stand-in for a Groth16
// SNARK; a 192-byte Groth16 proof is rejected with a reason saying so.
// ProveCommitSectorsNI carries one "aggregate": c2.EncodeDevnetAggregate of
// every sector's devnet proof (NI-PoRep challenges, 13 partitions for the
// test sizes), in the place of a SnarkPackV2 aggregate.
// SubmitWindowedPoSt accepts fallback-PoSt vanilla proofs (see
// EncodeWindowPoStProof) and verifies every submission at once, where
// mainnet verifies only recovering PoSts and leaves the others to disputes. Because these are far bigger than SNARKs, the
// actor's per-sector proof-size limit (192 bytes × partitions) is not applied
// and the devnet's message size limit is raised (see the devnet package).
package state
