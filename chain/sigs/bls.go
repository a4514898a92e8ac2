package sigs

import (
	"fmt"
	"io"
	"slices"

	blst "github.com/supranational/blst/bindings/go"
)

// BLS sizes (IETF BLS, minimal-pubkey-size variant as used by Filecoin).
const (
	// BLSPrivateKeySize is the length of a BLS private key: a scalar
	// stored little-endian, as Lotus and filecoin-ffi serialise it.
	BLSPrivateKeySize = 32
	// BLSPublicKeySize is the length of a compressed G1 public key, which
	// is also the payload of an f3 address.
	BLSPublicKeySize = 48
	// BLSSignatureSize is the length of a compressed G2 signature.
	BLSSignatureSize = 96
)

// BLSDomainSeparationTag is the hash-to-G2 DST of the IETF "basic" (NUL)
// ciphersuite that Filecoin uses: no proof-of-possession augmentation, the
// message is signed as is.
const BLSDomainSeparationTag = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_"

var blsDST = []byte(BLSDomainSeparationTag)

// blsKey parses a little-endian private scalar. blst's FromLEndian reduces
// modulo r, so the range check is done on the big-endian form with
// Deserialize, which rejects zero and values ≥ r.
func blsKey(priv []byte) (*blst.SecretKey, error) {
	if len(priv) != BLSPrivateKeySize {
		return nil, fmt.Errorf("sigs: bls private key is %d bytes, want %d: %w", len(priv), BLSPrivateKeySize, ErrInvalidPrivateKey)
	}
	be := slices.Clone(priv)
	slices.Reverse(be)
	sk := new(blst.SecretKey).Deserialize(be)
	clear(be)
	if sk == nil {
		return nil, fmt.Errorf("sigs: bls private key out of range: %w", ErrInvalidPrivateKey)
	}
	return sk, nil
}

func blsPublicKey(priv []byte) ([]byte, error) {
	sk, err := blsKey(priv)
	if err != nil {
		return nil, err
	}
	defer sk.Zeroize()
	return new(blst.P1Affine).From(sk).Compress(), nil
}

func blsSign(priv, msg []byte) ([]byte, error) {
	sk, err := blsKey(priv)
	if err != nil {
		return nil, err
	}
	defer sk.Zeroize()
	return new(blst.P2Affine).Sign(sk, msg, blsDST).Compress(), nil
}

// blsVerify checks sig over msg against a compressed G1 public key. Both
// points are subgroup-checked and the public key must not be the identity
// (blst KeyValidate), so the all-zero "infinity" key that go-address can
// encode never verifies anything.
func blsVerify(sig, pub, msg []byte) error {
	if len(sig) != BLSSignatureSize {
		return fmt.Errorf("sigs: bls signature is %d bytes, want %d: %w", len(sig), BLSSignatureSize, ErrInvalidSignature)
	}
	if len(pub) != BLSPublicKeySize {
		return fmt.Errorf("sigs: bls public key is %d bytes, want %d: %w", len(pub), BLSPublicKeySize, ErrInvalidSignature)
	}
	pk := new(blst.P1Affine).Uncompress(pub)
	if pk == nil || !pk.KeyValidate() {
		return fmt.Errorf("sigs: bls public key is not a valid G1 point: %w", ErrInvalidSignature)
	}
	s := new(blst.P2Affine).Uncompress(sig)
	if s == nil {
		return fmt.Errorf("sigs: bls signature is not a valid G2 encoding: %w", ErrInvalidSignature)
	}
	if !s.Verify(true, pk, false, msg, blsDST) {
		return fmt.Errorf("sigs: bls signature does not verify: %w", ErrInvalidSignature)
	}
	return nil
}

// blsGenerate draws 32 bytes of input keying material and derives the key
// with the IETF KeyGen (HKDF-based), returning it little-endian. Lotus draws
// its keys differently (filecoin-ffi), but any scalar in [1, r-1] is a valid
// Filecoin BLS key.
func blsGenerate(r io.Reader) ([]byte, error) {
	var ikm [32]byte
	if _, err := io.ReadFull(r, ikm[:]); err != nil {
		return nil, fmt.Errorf("sigs: generate bls key: %w", err)
	}
	sk := blst.KeyGen(ikm[:])
	clear(ikm[:])
	if sk == nil {
		return nil, fmt.Errorf("sigs: generate bls key: keygen failed: %w", ErrInvalidPrivateKey)
	}
	defer sk.Zeroize()
	return sk.ToLEndian(), nil
}
