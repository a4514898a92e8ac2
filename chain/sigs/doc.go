// Package sigs signs and verifies Filecoin account signatures (secp256k1
// and BLS) and reads and writes Lotus key exports.
//
// Why it exists: the sealing service must be able to sign PreCommit and
// ProveCommit messages with an SP-provided worker or control key (or check
// the signature a remote signer returned) without cgo-heavy Lotus
// dependencies, and its output must be byte-identical to Lotus so that
// message CIDs match what the node computes.
//
// # What is signed
//
// A chain message is signed over the 38 raw bytes of its CID
// ([SigningBytes]; spec/chain.md §2.2, §3.1), never over its CBOR.
//
// # secp256k1 (signature type 1)
//
// The private key is a 32-byte big-endian scalar. The signature is ECDSA
// over blake2b-256(msg) with RFC 6979 nonces, serialised as 65 bytes
// R ‖ S ‖ V with V the recovery id (0 or 1, not 27/28), and always low-S.
// Verification recovers the public key from the signature and compares
// blake2b-160 of its uncompressed form with the f1 address payload. High-S
// signatures are rejected (Lotus's signer never produces them).
//
// # BLS (signature type 2)
//
// IETF BLS, minimal-pubkey-size variant, basic scheme: public keys are
// 48-byte compressed G1 points (the f3 payload), signatures 96-byte
// compressed G2 points, hash-to-curve DST
// "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_" ([BLSDomainSeparationTag]).
// Private keys are 32-byte scalars serialised little-endian, as Lotus and
// filecoin-ffi store them; they are reversed before being handed to blst.
// The implementation uses supranational/blst (cgo), as Lotus does.
//
// secp256k1 stays on decred's secp256k1 (pure Go) rather than go-crypto
// v0.1.0: go-crypto's Sign draws its nonce from crypto/rand and
// GenerateKeyFromSeed ignores its reader, so neither Lotus's recorded
// signatures nor the deterministic keys of the tests below could be
// reproduced.
//
// # Checks against upstream data (testdata/vectors.json)
//
//   - Lotus CLI: a secp256k1 and a BLS key exported with `lotus wallet
//     export` (hex-lotus) and the output of `lotus wallet sign <addr>
//     44554b45` (as recorded in jsign/go-filsigner's tests). The key parses,
//     re-exports to the identical hex, derives the same f1/f3 address, and
//     Sign reproduces Lotus's signature byte for byte for both types. The
//     BLS case is what pins the little-endian private-key convention and
//     the NUL DST; the secp256k1 case pins RFC 6979, low-S and R‖S‖V.
//   - lotus lib/sigs/bls/bls_test.go: a BLS signature over "potato" that
//     verifies against its f3 address, and its corrupted, over-long and
//     uncompressed variants that must not.
//   - filecoin-project/serialization-vectors message_signing.json: two
//     BLS private keys (little-endian) and their f3 addresses. Their
//     recorded signatures predate mainnet's hash-to-curve and are checked
//     to NOT verify, so only key → address is pinned by this source.
//   - shared/vectors/message.json: the Lotus message CID vector, signed and
//     verified through [SignMessage]/[VerifyMessage].
//
// # Keys
//
// [KeyInfo] is Lotus's export format: JSON {"Type":"secp256k1"|"bls",
// "PrivateKey":base64} ("json-lotus") or the hex of those bytes
// ("hex-lotus", the default of `lotus wallet export`). [ParseKeyInfo]
// accepts both; [KeyInfo.HexLotus] and json.Marshal produce them.
//
// All functions are safe for concurrent use. Private keys passed in are
// not retained; copies made internally are zeroed when possible.
package sigs
