package rpcapi

import (
	"context"

	"github.com/sealant/sealant/rpc"
)

// Caller is a connection to call methods on: *rpc.Client and *rpc.Peer
// satisfy it, and so does a wrapper that redials.
type Caller interface {
	Call(ctx context.Context, method string, result any, params ...any) error
}

// Method is one entry of a server method table: the wire name and the
// handler that decodes the parameters and calls the implementation.
type Method struct {
	Name    string
	Handler rpc.Handler
}

// call is the common shape of a typed client method with a result.
func call[R any](ctx context.Context, c Caller, method string, params ...any) (R, error) {
	var r R
	err := c.Call(ctx, method, &r, params...)
	return r, err
}
