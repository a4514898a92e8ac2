package api

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of Sealant's APIs. Each has one stable wire code in
// ErrorCodes; a server that returns an error wrapping one of them answers
// with that code, and a client dialled with the registry built from
// ErrorCodes (package api/rpcapi) gets the same sentinel back, so
// errors.Is works across the wire. The text names the service that
// answers (the manager, or the SP's signer), since that is what an
// operator reading it needs to know.
var (
	// ErrSignRefused: the SP's signer refused to sign (its policy or its
	// rate limit); the error message is the signer's reason.
	ErrSignRefused = errors.New("signer: refused")
	// ErrNoSigner: no signer of the tenant holding the sender's key is
	// connected to the manager.
	ErrNoSigner = errors.New("manager: no signer connected")
	// ErrPermission: the token may not touch that tenant, sector or method.
	ErrPermission = errors.New("manager: permission denied")
	// ErrNotFound: no such sector, tenant, token or worker.
	ErrNotFound = errors.New("manager: not found")
	// ErrNotLeaseHolder: another worker identity holds the sector's lease.
	ErrNotLeaseHolder = errors.New("manager: sector leased by another worker")
	// ErrTenantPaused: the tenant is paused.
	ErrTenantPaused = errors.New("manager: tenant paused")
	// ErrConflict: the request contradicts stored state.
	ErrConflict = errors.New("manager: conflict")
	// ErrInvalid: a malformed argument.
	ErrInvalid = errors.New("manager: invalid argument")
	// ErrNoChain: the manager has no chain connection for this call.
	ErrNoChain = errors.New("manager: no chain connection")
	// ErrSectorDone: the sector is finalized or aborted.
	ErrSectorDone = errors.New("manager: sector finalized or aborted")
)

// Application error codes on the wire (the JSON-RPC error object's
// "code"). They are stable: a code is never reused for another meaning,
// and the numbers stay clear of JSON-RPC's reserved range and of
// package rpc's transport codes.
const (
	// CodeSignRefused: ErrSignRefused.
	CodeSignRefused = 1001
	// CodeNoSigner: ErrNoSigner.
	CodeNoSigner = 1002
	// CodePermission: ErrPermission.
	CodePermission = 1003
	// CodeNotFound: ErrNotFound.
	CodeNotFound = 1004
	// CodeNotLeaseHolder: ErrNotLeaseHolder.
	CodeNotLeaseHolder = 1005
	// CodeTenantPaused: ErrTenantPaused.
	CodeTenantPaused = 1006
	// CodeConflict: ErrConflict.
	CodeConflict = 1010
	// CodeInvalid: ErrInvalid.
	CodeInvalid = 1011
	// CodeNoChain: ErrNoChain.
	CodeNoChain = 1012
	// CodeSectorDone: ErrSectorDone.
	CodeSectorDone = 1013
)

// ErrorCode is one entry of the error registry: a sentinel, its wire code
// and a stable name (what logs, metrics and docs use).
type ErrorCode struct {
	Code int
	Name string
	Err  error
	// GoName is the sentinel's name in package api.
	GoName string
	// Meaning is what a caller should understand by it (one sentence,
	// for docs/api-errors.md).
	Meaning string
}

// ErrorCodes is the registry of application errors, in code order. Both
// ends of every Sealant connection build their rpc error registry from it
// (api/rpcapi.Errors), so there is one table for the server's encoding and
// the client's decoding. Never renumber an entry; add new ones at the end.
var ErrorCodes = []ErrorCode{
	{CodeSignRefused, "sign_refused", ErrSignRefused, "ErrSignRefused",
		"The SP's signer refused the message (policy or rate limit); the message is its reason. Not retried with the same message."},
	{CodeNoSigner, "no_signer", ErrNoSigner, "ErrNoSigner",
		"No signer of the tenant that holds the sender's key is connected; the message waits for one."},
	{CodePermission, "permission", ErrPermission, "ErrPermission",
		"The token may not touch that tenant, sector or method."},
	{CodeNotFound, "not_found", ErrNotFound, "ErrNotFound",
		"No such sector, tenant, token or worker."},
	{CodeNotLeaseHolder, "not_lease_holder", ErrNotLeaseHolder, "ErrNotLeaseHolder",
		"Another worker identity holds the sector's lease: this thread must give the sector up."},
	{CodeTenantPaused, "tenant_paused", ErrTenantPaused, "ErrTenantPaused",
		"The tenant is paused by an operator; retry later."},
	{CodeConflict, "conflict", ErrConflict, "ErrConflict",
		"The request contradicts what the manager has stored (e.g. a different submission for the same sector)."},
	{CodeInvalid, "invalid", ErrInvalid, "ErrInvalid",
		"A malformed argument; repeating the same request cannot succeed."},
	{CodeNoChain, "no_chain", ErrNoChain, "ErrNoChain",
		"The manager has no chain connection for this call; retry later."},
	{CodeSectorDone, "sector_done", ErrSectorDone, "ErrSectorDone",
		"The sector is finalized or aborted: nothing more can be done for it."},
}

// ErrorByCode returns the registry entry of code.
func ErrorByCode(code int) (ErrorCode, bool) {
	for _, e := range ErrorCodes {
		if e.Code == code {
			return e, true
		}
	}
	return ErrorCode{}, false
}

// ErrorOf returns the registry entry of the first sentinel err wraps.
func ErrorOf(err error) (ErrorCode, bool) {
	for _, e := range ErrorCodes {
		if errors.Is(err, e.Err) {
			return e, true
		}
	}
	return ErrorCode{}, false
}

// ErrorsMarkdown renders the registry as the table of docs/api-errors.md
// (which a test keeps equal to this output).
func ErrorsMarkdown() string {
	var b strings.Builder
	b.WriteString("| code | name | Go sentinel (package api) | error text | meaning |\n|---|---|---|---|---|\n")
	for _, e := range ErrorCodes {
		fmt.Fprintf(&b, "| %d | `%s` | `%s` | `%s` | %s |\n", e.Code, e.Name, e.GoName, e.Err.Error(), e.Meaning)
	}
	return b.String()
}
