// Package fr32 implements Filecoin's Fr32 padding: the reversible expansion
// of every 127 bytes of raw data into 128 bytes made of four 32-byte words,
// each of which is a valid BLS12-381 scalar field element.
//
// Why it exists: the proof system works over the BLS12-381 scalar field,
// whose modulus is just under 2^255. Sector data is committed to (CommP,
// CommD) and later encoded with field arithmetic, so every 32-byte node must
// be a canonical little-endian field element. Fr32 achieves that by storing
// only 254 bits of data per 32-byte word and forcing the two most significant
// bits to zero; 4 × 254 = 1016 bits = 127 bytes, so the mapping works on
// independent 127-byte blocks.
//
// Bit order (shared/spec/porep.md §1, rust-fil-proofs fr32/src/reader.rs):
// the input is read as a little-endian bit stream, cut into 254-bit chunks;
// chunk k becomes word k, occupying its bits 0..253. Equivalently, for one
// block X (the little-endian integer of its 127 bytes) word k is
// (X >> 254k) mod 2^254.
//
// The package offers three layers:
//   - Pad and Unpad: in-memory block transforms on multiples of 127/128
//     bytes, working on 64-bit words (no per-bit loop);
//   - NewPadReader, NewUnpadReader and NewPadWriter: streaming adapters for
//     io pipelines (staging a piece into an unsealed sector, CommP);
//   - UnpaddedPieceSize and PaddedPieceSize: the size arithmetic and the
//     validity rules of go-state-types abi/piece.go.
package fr32
