package types

import "github.com/filecoin-project/go-state-types/exitcode"

// ExitCode is the result code of a message execution (go-state-types
// exitcode): 0 is success, 1–15 system errors raised by the VM, 16–31
// common actor errors, 32 and above actor-specific.
type ExitCode = exitcode.ExitCode

// Exit codes shared by all actors, re-exported from go-state-types so that
// receipts and batch returns compare against one set of values.
const (
	Ok = exitcode.Ok

	SysErrSenderInvalid      = exitcode.SysErrSenderInvalid
	SysErrSenderStateInvalid = exitcode.SysErrSenderStateInvalid
	SysErrReserved1          = exitcode.SysErrReserved1
	SysErrIllegalInstruction = exitcode.SysErrIllegalInstruction
	SysErrInvalidReceiver    = exitcode.SysErrInvalidReceiver
	SysErrInsufficientFunds  = exitcode.SysErrInsufficientFunds
	SysErrOutOfGas           = exitcode.SysErrOutOfGas
	SysErrReserved2          = exitcode.SysErrReserved2
	SysErrIllegalExitCode    = exitcode.SysErrIllegalExitCode
	SysErrFatal              = exitcode.SysErrFatal
	SysErrMissingReturn      = exitcode.SysErrMissingReturn

	ErrIllegalArgument   = exitcode.ErrIllegalArgument
	ErrNotFound          = exitcode.ErrNotFound
	ErrForbidden         = exitcode.ErrForbidden
	ErrInsufficientFunds = exitcode.ErrInsufficientFunds
	ErrIllegalState      = exitcode.ErrIllegalState
	ErrSerialization     = exitcode.ErrSerialization
	ErrUnhandledMessage  = exitcode.ErrUnhandledMessage
	ErrUnspecified       = exitcode.ErrUnspecified
	ErrAssertionFailed   = exitcode.ErrAssertionFailed
	ErrReadOnly          = exitcode.ErrReadOnly
	ErrNotPayable        = exitcode.ErrNotPayable

	// FirstActorSpecificExitCode is the first code an actor may define.
	FirstActorSpecificExitCode = exitcode.FirstActorSpecificExitCode
)
