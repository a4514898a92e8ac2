package manager

import (
	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/api/rpcapi"
)

// Sentinel errors of the manager's APIs. They are package api's (the
// error registry, api.ErrorCodes, owns them and their wire codes); the
// names here keep the manager's code and its callers readable. A client
// dialled with rpc.WithErrorRegistry(Errors) gets them back, so
// errors.Is works across the wire.
var (
	// ErrPermission: the token may not touch that tenant, sector or method.
	ErrPermission = api.ErrPermission
	// ErrNotFound: no such sector, tenant, token or worker.
	ErrNotFound = api.ErrNotFound
	// ErrNotLeaseHolder: another worker identity holds the sector's lease.
	ErrNotLeaseHolder = api.ErrNotLeaseHolder
	// ErrTenantPaused: the tenant is paused.
	ErrTenantPaused = api.ErrTenantPaused
	// ErrConflict: the request contradicts stored state.
	ErrConflict = api.ErrConflict
	// ErrInvalid: a malformed argument.
	ErrInvalid = api.ErrInvalid
	// ErrNoChain: the manager has no chain connection for this call.
	ErrNoChain = api.ErrNoChain
	// ErrSectorDone: the sector is finalized or aborted.
	ErrSectorDone = api.ErrSectorDone
)

// Errors is the error registry of the manager's RPC server and of its
// clients (worker, CLI, signer): the one built from api.ErrorCodes.
var Errors = rpcapi.Errors
