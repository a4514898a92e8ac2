// Package bitfield is Sealant's thin layer over go-bitfield
// (github.com/filecoin-project/go-bitfield), whose BitField is the type the
// miner actor params carry (SubmitWindowedPoSt Skipped, DeclareFaultsRecovered
// Sectors, ProveCommitAggregate SectorNumbers).
//
// What it adds, and why: go-bitfield decodes lazily (UnmarshalCBOR keeps the
// bytes and checks them on first use) and keeps the input bytes on re-encode.
// The consensus decoder (ref-fvm ipld/bitfield, used by builtin-actors)
// refuses every non-canonical encoding. FromBytes and Check apply that rule
// at once: an encoding is accepted only if it decodes and go-bitfield's own
// encoder writes the same bytes back, so a message whose params pass Check
// keeps its bytes and its CID, and a signer refuses what the chain refuses.
package bitfield
