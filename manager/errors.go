package manager

import (
	"errors"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/rpc"
)

// Sentinel errors of the manager's APIs. Each has a wire code (see
// Errors), so a client using that registry can test them with errors.Is.
var (
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

// Errors is the error registry of the manager's RPC server. Clients of the
// manager (worker, CLI) dial with rpc.WithErrorRegistry(manager.Errors) to
// get the sentinels back. It is a private registry rather than
// rpc.DefaultErrors so that other services in the same binary can map the
// shared api codes to their own sentinels without a duplicate
// registration.
var Errors = rpc.NewErrorRegistry()

func init() {
	Errors.Register(api.CodePermission, ErrPermission)
	Errors.Register(api.CodeNotFound, ErrNotFound)
	Errors.Register(api.CodeNotLeaseHolder, ErrNotLeaseHolder)
	Errors.Register(api.CodeTenantPaused, ErrTenantPaused)
	Errors.Register(api.CodeConflict, ErrConflict)
	Errors.Register(api.CodeInvalid, ErrInvalid)
	Errors.Register(api.CodeNoChain, ErrNoChain)
	Errors.Register(api.CodeSectorDone, ErrSectorDone)
}
