package poseidon

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// ElementFromBytes decodes a Filecoin domain element: 32 bytes holding a
// little-endian integer that must be below the field modulus (rust-fil-proofs
// fr32 bytes_into_fr / Fr::from_repr_vartime). Non-canonical encodings are
// rejected with ErrNonCanonical rather than reduced, because reducing would
// let two different byte strings name the same tree node.
func ElementFromBytes(b [32]byte) (fr.Element, error) {
	e, err := fr.LittleEndian.Element(&b)
	if err != nil {
		return fr.Element{}, fmt.Errorf("%w: %x", ErrNonCanonical, b)
	}
	return e, nil
}

// ElementToBytes encodes e in the 32-byte little-endian canonical form used
// on disk and in commitments (Fr::to_repr).
func ElementToBytes(e fr.Element) [32]byte {
	var b [32]byte
	fr.LittleEndian.PutElement(&b, e)
	return b
}
