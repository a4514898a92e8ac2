package worker

import (
	"context"
	"errors"
	"sync"

	"github.com/sealant/sealant/rpc"
)

// redialCaller is a Caller over a connection that can drop, for manager
// URLs of the ws:// and wss:// kind: one WebSocket carries every thread's
// calls (cheaper for the manager than a request per call), but an rpc
// client does not reconnect by itself. Before a call it dials again if the
// connection is gone, and a call that failed because the connection closed
// under it is sent once more on the new one. That repeat is safe because
// every worker-API method is idempotent: a submission that did arrive the
// first time is acknowledged as a duplicate.
type redialCaller struct {
	dial func(context.Context) (*rpc.Client, error)

	mu sync.Mutex
	c  *rpc.Client
}

// newRedialCaller dials once, so a wrong URL or token fails at start.
func newRedialCaller(ctx context.Context, dial func(context.Context) (*rpc.Client, error)) (*redialCaller, error) {
	r := &redialCaller{dial: dial}
	if _, err := r.client(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// client returns the live connection, dialing a new one if it is gone.
func (r *redialCaller) client(ctx context.Context) (*rpc.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c != nil {
		select {
		case <-r.c.Done():
			_ = r.c.Close()
			r.c = nil
		default:
			return r.c, nil
		}
	}
	c, err := r.dial(ctx)
	if err != nil {
		return nil, err
	}
	r.c = c
	return c, nil
}

// Call implements Caller.
func (r *redialCaller) Call(ctx context.Context, method string, result any, params ...any) error {
	for attempt := 0; ; attempt++ {
		c, err := r.client(ctx)
		if err != nil {
			return err
		}
		err = c.Call(ctx, method, result, params...)
		if attempt == 0 && errors.Is(err, rpc.ErrConnClosed) && ctx.Err() == nil {
			continue
		}
		return err
	}
}

// Close closes the current connection.
func (r *redialCaller) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c == nil {
		return nil
	}
	err := r.c.Close()
	r.c = nil
	return err
}
