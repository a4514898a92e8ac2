package rpc

import (
	"context"
	"fmt"
)

// Peer is the server's handle on one WebSocket client. JSON-RPC is
// symmetric on a WebSocket, so the server can call methods the client
// registered (WithHandler) — this is how the manager asks a connected
// signer to sign. A Peer is safe for concurrent use.
type Peer struct {
	c      *wsConn
	claims *Claims
	remote string
}

type peerKey struct{}

// PeerFrom returns the WebSocket peer a server handler is serving, or
// (nil, false) over HTTP. Handlers use it to call back or to refuse
// WebSocket-only work early.
func PeerFrom(ctx context.Context) (*Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(*Peer)
	return p, ok && p != nil
}

// Claims returns the verified claims the peer connected with (nil when
// anonymous). They are fixed for the connection's life; expiry and
// revocation are still re-checked on every call the peer makes.
func (p *Peer) Claims() *Claims { return p.claims }

// RemoteAddr returns the network address the connection came from.
func (p *Peer) RemoteAddr() string { return p.remote }

// Call calls method on the peer and decodes the result into result (which
// may be nil to discard it). Errors from the peer are *Error values mapped
// through the server's ErrorRegistry; a lost connection gives an error
// wrapping ErrConnClosed. When ctx ends first the peer is sent xrpc.cancel.
func (p *Peer) Call(ctx context.Context, method string, result any, params ...any) error {
	return p.c.call(ctx, method, result, params, nil)
}

// Notify sends a notification (no response, no delivery guarantee beyond
// the write).
func (p *Peer) Notify(ctx context.Context, method string, params ...any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := p.c.notify(method, params); err != nil {
		return fmt.Errorf("rpc: notify %s: %w", method, err)
	}
	return nil
}

// Subscribe calls a channel-returning method the peer serves.
func (p *Peer) Subscribe(ctx context.Context, method string, params ...any) (*Subscription, error) {
	return p.c.subscribe(ctx, method, params)
}

// Done is closed when the connection is gone.
func (p *Peer) Done() <-chan struct{} { return p.c.done }

// Close closes the connection (normal closure). Calls in flight on either
// side fail with ErrConnClosed.
func (p *Peer) Close() error { return p.c.close() }
