package sigs

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/types"
)

// ErrKeyMismatch is returned by SignMessage when the message's From is a
// key address that the given private key does not control; signing anyway
// would produce a message the chain rejects.
var ErrKeyMismatch = errors.New("sigs: private key does not match message sender")

// Sign signs msg with a private key of the given type. For chain messages
// msg is the 38-byte message CID (see [SignMessage]). secp256k1 signatures
// are deterministic (RFC 6979) and BLS signatures are deterministic by
// construction, so signing the same bytes twice yields the same signature.
func Sign(kind types.SigType, priv, msg []byte) (types.Signature, error) {
	var (
		data []byte
		err  error
	)
	switch kind {
	case types.SigTypeSecp256k1:
		data, err = secpSign(priv, msg)
	case types.SigTypeBLS:
		data, err = blsSign(priv, msg)
	default:
		return types.Signature{}, fmt.Errorf("sigs: sign with %v: %w", kind, ErrUnsupportedType)
	}
	if err != nil {
		return types.Signature{}, err
	}
	return types.Signature{Type: kind, Data: data}, nil
}

// Verify checks that sig is a signature over msg by the key behind addr.
// secp256k1: addr must be an f1 address; the public key is recovered from
// the signature and its blake2b-160 must equal the address payload. BLS:
// addr must be an f3 address, whose payload is the public key. An ID
// address cannot be verified against: resolve it with StateAccountKey
// first. Any failure wraps ErrInvalidSignature (or ErrUnsupportedType).
func Verify(sig types.Signature, addr address.Address, msg []byte) error {
	switch sig.Type {
	case types.SigTypeSecp256k1:
		if addr.Protocol() != address.SECP256K1 {
			return fmt.Errorf("sigs: secp256k1 signature for %s address %s: %w", protoName(addr), addr, ErrInvalidSignature)
		}
		pub, err := secpRecover(sig.Data, msg)
		if err != nil {
			return err
		}
		got, err := address.NewSecp256k1Address(pub)
		if err != nil {
			return fmt.Errorf("sigs: recovered key: %v: %w", err, ErrInvalidSignature)
		}
		if got != addr {
			return fmt.Errorf("sigs: signature is by %s, not %s: %w", got, addr, ErrInvalidSignature)
		}
		return nil
	case types.SigTypeBLS:
		if addr.Protocol() != address.BLS {
			return fmt.Errorf("sigs: bls signature for %s address %s: %w", protoName(addr), addr, ErrInvalidSignature)
		}
		return blsVerify(sig.Data, addr.Payload(), msg)
	default:
		return fmt.Errorf("sigs: verify %v signature: %w", sig.Type, ErrUnsupportedType)
	}
}

func protoName(a address.Address) string {
	switch a.Protocol() {
	case address.ID:
		return "an ID"
	case address.SECP256K1:
		return "an f1"
	case address.Actor:
		return "an f2"
	case address.BLS:
		return "an f3"
	case address.Delegated:
		return "an f4"
	default:
		return "an undefined"
	}
}

// PublicKey derives the public key of a private key: 65-byte uncompressed
// SEC1 for secp256k1, 48-byte compressed G1 for BLS.
func PublicKey(kind types.SigType, priv []byte) ([]byte, error) {
	switch kind {
	case types.SigTypeSecp256k1:
		return secpPublicKey(priv)
	case types.SigTypeBLS:
		return blsPublicKey(priv)
	default:
		return nil, fmt.Errorf("sigs: public key for %v: %w", kind, ErrUnsupportedType)
	}
}

// AddressOf returns the f1 (secp256k1) or f3 (BLS) address of a private key.
func AddressOf(kind types.SigType, priv []byte) (address.Address, error) {
	pub, err := PublicKey(kind, priv)
	if err != nil {
		return address.Undef, err
	}
	if kind == types.SigTypeSecp256k1 {
		return address.NewSecp256k1Address(pub)
	}
	return address.NewBLSAddress(pub)
}

// GenerateKey creates a private key of the given type in the Lotus byte
// layout (big-endian for secp256k1, little-endian for BLS), reading
// entropy from r, or from crypto/rand when r is nil.
func GenerateKey(kind types.SigType, r io.Reader) ([]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	switch kind {
	case types.SigTypeSecp256k1:
		return secpGenerate(r)
	case types.SigTypeBLS:
		return blsGenerate(r)
	default:
		return nil, fmt.Errorf("sigs: generate %v key: %w", kind, ErrUnsupportedType)
	}
}

// SigningBytes returns what a Filecoin account signs for msg: the bytes of
// its CID (38 bytes: CIDv1, dag-cbor, blake2b-256), not the CBOR itself.
func SigningBytes(msg *types.Message) ([]byte, error) {
	c := msg.Cid()
	if !c.Defined() {
		return nil, fmt.Errorf("sigs: message cannot be encoded (to %s, method %d): %w", msg.To, msg.Method, types.ErrMessage)
	}
	return c.Bytes(), nil
}

// SignMessage signs msg with priv and returns the SignedMessage ready for
// MpoolPush. If msg.From is a key address (f1/f3) it must be the key's own
// address; an ID-address sender cannot be checked here.
func SignMessage(kind types.SigType, priv []byte, msg *types.Message) (*types.SignedMessage, error) {
	if p := msg.From.Protocol(); p == address.SECP256K1 || p == address.BLS {
		own, err := AddressOf(kind, priv)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(own.Bytes(), msg.From.Bytes()) {
			return nil, fmt.Errorf("sigs: key is %s, message from %s: %w", own, msg.From, ErrKeyMismatch)
		}
	}
	toSign, err := SigningBytes(msg)
	if err != nil {
		return nil, err
	}
	sig, err := Sign(kind, priv, toSign)
	if err != nil {
		return nil, err
	}
	return &types.SignedMessage{Message: *msg, Signature: sig}, nil
}

// VerifyMessage checks the signature of sm against its sender, which must
// be a key address (resolve ID senders with StateAccountKey and use
// [Verify] directly).
func VerifyMessage(sm *types.SignedMessage) error {
	toSign, err := SigningBytes(&sm.Message)
	if err != nil {
		return err
	}
	return Verify(sm.Signature, sm.Message.From, toSign)
}
