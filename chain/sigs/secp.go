package sigs

import (
	"fmt"
	"io"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"golang.org/x/crypto/blake2b"
)

// Secp256k1 sizes.
const (
	// SecpPrivateKeySize is the length of a secp256k1 private key: a
	// big-endian scalar in [1, N-1].
	SecpPrivateKeySize = 32
	// SecpPublicKeySize is the length of the uncompressed SEC1 public key
	// (0x04 || X || Y) that f1 addresses hash.
	SecpPublicKeySize = 65
	// SecpSignatureSize is the length of a Filecoin secp256k1 signature:
	// R(32) || S(32) || V(1) with V the recovery id.
	SecpSignatureSize = 65
)

// decred's compact format is V(27+recid) || R || S; Filecoin's is
// R || S || recid. compactMagic is decred's offset for uncompressed keys.
const compactMagic = 27

// secpKey parses a 32-byte big-endian private scalar, rejecting zero and
// values ≥ N rather than silently reducing them (decred's PrivKeyFromBytes
// reduces, which would turn a corrupt key file into a different valid key).
func secpKey(priv []byte) (*secp256k1.PrivateKey, error) {
	if len(priv) != SecpPrivateKeySize {
		return nil, fmt.Errorf("sigs: secp256k1 private key is %d bytes, want %d: %w", len(priv), SecpPrivateKeySize, ErrInvalidPrivateKey)
	}
	var s secp256k1.ModNScalar
	if overflow := s.SetByteSlice(priv); overflow || s.IsZero() {
		return nil, fmt.Errorf("sigs: secp256k1 private key out of range: %w", ErrInvalidPrivateKey)
	}
	return secp256k1.NewPrivateKey(&s), nil
}

func secpPublicKey(priv []byte) ([]byte, error) {
	k, err := secpKey(priv)
	if err != nil {
		return nil, err
	}
	defer k.Zero()
	return k.PubKey().SerializeUncompressed(), nil
}

// secpSign signs blake2b-256(msg) with RFC 6979 deterministic nonces.
// decred normalises S to the lower half of the order (flipping the
// recovery id), which matches go-crypto's RejectMalleable; the output is
// therefore byte-identical to Lotus for the same key and message.
func secpSign(priv, msg []byte) ([]byte, error) {
	k, err := secpKey(priv)
	if err != nil {
		return nil, err
	}
	defer k.Zero()
	digest := blake2b.Sum256(msg)
	compact := ecdsa.SignCompact(k, digest[:], false)
	out := make([]byte, SecpSignatureSize)
	copy(out[0:64], compact[1:65])
	out[64] = compact[0] - compactMagic
	return out, nil
}

// secpRecover returns the uncompressed public key that produced sig over
// msg. High-S signatures are rejected: every conforming signer emits low-S,
// and accepting both forms would give one message two valid signatures
// (and two signed-message CIDs).
func secpRecover(sig, msg []byte) ([]byte, error) {
	if len(sig) != SecpSignatureSize {
		return nil, fmt.Errorf("sigs: secp256k1 signature is %d bytes, want %d: %w", len(sig), SecpSignatureSize, ErrInvalidSignature)
	}
	if sig[64] > 3 {
		return nil, fmt.Errorf("sigs: secp256k1 recovery id %d not in 0..3: %w", sig[64], ErrInvalidSignature)
	}
	var s secp256k1.ModNScalar
	if overflow := s.SetByteSlice(sig[32:64]); overflow || s.IsOverHalfOrder() {
		return nil, fmt.Errorf("sigs: secp256k1 signature has high S: %w", ErrInvalidSignature)
	}
	var compact [SecpSignatureSize]byte
	compact[0] = compactMagic + sig[64]
	copy(compact[1:], sig[:64])
	digest := blake2b.Sum256(msg)
	pub, _, err := ecdsa.RecoverCompact(compact[:], digest[:])
	if err != nil {
		return nil, fmt.Errorf("sigs: secp256k1 recover: %v: %w", err, ErrInvalidSignature)
	}
	return pub.SerializeUncompressed(), nil
}

func secpGenerate(r io.Reader) ([]byte, error) {
	k, err := secp256k1.GeneratePrivateKeyFromRand(r)
	if err != nil {
		return nil, fmt.Errorf("sigs: generate secp256k1 key: %w", err)
	}
	defer k.Zero()
	return k.Serialize(), nil
}
