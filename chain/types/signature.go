package types

import (
	"errors"

	"github.com/filecoin-project/go-state-types/crypto"
)

// SigType identifies a signature scheme (go-state-types crypto).
type SigType = crypto.SigType

// Signature types. The numbers are consensus-critical: they are the first
// byte of a signature's CBOR form.
const (
	// SigTypeUnknown marks an unset signature; it is never valid on chain.
	SigTypeUnknown = crypto.SigTypeUnknown
	// SigTypeSecp256k1 is a 65-byte recoverable ECDSA signature (R||S||V).
	SigTypeSecp256k1 = crypto.SigTypeSecp256k1
	// SigTypeBLS is a 96-byte BLS12-381 G2 signature.
	SigTypeBLS = crypto.SigTypeBLS
	// SigTypeDelegated is a 65-byte secp256k1 signature over an Ethereum
	// transaction, used by f4 (EAM) senders.
	SigTypeDelegated = crypto.SigTypeDelegated
)

// SignatureMaxLength bounds the CBOR content (type byte + data) of a signature.
const SignatureMaxLength = crypto.SignatureMaxLength

// ErrSignature is wrapped by Sealant's signature checks.
var ErrSignature = errors.New("types: invalid signature")

// Signature is a typed signature (go-state-types crypto). Its CBOR form is
// the byte string type||data; JSON: {"Type":1,"Data":"<base64>"}.
type Signature = crypto.Signature
