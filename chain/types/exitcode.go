package types

import "strconv"

// ExitCode is the result code of a message execution (go-state-types
// exitcode). 0 is success; 1–15 are system errors raised by the VM; 16–31
// are common actor errors; 32 and above are actor-specific.
type ExitCode int64

// Exit codes shared by all actors (go-state-types exitcode/reserved.go,
// common.go; builtin-actors ExitCode constants).
const (
	Ok ExitCode = 0

	SysErrSenderInvalid      ExitCode = 1  // sender is not a valid account
	SysErrSenderStateInvalid ExitCode = 2  // sender nonce/state mismatch
	SysErrReserved1          ExitCode = 3  // formerly SysErrInvalidMethod
	SysErrIllegalInstruction ExitCode = 4  // actor performed an illegal operation
	SysErrInvalidReceiver    ExitCode = 5  // receiver does not exist and cannot be created
	SysErrInsufficientFunds  ExitCode = 6  // sender cannot cover value + gas
	SysErrOutOfGas           ExitCode = 7  // GasLimit exhausted
	SysErrReserved2          ExitCode = 8  // formerly SysErrForbidden
	SysErrIllegalExitCode    ExitCode = 9  // actor aborted with a reserved code
	SysErrFatal              ExitCode = 10 // internal VM error
	SysErrMissingReturn      ExitCode = 11 // actor failed to return a value

	ErrIllegalArgument   ExitCode = 16 // USR_ILLEGAL_ARGUMENT
	ErrNotFound          ExitCode = 17 // USR_NOT_FOUND
	ErrForbidden         ExitCode = 18 // USR_FORBIDDEN (e.g. caller not a control address, too early to prove)
	ErrInsufficientFunds ExitCode = 19 // USR_INSUFFICIENT_FUNDS (deposit / pledge shortfall)
	ErrIllegalState      ExitCode = 20 // USR_ILLEGAL_STATE
	ErrSerialization     ExitCode = 21 // USR_SERIALIZATION (bad params CBOR)
	ErrUnhandledMessage  ExitCode = 22 // USR_UNHANDLED_MESSAGE (method removed or unknown)
	ErrUnspecified       ExitCode = 23 // USR_UNSPECIFIED
	ErrAssertionFailed   ExitCode = 24 // USR_ASSERTION_FAILED
	ErrReadOnly          ExitCode = 25 // USR_READ_ONLY
	ErrNotPayable        ExitCode = 26 // USR_NOT_PAYABLE

	// FirstActorSpecificExitCode is the first code an actor may define.
	FirstActorSpecificExitCode ExitCode = 32
)

var exitCodeNames = map[ExitCode]string{
	Ok:                       "Ok",
	SysErrSenderInvalid:      "SysErrSenderInvalid",
	SysErrSenderStateInvalid: "SysErrSenderStateInvalid",
	SysErrReserved1:          "SysErrReserved1",
	SysErrIllegalInstruction: "SysErrIllegalInstruction",
	SysErrInvalidReceiver:    "SysErrInvalidReceiver",
	SysErrInsufficientFunds:  "SysErrInsufficientFunds",
	SysErrOutOfGas:           "SysErrOutOfGas",
	SysErrReserved2:          "SysErrReserved2",
	SysErrIllegalExitCode:    "SysErrIllegalExitCode",
	SysErrFatal:              "SysErrFatal",
	SysErrMissingReturn:      "SysErrMissingReturn",
	ErrIllegalArgument:       "ErrIllegalArgument",
	ErrNotFound:              "ErrNotFound",
	ErrForbidden:             "ErrForbidden",
	ErrInsufficientFunds:     "ErrInsufficientFunds",
	ErrIllegalState:          "ErrIllegalState",
	ErrSerialization:         "ErrSerialization",
	ErrUnhandledMessage:      "ErrUnhandledMessage",
	ErrUnspecified:           "ErrUnspecified",
	ErrAssertionFailed:       "ErrAssertionFailed",
	ErrReadOnly:              "ErrReadOnly",
	ErrNotPayable:            "ErrNotPayable",
}

// IsSuccess reports whether the code is Ok.
func (x ExitCode) IsSuccess() bool { return x == Ok }

// IsSystemError reports whether the VM (not the actor) produced the code.
func (x ExitCode) IsSystemError() bool { return x > 0 && x < 16 }

// Name returns the symbolic name, or "" for codes without one.
func (x ExitCode) Name() string { return exitCodeNames[x] }

// String returns "Name(n)" for known codes (as go-state-types does) and the
// plain number otherwise.
func (x ExitCode) String() string {
	if n, ok := exitCodeNames[x]; ok {
		return n + "(" + strconv.FormatInt(int64(x), 10) + ")"
	}
	return strconv.FormatInt(int64(x), 10)
}
