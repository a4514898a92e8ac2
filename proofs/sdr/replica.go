package sdr

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/sealant/sealant/proofs/abi"
)

// ReplicaID derives the replica id that seeds every label of a sector
// (rust-fil-proofs generate_replica_id, spec §4.3):
//
//	trunc254(SHA-256(prover_id ‖ u64_be(sector) ‖ ticket ‖ comm_d ‖ porep_id))
//
// The sector number is big-endian, unlike most integers in the proofs, and
// the top two bits of byte 31 are cleared so the id is a valid field element.
func ReplicaID(proverID [32]byte, sector uint64, ticket, commD [32]byte, proof abi.RegisteredSealProof) [32]byte {
	porepID := proof.PoRepID()
	var msg [32 + 8 + 32 + 32 + 32]byte
	copy(msg[0:32], proverID[:])
	binary.BigEndian.PutUint64(msg[32:40], sector)
	copy(msg[40:72], ticket[:])
	copy(msg[72:104], commD[:])
	copy(msg[104:136], porepID[:])
	id := sha256.Sum256(msg[:])
	id[31] &= 0x3f
	return id
}

// ProverID is the 32-byte prover id of a miner actor: the unsigned LEB128
// encoding of the actor id (the payload of its ID address) right-padded with
// zeros (filecoin-ffi toProverID, spec §4.2).
func ProverID(actorID uint64) [32]byte {
	var p [32]byte
	binary.PutUvarint(p[:], actorID)
	return p
}
