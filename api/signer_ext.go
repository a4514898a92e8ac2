package api

import "crypto/sha256"

// Address proofs. The manager sends SealantSigner.ProveAddresses a fresh
// random challenge of ChallengeSize bytes; a signer never signs the
// challenge itself but AddressProofBytes(challenge, address), a
// domain-separated SHA-256 digest. The digest is 32 bytes, so it can never
// equal the 38 CID bytes a chain message signature covers, and the manager
// cannot choose its preimage: the proof step cannot be abused as a blind
// signing oracle (the same concern venus-gateway's "verifyaddress" meta type
// addresses by mixing in wallet-chosen bytes; spec/chain.md §7.2).
const (
	// ChallengeSize is the length of an address-proof challenge.
	ChallengeSize = 32
	// AddressProofDomain separates address-proof digests from anything
	// else a Filecoin key signs.
	AddressProofDomain = "sealant/signer/address-proof/v1"
)

// AddressProofBytes returns the bytes a signer signs to prove it holds the
// key of the address whose binary form (protocol byte ‖ payload) is addr:
// sha256(AddressProofDomain ‖ 0x00 ‖ challenge ‖ addr). Binding the address
// stops a proof for one address being replayed for another key type that
// happens to verify.
func AddressProofBytes(challenge, addr []byte) []byte {
	h := sha256.New()
	h.Write([]byte(AddressProofDomain))
	h.Write([]byte{0})
	h.Write(challenge)
	h.Write(addr)
	return h.Sum(nil)
}
