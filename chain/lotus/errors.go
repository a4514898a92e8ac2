package lotus

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors.
var (
	// ErrUnauthorized means the node rejected the token (HTTP 401/403):
	// missing, malformed or lacking the permission the method needs.
	ErrUnauthorized = errors.New("lotus: unauthorized")
	// ErrBadResponse means the node answered with something that is not a
	// valid JSON-RPC 2.0 response for the request, or with a result of the
	// wrong shape.
	ErrBadResponse = errors.New("lotus: bad response")
	// ErrOutcomeUnknown is returned for a non-idempotent call (MpoolPush)
	// that failed after the request may have reached the node. The client
	// does not retry it; the caller must find out whether it took effect
	// (for MpoolPush: StateSearchMsg/MpoolGetNonce, or push the identical
	// signed message again, which cannot create a second transaction
	// because From+Nonce are the same).
	ErrOutcomeUnknown = errors.New("lotus: call outcome unknown")
	// ErrTransport wraps network failures (dial, reset, timeout, HTTP
	// gateway errors) after retries are exhausted.
	ErrTransport = errors.New("lotus: transport error")
	// ErrClosed is returned when a subscription's connection ends.
	ErrClosed = errors.New("lotus: connection closed")
)

// JSON-RPC error codes used by go-jsonrpc and Lotus (api/api_errors.go).
const (
	CodeParseError      = -32700
	CodeInvalidRequest  = -32600
	CodeMethodNotFound  = -32601
	CodeInvalidParams   = -32602
	CodeLimitExceeded   = -32005
	CodeExpensiveFork   = -32002
	CodeGeneric         = 1 // any Go error on the node; Message is its text
	CodeOutOfGas        = 2
	CodeExecutionRevert = 3
	CodeActorNotFound   = 10
	CodeNullRound       = 11
)

// RPCError is a JSON-RPC error object returned by the node. It means the
// node received and processed the request, so calls failing with it are
// never retried.
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	// Data and Meta are passed through undecoded.
	Data json.RawMessage `json:"data,omitempty"`
	Meta json.RawMessage `json:"meta,omitempty"`
}

// Error returns "lotus: rpc error <code>: <message>".
func (e *RPCError) Error() string {
	return fmt.Sprintf("lotus: rpc error %d: %s", e.Code, e.Message)
}

// IsActorNotFound reports whether err is the node saying an actor does not
// exist: the registered code 10, or code 1 with Lotus's "actor not found"
// text (older nodes and some methods still send the generic code).
func IsActorNotFound(err error) bool {
	var re *RPCError
	if !errors.As(err, &re) {
		return false
	}
	return re.Code == CodeActorNotFound || re.Code == CodeGeneric && strings.Contains(re.Message, "actor not found")
}

// HTTPError is a non-200 HTTP answer that carried no JSON-RPC error.
type HTTPError struct {
	StatusCode int
	// Body is the start of the response body, for diagnostics.
	Body string
}

// Error returns "lotus: http <code>: <body>".
func (e *HTTPError) Error() string {
	return fmt.Sprintf("lotus: http %d: %s", e.StatusCode, e.Body)
}
