package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// method is one entry of a method table.
type method struct {
	perm Perm
	h    Handler
}

// methodTable is the name → handler table shared by Server (methods clients
// call) and Client (methods the server may call back).
type methodTable struct {
	mu sync.RWMutex
	m  map[string]method
}

func (t *methodTable) register(name string, perm Perm, h Handler) {
	switch {
	case name == "":
		panic("rpc: register: empty method name")
	case h == nil:
		panic(fmt.Sprintf("rpc: register %s: nil handler", name))
	case !perm.Valid():
		panic(fmt.Sprintf("rpc: register %s: unknown permission %q", name, perm))
	case name == methodChanValue || name == methodChanClose || name == methodCancel:
		panic(fmt.Sprintf("rpc: register %s: name is reserved by the protocol", name))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]method{}
	}
	if _, dup := t.m[name]; dup {
		panic(fmt.Sprintf("rpc: register %s: method registered twice", name))
	}
	t.m[name] = method{perm: perm, h: h}
}

func (t *methodTable) get(name string) (method, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	m, ok := t.m[name]
	return m, ok
}

// dispatcher runs requests against a method table and turns handler errors
// into wire errors. It has no transport knowledge.
type dispatcher struct {
	table   methodTable
	errs    *ErrorRegistry
	log     *slog.Logger
	expose  bool // send the text of unregistered errors (Lotus behaviour)
	observe func(method string, code int, elapsed time.Duration)
}

// call runs one validated request for a caller holding perm level. It
// returns the handler's result or the error object to send.
func (d *dispatcher) call(ctx context.Context, req *frame, level Perm) (any, *Error) {
	if d.observe == nil {
		return d.run(ctx, req, level)
	}
	start := time.Now()
	res, e := d.run(ctx, req, level)
	name, code := req.Method, 0
	if e != nil {
		code = e.Code
		if code == CodeMethodNotFound {
			name = "" // caller-chosen names would blow up metric cardinality
		}
	}
	d.observe(name, code, time.Since(start))
	return res, e
}

func (d *dispatcher) run(ctx context.Context, req *frame, level Perm) (any, *Error) {
	m, ok := d.table.get(req.Method)
	if !ok {
		return nil, &Error{Code: CodeMethodNotFound, Message: fmt.Sprintf("rpc: method %q not found", req.Method)}
	}
	if !level.Includes(m.perm) {
		return nil, &Error{Code: CodePermissionDenied,
			Message: fmt.Sprintf("rpc: permission denied: method needs %q, caller has %q", m.perm, level)}
	}
	params, err := splitParams(req.Params)
	if err != nil {
		return nil, d.wireError(req.Method, err)
	}
	res, err := d.invoke(ctx, req.Method, m.h, params)
	if err != nil {
		return nil, d.wireError(req.Method, err)
	}
	return res, nil
}

// invoke calls h, converting a panic into an internal error so one bad
// handler cannot take the process (or the connection) down. The panic value
// and stack go to the log only: they may contain anything.
func (d *dispatcher) invoke(ctx context.Context, name string, h Handler, params []json.RawMessage) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			ref := newRef()
			d.log.Error("rpc: handler panicked", "method", name, "panic", fmt.Sprint(r), "ref", ref, "stack", string(debug.Stack()))
			res, err = nil, &Error{Code: CodeInternal, Message: "rpc: internal error (ref " + ref + ")"}
		}
	}()
	return h(ctx, params)
}

// wireError maps a handler error to the error object sent to the caller:
//  1. an *Error anywhere in the chain is sent as is (code, message, data);
//  2. a transport sentinel (ErrInvalidParams, context.Canceled, …) gets its
//     fixed code and the error's text;
//  3. an error matching a registration gets that code, its text and data;
//  4. anything else is unexpected: it is logged with a reference, and the
//     caller sees only "internal error (ref …)" with CodeInternal — or, with
//     ServerConfig.ExposeErrors, the text with CodeGeneric as Lotus does.
func (d *dispatcher) wireError(name string, err error) *Error {
	var re *Error
	if errors.As(err, &re) {
		return &Error{Code: re.Code, Message: re.Message, Data: re.Data}
	}
	for _, b := range builtinErrors {
		if errors.Is(err, b.err) {
			d.log.Debug("rpc: method failed", "method", name, "err", err)
			return &Error{Code: b.code, Message: err.Error()}
		}
	}
	if code, data, ok := d.errs.lookup(err); ok {
		d.log.Debug("rpc: method failed", "method", name, "code", code, "err", err)
		return &Error{Code: code, Message: err.Error(), Data: data}
	}
	if d.expose {
		d.log.Warn("rpc: method failed", "method", name, "err", err)
		return &Error{Code: CodeGeneric, Message: err.Error()}
	}
	ref := newRef()
	d.log.Error("rpc: method failed", "method", name, "err", err, "ref", ref)
	return &Error{Code: CodeInternal, Message: "rpc: internal error (ref " + ref + ")"}
}

// appendResultValue appends a handler result, as JSON, to dst. A
// json.RawMessage is appended as it is after a validity check, because an
// invalid one would corrupt the whole response frame.
func (d *dispatcher) appendResultValue(dst []byte, name string, res any) ([]byte, *Error) {
	if raw, ok := res.(json.RawMessage); ok && json.Valid(raw) {
		return append(dst, raw...), nil
	}
	b, err := appendJSON(dst, res)
	if err != nil {
		ref := newRef()
		d.log.Error("rpc: cannot encode result", "method", name, "err", err, "ref", ref)
		return dst, &Error{Code: CodeInternal, Message: "rpc: internal error (ref " + ref + ")"}
	}
	return b, nil
}

// newRef returns a short random id that ties a hidden error to its log line.
func newRef() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
