package sigs

import "errors"

// Sentinel errors. Every error returned by this package wraps one of them,
// so callers can tell a bad key from a bad signature with errors.Is.
var (
	// ErrInvalidSignature means a signature is malformed or does not
	// verify for the given address and message.
	ErrInvalidSignature = errors.New("sigs: invalid signature")
	// ErrInvalidPrivateKey means a private key has the wrong length or is
	// not a valid scalar for its curve.
	ErrInvalidPrivateKey = errors.New("sigs: invalid private key")
	// ErrUnsupportedType means the signature, key or address type is not
	// one this package can sign or verify (only secp256k1 and BLS).
	ErrUnsupportedType = errors.New("sigs: unsupported signature type")
)
