// Package address implements Filecoin actor addresses: the binary form
// (protocol byte followed by payload), the human-readable string form
// ("f"/"t" network prefix, protocol digit, base32 payload with a blake2b-32
// checksum), and the CBOR (byte string) and JSON (string) encodings that
// appear in chain messages and in the Lotus JSON-RPC API.
//
// Why a local implementation: the filecoin-project Go modules cannot be
// used by this repository, yet the service must produce and consume
// addresses that are bit-exact with go-address (spec/chain.md §1). Decoding
// is deliberately strict — exact payload lengths, canonical ID varints,
// canonical base32, verified checksums — because addresses arrive from
// untrusted callers (API clients, config files, signed-message payloads) and
// a lenient parser would let two different strings name the same actor.
//
// The network prefix of String() is taken from CurrentNetwork (Testnet by
// default, matching calibnet and local devnets). Parse accepts either
// prefix, as go-address does; callers that care compare Network().
package address
