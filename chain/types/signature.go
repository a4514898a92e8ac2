package types

import (
	"errors"
	"fmt"
	"io"

	cbg "github.com/whyrusleeping/cbor-gen"
)

// SigType identifies a signature scheme (go-state-types crypto.SigType).
type SigType byte

// Signature types. The numbers are consensus-critical: they are the first
// byte of a signature's CBOR form.
const (
	// SigTypeUnknown marks an unset signature; it is never valid on chain.
	SigTypeUnknown SigType = 255
	// SigTypeSecp256k1 is a 65-byte recoverable ECDSA signature (R||S||V).
	SigTypeSecp256k1 SigType = 1
	// SigTypeBLS is a 96-byte BLS12-381 G2 signature.
	SigTypeBLS SigType = 2
	// SigTypeDelegated is a 65-byte secp256k1 signature over an Ethereum
	// transaction, used by f4 (EAM) senders.
	SigTypeDelegated SigType = 3
)

// SignatureMaxLength bounds the CBOR content (type byte + data) of a signature.
const SignatureMaxLength = 200

// ErrSignature is wrapped by signature decoding errors.
var ErrSignature = errors.New("types: invalid signature")

// String returns the scheme name used in Lotus key files.
func (t SigType) String() string {
	switch t {
	case SigTypeSecp256k1:
		return "secp256k1"
	case SigTypeBLS:
		return "bls"
	case SigTypeDelegated:
		return "delegated"
	default:
		return fmt.Sprintf("unknown(%d)", byte(t))
	}
}

// Signature is a typed signature. JSON: {"Type":1,"Data":"<base64>"}.
type Signature struct {
	Type SigType
	Data []byte
}

// MarshalCBOR writes the byte string type||data. A nil *Signature is null.
// The zero Signature (Type 0) encodes as 0x4100, as go-state-types does,
// even though it cannot be decoded back.
func (s *Signature) MarshalCBOR(w io.Writer) error {
	cw := cbg.NewCborWriter(w)
	if s == nil {
		_, err := cw.Write(cbg.CborNull)
		return err
	}
	if 1+len(s.Data) > SignatureMaxLength {
		return fmt.Errorf("%w: %d bytes exceeds %d", ErrSignature, 1+len(s.Data), SignatureMaxLength)
	}
	if err := cw.WriteMajorTypeHeader(cbg.MajByteString, uint64(1+len(s.Data))); err != nil {
		return err
	}
	if _, err := cw.Write([]byte{byte(s.Type)}); err != nil {
		return err
	}
	_, err := cw.Write(s.Data)
	return err
}

// UnmarshalCBOR reads a signature, accepting only the on-chain types 1, 2
// and 3, like go-state-types.
func (s *Signature) UnmarshalCBOR(r io.Reader) error {
	cr := cbg.NewCborReader(r)
	buf, err := CborReadBytes(cr, SignatureMaxLength)
	if err != nil {
		return fmt.Errorf("types: signature: %w", err)
	}
	if len(buf) == 0 {
		return fmt.Errorf("%w: %w: empty", ErrCBOR, ErrSignature)
	}
	switch t := SigType(buf[0]); t {
	case SigTypeSecp256k1, SigTypeBLS, SigTypeDelegated:
		s.Type = t
	default:
		return fmt.Errorf("%w: %w: type %d", ErrCBOR, ErrSignature, buf[0])
	}
	s.Data = buf[1:]
	return nil
}
