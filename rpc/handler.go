package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
)

// Handler serves one method. params are the positional parameters (a
// by-name params object arrives as the single element). The result is
// encoded with encoding/json (a json.RawMessage is sent as is); a *Stream
// result turns the call into a Lotus-style channel subscription. A returned
// error is mapped to a JSON-RPC error as described in the package doc.
//
// The context carries the caller's claims (ClaimsFrom) and, on a WebSocket,
// the connection (PeerFrom). It is cancelled when the caller goes away,
// cancels the call (xrpc.cancel), or when the call completes; for a *Stream
// result it lives until the stream ends. Handlers run concurrently.
type Handler func(ctx context.Context, params []json.RawMessage) (any, error)

// wantParams checks the positional parameter count; Lotus is strict about
// it and so are we, so a client built against a different signature fails
// loudly instead of silently getting zero values.
func wantParams(ps []json.RawMessage, n int) error {
	if len(ps) != n {
		return fmt.Errorf("%w: want %d params, got %d", ErrInvalidParams, n, len(ps))
	}
	return nil
}

// decodeParam decodes parameter i into *dst.
func decodeParam[P any](ps []json.RawMessage, i int, dst *P) error {
	if err := json.Unmarshal(ps[i], dst); err != nil {
		return fmt.Errorf("%w: param %d (%s): %w", ErrInvalidParams, i+1, reflect.TypeFor[P](), err)
	}
	return nil
}

// Func0 adapts a typed method without parameters to a Handler.
func Func0[R any](f func(context.Context) (R, error)) Handler {
	return func(ctx context.Context, ps []json.RawMessage) (any, error) {
		if err := wantParams(ps, 0); err != nil {
			return nil, err
		}
		return f(ctx)
	}
}

// Func1 adapts a typed one-parameter method to a Handler. Parameters are
// decoded with encoding/json; a count or type mismatch is answered with
// -32602 naming the parameter.
func Func1[P1, R any](f func(context.Context, P1) (R, error)) Handler {
	return func(ctx context.Context, ps []json.RawMessage) (any, error) {
		var p1 P1
		if err := wantParams(ps, 1); err != nil {
			return nil, err
		}
		if err := decodeParam(ps, 0, &p1); err != nil {
			return nil, err
		}
		return f(ctx, p1)
	}
}

// Func2 adapts a typed two-parameter method to a Handler (see Func1).
func Func2[P1, P2, R any](f func(context.Context, P1, P2) (R, error)) Handler {
	return func(ctx context.Context, ps []json.RawMessage) (any, error) {
		var (
			p1 P1
			p2 P2
		)
		if err := wantParams(ps, 2); err != nil {
			return nil, err
		}
		if err := decodeParam(ps, 0, &p1); err != nil {
			return nil, err
		}
		if err := decodeParam(ps, 1, &p2); err != nil {
			return nil, err
		}
		return f(ctx, p1, p2)
	}
}

// Func3 adapts a typed three-parameter method to a Handler (see Func1).
func Func3[P1, P2, P3, R any](f func(context.Context, P1, P2, P3) (R, error)) Handler {
	return func(ctx context.Context, ps []json.RawMessage) (any, error) {
		var (
			p1 P1
			p2 P2
			p3 P3
		)
		if err := wantParams(ps, 3); err != nil {
			return nil, err
		}
		if err := decodeParam(ps, 0, &p1); err != nil {
			return nil, err
		}
		if err := decodeParam(ps, 1, &p2); err != nil {
			return nil, err
		}
		if err := decodeParam(ps, 2, &p3); err != nil {
			return nil, err
		}
		return f(ctx, p1, p2, p3)
	}
}

// Proc0 adapts a method without parameters or result (result null).
func Proc0(f func(context.Context) error) Handler {
	return Func0(func(ctx context.Context) (any, error) { return nil, f(ctx) })
}

// Proc1 adapts a one-parameter method without result (result null).
func Proc1[P1 any](f func(context.Context, P1) error) Handler {
	return Func1(func(ctx context.Context, p1 P1) (any, error) { return nil, f(ctx, p1) })
}

// Proc2 adapts a two-parameter method without result (result null).
func Proc2[P1, P2 any](f func(context.Context, P1, P2) error) Handler {
	return Func2(func(ctx context.Context, p1 P1, p2 P2) (any, error) { return nil, f(ctx, p1, p2) })
}

// Proc3 adapts a three-parameter method without result (result null).
func Proc3[P1, P2, P3 any](f func(context.Context, P1, P2, P3) error) Handler {
	return Func3(func(ctx context.Context, p1 P1, p2 P2, p3 P3) (any, error) { return nil, f(ctx, p1, p2, p3) })
}

// Stream is a handler result that is delivered as a go-jsonrpc channel: the
// caller gets a channel id as the result, then one xrpc.ch.val notification
// per value and a final xrpc.ch.close. This is how Lotus serves ChainNotify
// and MpoolSub. Streams need a WebSocket; over HTTP the call fails with
// ErrWebSocketRequired (check PeerFrom before starting a producer to avoid
// the wasted work).
type Stream struct {
	recv func(ctx context.Context) (any, bool)
}

// NewStream wraps ch as a Stream. The producer owns ch: it must close ch
// when it has no more values and must stop sending (and close ch) once the
// handler's context is done — the caller cancelled or disconnected. The
// server stops reading when the context is done and then sends
// xrpc.ch.close, so a producer that ignores the context blocks forever.
func NewStream[T any](ch <-chan T) *Stream {
	return &Stream{recv: func(ctx context.Context) (any, bool) {
		select {
		case v, ok := <-ch:
			return v, ok
		case <-ctx.Done():
			return nil, false
		}
	}}
}
