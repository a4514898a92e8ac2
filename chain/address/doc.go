// Package address is Sealant's thin layer over go-address
// (github.com/filecoin-project/go-address): Address is go-address's type, so
// messages, params and Lotus API values carry the field's own type, with its
// binary, string, CBOR and JSON forms.
//
// What this package adds, and why:
//   - Parse and FromBytes are stricter than go-address, because addresses
//     arrive from untrusted callers (API clients, config files, signed-message
//     payloads) and a lenient parser would let two strings name one actor:
//     decimal ids and f4 namespaces must be canonical (go-address accepts
//     "t001" for "t01"), the empty string and "<empty>" are errors rather than
//     Undef, and NewSecp256k1Address takes only a 65-byte uncompressed key.
//     JSON and CBOR decoding are go-address's own methods: JSON accepts what
//     go-address's parser accepts (e.g. "t001" for t01) and yields the
//     canonical address, so values compare equal; where a string must be
//     canonical (configs, policies, CLI), callers use Parse.
//   - Network is the one-letter prefix ('f' or 't'), so Format(a, n) can print
//     an address for either network whatever go-address's CurrentNetwork is.
//   - go-address prints "f" by default; this package switches it to "t" at
//     start-up (Sealant's devnet and calibnet), as Lotus's testnet builds do
//     (lotus build/params_2k.go SetAddressNetwork). SetNetwork changes it.
package address
