package porep

import (
	"crypto/sha256"
	"encoding/binary"
	"math/big"
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
