package porep

import (
	"crypto/sha256"
	"encoding/binary"
	"math/big"

	"github.com/sealant/sealant/proofs/abi"
)

// InteractiveChallenges derives the interactive PoRep challenges of a V1_1
// sector (rust-fil-proofs challenges.rs InteractiveChallenges::derive;
// shared/spec/porep.md §9.1): for j = 0 .. partitions·perPartition−1,
//
//	c_j = (LE-integer(SHA-256(replica_id ‖ seed ‖ u32_le(j))) mod (nodes−1)) + 1
//
// The result is indexed [partition][i]. Node 0 is never challenged and
// duplicates are kept, as in the reference.
func InteractiveChallenges(replicaID, seed [32]byte, nodes uint64, partitions, perPartition int) [][]uint64 {
	mod := new(big.Int).SetUint64(nodes - 1)
	var buf [68]byte
	copy(buf[:32], replicaID[:])
	copy(buf[32:64], seed[:])
	out := make([][]uint64, partitions)
	h := new(big.Int)
	var be [32]byte
	for k := range partitions {
		out[k] = make([]uint64, perPartition)
		for i := range perPartition {
			j := uint32(perPartition*k + i)
			binary.LittleEndian.PutUint32(buf[64:], j)
			sum := sha256.Sum256(buf[:])
			for x := range 32 { // big.Int wants big-endian
				be[x] = sum[31-x]
			}
			h.SetBytes(be[:])
			h.Mod(h, mod)
			out[k][i] = h.Uint64() + 1
		}
	}
	return out
}

// niTag domain-separates NI-PoRep challenges (challenges.rs NiChallenges).
const niTag = "filecoin.io|PoRep|1|NonInteractive|1"

// NIChallenges derives the non-interactive (FIP-0092) PoRep challenges of a
// sector (rust-fil-proofs storage-proofs-porep/src/stacked/vanilla/
// challenges.rs NiChallenges::derive, commit 87348a7): for
// j = 0 .. partitions·perPartition−1,
//
//	c_j = (LE-integer(SHA-256(tag ‖ replica_id ‖ comm_r ‖ u32_le(j))) mod (nodes−1)) + 1
//
// with tag "filecoin.io|PoRep|1|NonInteractive|1" and comm_r the sector's
// 32-byte little-endian CommR. No seed enters: the prover cannot choose the
// challenges because comm_r commits to the replica first. The result is
// indexed [partition][i]; duplicates are kept.
func NIChallenges(replicaID, commR [32]byte, nodes uint64, partitions, perPartition int) [][]uint64 {
	mod := new(big.Int).SetUint64(nodes - 1)
	buf := make([]byte, 0, len(niTag)+68)
	buf = append(buf, niTag...)
	buf = append(buf, replicaID[:]...)
	buf = append(buf, commR[:]...)
	buf = append(buf, 0, 0, 0, 0)
	jAt := len(buf) - 4
	out := make([][]uint64, partitions)
	h := new(big.Int)
	var be [32]byte
	for k := range partitions {
		out[k] = make([]uint64, perPartition)
		for i := range perPartition {
			binary.LittleEndian.PutUint32(buf[jAt:], uint32(perPartition*k+i))
			sum := sha256.Sum256(buf)
			for x := range 32 {
				be[x] = sum[31-x]
			}
			h.SetBytes(be[:])
			h.Mod(h, mod)
			out[k][i] = h.Uint64() + 1
		}
	}
	return out
}

// Challenges is the challenge set of a sector sealed with p, indexed
// [partition][i]: NIChallenges from replica_id and comm_r for NI-PoRep
// proofs (seed ignored, as seal_commit_phase1 ignores it), otherwise
// InteractiveChallenges from replica_id and seed.
func Challenges(p abi.RegisteredSealProof, replicaID, commR, seed [32]byte) [][]uint64 {
	if p.IsNI() {
		return NIChallenges(replicaID, commR, p.Nodes(), p.Partitions(), p.ChallengesPerPartition())
	}
	return InteractiveChallenges(replicaID, seed, p.Nodes(), p.Partitions(), p.ChallengesPerPartition())
}
