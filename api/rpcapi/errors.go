package rpcapi

import (
	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/rpc"
)

// Errors is the rpc error registry of every Sealant API, built from
// api.ErrorCodes: servers answer a registered sentinel with its code, and
// clients dialled with rpc.WithErrorRegistry(rpcapi.Errors) get the same
// sentinel back (errors.Is(err, api.ErrSectorDone) holds on the worker).
var Errors = newRegistry(api.ErrorCodes)

func newRegistry(codes []api.ErrorCode) *rpc.ErrorRegistry {
	r := rpc.NewErrorRegistry()
	for _, e := range codes {
		r.Register(e.Code, e.Err)
	}
	return r
}
