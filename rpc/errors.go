package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// JSON-RPC error codes. The -327xx/-326xx ones are fixed by the JSON-RPC 2.0
// spec; CodeGeneric is what Lotus (go-jsonrpc) sends for any unregistered Go
// error; the -3203x ones are Sealant transport codes, picked inside the
// spec's implementation-defined range (-32000..-32099) but away from codes
// Lotus and Ethereum-style APIs already use (-32000..-32005).
const (
	CodeParseError        = -32700
	CodeInvalidRequest    = -32600
	CodeMethodNotFound    = -32601
	CodeInvalidParams     = -32602
	CodeInternal          = -32603
	CodeGeneric           = 1
	CodePermissionDenied  = -32030
	CodeUnauthenticated   = -32031
	CodeWebSocketRequired = -32032
	CodeOverloaded        = -32033
	CodeCanceled          = -32034
	CodeDeadlineExceeded  = -32035
)

// Sentinel errors. For the transport codes a client receives an *Error whose
// Unwrap returns the matching sentinel, so errors.Is works across the wire;
// ErrConnClosed and the subscription errors are local to the client.
var (
	ErrParse              = errors.New("rpc: parse error")
	ErrInvalidRequest     = errors.New("rpc: invalid request")
	ErrMethodNotFound     = errors.New("rpc: method not found")
	ErrInvalidParams      = errors.New("rpc: invalid params")
	ErrInternal           = errors.New("rpc: internal error")
	ErrPermissionDenied   = errors.New("rpc: permission denied")
	ErrUnauthenticated    = errors.New("rpc: unauthenticated")
	ErrWebSocketRequired  = errors.New("rpc: method needs a websocket connection")
	ErrOverloaded         = errors.New("rpc: too many requests in flight")
	ErrConnClosed         = errors.New("rpc: connection closed")
	ErrSubscriptionClosed = errors.New("rpc: subscription closed")
	// ErrSlowSubscriber ends a subscription whose reader fell more than the
	// buffer size behind; the producer is cancelled so memory stays bounded.
	ErrSlowSubscriber = errors.New("rpc: subscription reader too slow")
)

// builtinErrors maps the transport codes to sentinels in both directions.
// The context errors are included so a remote timeout or cancellation
// satisfies errors.Is(err, context.DeadlineExceeded) on the caller.
var builtinErrors = []struct {
	code int
	err  error
}{
	{CodeParseError, ErrParse},
	{CodeInvalidRequest, ErrInvalidRequest},
	{CodeMethodNotFound, ErrMethodNotFound},
	{CodeInvalidParams, ErrInvalidParams},
	{CodeInternal, ErrInternal},
	{CodePermissionDenied, ErrPermissionDenied},
	{CodeUnauthenticated, ErrUnauthenticated},
	{CodeWebSocketRequired, ErrWebSocketRequired},
	{CodeOverloaded, ErrOverloaded},
	{CodeCanceled, context.Canceled},
	{CodeDeadlineExceeded, context.DeadlineExceeded},
}

// Error is a JSON-RPC error object. Handlers may return one (or wrap one) to
// choose the code, message and data sent to the caller verbatim; clients
// return one for every error response. On the client, Unwrap yields the
// sentinel or typed error registered for Code, if any.
type Error struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`

	wrapped error // set by the client from the error registry
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error returns the message; the code is available as e.Code.
func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("rpc: error code %d", e.Code)
	}
	return e.Message
}

// Unwrap returns the registered error for e.Code on the client side, or nil.
func (e *Error) Unwrap() error { return e.wrapped }

// errEntry is one registration: how to recognise a Go error on the server
// and how to rebuild it on the client.
type errEntry struct {
	code  int
	match func(error) (data json.RawMessage, ok bool)
	build func(e *Error) error
}

// ErrorRegistry maps Go errors to JSON-RPC codes (server) and codes back to
// Go errors (client). Both ends must register the same codes; the usual way
// is a shared package (e.g. manager/api) that registers in an init function.
// It is safe for concurrent use; registration normally happens at init.
type ErrorRegistry struct {
	mu      sync.RWMutex
	entries []errEntry // registration order = server matching order
	byCode  map[int]errEntry
}

// NewErrorRegistry returns an empty registry. The transport codes above are
// always known and need no registration.
func NewErrorRegistry() *ErrorRegistry {
	return &ErrorRegistry{byCode: map[int]errEntry{}}
}

// DefaultErrors is the registry used by servers and clients that are not
// given one explicitly.
var DefaultErrors = NewErrorRegistry()

// RegisterError registers sentinel under code in DefaultErrors.
func RegisterError(code int, sentinel error) { DefaultErrors.Register(code, sentinel) }

// reservedCode reports whether code belongs to the spec or to this package.
func reservedCode(code int) bool {
	if code == 0 || code == CodeGeneric || (code >= -32768 && code <= -32100) {
		return true
	}
	for _, b := range builtinErrors {
		if b.code == code {
			return true
		}
	}
	return false
}

func (r *ErrorRegistry) add(e errEntry) {
	if reservedCode(e.code) {
		panic(fmt.Sprintf("rpc: error code %d is reserved", e.code))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.byCode[e.code]; dup {
		panic(fmt.Sprintf("rpc: error code %d registered twice", e.code))
	}
	r.byCode[e.code] = e
	r.entries = append(r.entries, e)
}

// Register maps sentinel to code: a handler error for which
// errors.Is(err, sentinel) holds is sent with code and its full Error()
// text (so only wrap a registered sentinel with text fit for the caller);
// on the client errors.Is(err, sentinel) holds again. It panics on a nil
// sentinel, a reserved code (0, 1, -32768..-32100, the Code* constants) or a
// duplicate code, since those are programming errors found at init.
func (r *ErrorRegistry) Register(code int, sentinel error) {
	if sentinel == nil {
		panic("rpc: nil sentinel error")
	}
	r.add(errEntry{
		code: code,
		match: func(err error) (json.RawMessage, bool) {
			return nil, errors.Is(err, sentinel)
		},
		build: func(*Error) error { return sentinel },
	})
}

// RegisterErrorType maps the error type E to code: a handler error for which
// errors.As finds an E is sent with code, its Error() text and E encoded as
// JSON in the data member; the client decodes data into a fresh E so
// errors.As works there. E is usually a pointer to a struct whose exported
// fields describe the failure (fields of interface type such as a wrapped
// error do not survive JSON). It panics like Register.
func RegisterErrorType[E error](r *ErrorRegistry, code int) {
	r.add(errEntry{
		code: code,
		match: func(err error) (json.RawMessage, bool) {
			var target E
			if !errors.As(err, &target) {
				return nil, false
			}
			data, mErr := json.Marshal(target)
			if mErr != nil {
				return nil, true // the code still travels; data is best effort
			}
			return data, true
		},
		build: func(e *Error) error {
			var v E
			data := []byte(e.Data)
			if len(data) == 0 || string(data) == "null" {
				data = []byte("{}") // allocates the struct behind a pointer E
			}
			if err := json.Unmarshal(data, &v); err != nil {
				return nil
			}
			return v
		},
	})
}

// lookup finds the registration for a server-side error.
func (r *ErrorRegistry) lookup(err error) (code int, data json.RawMessage, ok bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, e := range r.entries {
		if d, hit := e.match(err); hit {
			return e.code, d, true
		}
	}
	return 0, nil, false
}

// decode turns a received error object into the error a client returns.
func (r *ErrorRegistry) decode(e *Error) error {
	for _, b := range builtinErrors {
		if b.code == e.Code {
			e.wrapped = b.err
			return e
		}
	}
	if r != nil {
		r.mu.RLock()
		ent, ok := r.byCode[e.Code]
		r.mu.RUnlock()
		if ok {
			e.wrapped = ent.build(e)
		}
	}
	return e
}
