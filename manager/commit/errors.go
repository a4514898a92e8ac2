package commit

import "errors"

// Sentinel errors of the package.
var (
	// ErrConfig: the pipeline configuration is invalid.
	ErrConfig = errors.New("commit: invalid config")
	// ErrPolicy: a tenant policy value cannot be applied.
	ErrPolicy = errors.New("commit: invalid tenant policy")
	// ErrReceipt: a receipt does not match its message.
	ErrReceipt = errors.New("commit: inconsistent receipt")
	// ErrSignerUnavailable: no signer can sign for the tenant right now
	// (none connected, or it did not answer). Signer implementations wrap
	// it; the batch then waits, shown as WaitingForSigner.
	ErrSignerUnavailable = errors.New("commit: no signer available")
	// ErrBadSignature: a signer returned a signature that does not verify
	// for the message and sender.
	ErrBadSignature = errors.New("commit: signer returned an invalid signature")
)
