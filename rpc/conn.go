package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// connConfig holds what a wsConn needs from its owner (Server or Client).
type connConfig struct {
	d            *dispatcher
	level        Perm                             // permission of the remote for methods we serve
	recheck      func(ctx context.Context) *Error // per-call token check (server side), may be nil
	values       func(ctx context.Context) context.Context
	errs         *ErrorRegistry // decodes errors of our outbound calls
	log          *slog.Logger
	maxInflight  int64
	maxBatch     int
	writeTimeout time.Duration
	pingInterval time.Duration
	subBuffer    int
	// onOverload, if set, is called (from the read loop; it must not
	// block) with the method of every request refused because maxInflight
	// requests were in flight ("" for a batch).
	onOverload func(method string)
}

// wsConn is one WebSocket carrying JSON-RPC in both directions: it serves
// the remote's requests from a method table and sends our own requests,
// matching responses by id. Server peers and WebSocket clients are the same
// type underneath, which is what makes reverse calls (manager → signer)
// ordinary calls.
type wsConn struct {
	ws  *websocket.Conn
	cfg connConfig

	ctx    context.Context // connection lifetime; handler contexts derive from hctx
	hctx   context.Context
	cancel context.CancelCauseFunc
	done   chan struct{}

	nextID   atomic.Int64
	nextChan atomic.Uint64
	active   atomic.Int64 // requests being served

	// Writes run without a context (see write); pingLoop closes the
	// connection when writes are in progress (writers) and none has
	// finished for longer than writeTimeout. progress is when a write last
	// finished, or began with none in progress, as nanoseconds since
	// created (monotonic).
	created  time.Time
	writers  atomic.Int64
	progress atomic.Int64
	// idle hands a request to a handler goroutine waiting for one (see
	// spawn).
	idle chan func()
	// idleHandlers counts the handler goroutines waiting on idle.
	idleHandlers atomic.Int32

	mu       sync.Mutex
	closed   bool
	cause    error
	pending  map[int64]*pendingCall        // our calls awaiting a response
	handling map[string]context.CancelFunc // remote calls we serve, by id key
	subs     map[uint64]*Subscription      // our subscriptions, by channel id
}

// pendingCall is an outbound call awaiting its response.
type pendingCall struct {
	ch  chan *frame   // buffered: the read loop never blocks on delivery
	sub *Subscription // set for Subscribe: registered by the read loop
}

// pendingCalls recycles the pendingCalls of answered calls. Only those:
// the read loop delivers one answer per id and forgets the id first, so
// once the caller has received it nothing can reach the channel again,
// whereas a call given up on may still get its late answer.
var pendingCalls = sync.Pool{New: func() any { return &pendingCall{ch: make(chan *frame, 1)} }}

func newWSConn(parent context.Context, ws *websocket.Conn, cfg connConfig) *wsConn {
	ctx, cancel := context.WithCancelCause(parent)
	c := &wsConn{
		ws:       ws,
		cfg:      cfg,
		ctx:      ctx,
		hctx:     ctx,
		cancel:   cancel,
		done:     make(chan struct{}),
		pending:  map[int64]*pendingCall{},
		handling: map[string]context.CancelFunc{},
		subs:     map[uint64]*Subscription{},
		idle:     make(chan func()),
		created:  time.Now(),
	}
	if cfg.values != nil {
		c.hctx = cfg.values(ctx)
	}
	return c
}

// start launches the read loop and the keep-alive pinger.
func (c *wsConn) start() {
	// Reads and writes run without a context: coder/websocket arms a
	// context.AfterFunc for every read and write given a cancellable one,
	// several allocations per message on a connection that carries
	// thousands a second. The connection's own end is watched once here
	// instead, and a stuck write by pingLoop.
	// shutdown cancels c.ctx itself, so this runs once in any case.
	context.AfterFunc(c.ctx, func() { c.shutdown(context.Cause(c.ctx)) })
	go c.readLoop()
	go c.pingLoop()
}

// shutdown tears the connection down once: pending calls fail with
// ErrConnClosed, served calls and streams are cancelled, subscriptions end.
func (c *wsConn) shutdown(cause error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.cause = cause
	subs := c.subs
	c.subs = nil
	c.mu.Unlock()

	c.cancel(cause)
	_ = c.ws.CloseNow()
	close(c.done)
	for _, s := range subs {
		s.finish(c.closeErr())
	}
}

// closeErr is the error for operations on a closed connection.
func (c *wsConn) closeErr() error {
	c.mu.Lock()
	cause := c.cause
	c.mu.Unlock()
	if cause == nil || errors.Is(cause, ErrConnClosed) {
		return ErrConnClosed
	}
	return fmt.Errorf("%w: %w", ErrConnClosed, cause)
}

// close performs a normal WebSocket close.
func (c *wsConn) close() error {
	err := c.ws.Close(websocket.StatusNormalClosure, "")
	c.shutdown(ErrConnClosed)
	var ce websocket.CloseError
	if err != nil && !errors.Is(err, net.ErrClosed) && !errors.As(err, &ce) {
		return fmt.Errorf("rpc: close: %w", err)
	}
	return nil
}

// handleMessage routes one received message. It runs on the read loop and
// must not block: requests are served on their own goroutines. data is
// the read loop's buffer, reused for the next message, so nothing here
// may keep it (json.RawMessage fields copy what they decode).
func (c *wsConn) handleMessage(data []byte) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		c.serveBatch(data)
		return
	}
	f := new(frame)
	if err := decodeFrame(data, f); err != nil {
		e := &Error{Code: CodeInvalidRequest, Message: "rpc: invalid request: " + err.Error()}
		if !json.Valid(data) {
			e = &Error{Code: CodeParseError, Message: "rpc: parse error: invalid json"}
		}
		c.reply(appendError(nil, nullJSON, e))
		return
	}
	switch f.Method {
	case "":
		c.handleResponse(f)
	case methodChanValue:
		c.handleChanValue(f)
	case methodChanClose:
		c.handleChanClose(f)
	case methodCancel:
		c.handleCancel(f)
	default:
		c.handleRequest(f)
	}
}

// handleResponse delivers a response to the waiting call. For a
// subscription the channel is registered here, on the read loop, because
// the first xrpc.ch.val may be the very next message.
func (c *wsConn) handleResponse(f *frame) {
	// The ids this side sends are integers from 1 (and f.ID is valid
	// JSON, so ParseInt accepts exactly the integers json.Unmarshal would,
	// without a decoder per response). A null id, which json.Unmarshal
	// read as 0 and matched no call, is dropped here as well.
	id, idErr := strconv.ParseInt(string(f.ID), 10, 64)
	if f.Result == nil && f.Error == nil || idErr != nil {
		if f.ID != nil && string(f.ID) != "null" {
			c.reply(appendError(nil, f.ID, &Error{Code: CodeInvalidRequest, Message: "rpc: invalid request: missing method"}))
		}
		return
	}
	c.mu.Lock()
	pc := c.pending[id]
	delete(c.pending, id)
	if pc != nil && pc.sub != nil && f.Error == nil {
		var chid uint64
		if json.Unmarshal(f.Result, &chid) == nil && c.subs != nil {
			pc.sub.chid = chid
			pc.sub.opened = true
			c.subs[chid] = pc.sub
		}
	}
	c.mu.Unlock()
	if pc == nil {
		c.cfg.log.Debug("rpc: response for unknown request", "id", string(f.ID))
		return
	}
	pc.ch <- f
}

// chanParams decodes [chid] or [chid, value].
func chanParams(f *frame, n int) (uint64, json.RawMessage, bool) {
	var ps []json.RawMessage
	var chid uint64
	if json.Unmarshal(f.Params, &ps) != nil || len(ps) != n || json.Unmarshal(ps[0], &chid) != nil {
		return 0, nil, false
	}
	if n == 2 {
		return chid, ps[1], true
	}
	return chid, nil, true
}

func (c *wsConn) handleChanValue(f *frame) {
	chid, v, ok := chanParams(f, 2)
	if !ok {
		c.cfg.log.Debug("rpc: malformed channel value")
		return
	}
	c.mu.Lock()
	s := c.subs[chid]
	c.mu.Unlock()
	if s == nil {
		return // closed locally; the remote has not seen the cancel yet
	}
	if !s.push(v) {
		c.dropSub(s, ErrSlowSubscriber)
	}
}

func (c *wsConn) handleChanClose(f *frame) {
	chid, _, ok := chanParams(f, 1)
	if !ok {
		c.cfg.log.Debug("rpc: malformed channel close")
		return
	}
	c.mu.Lock()
	s := c.subs[chid]
	delete(c.subs, chid)
	c.mu.Unlock()
	if s != nil {
		s.finish(io.EOF)
	}
}

// handleCancel cancels a request we are serving (go-jsonrpc sends
// xrpc.cancel when the caller's context ends, and to end a channel).
func (c *wsConn) handleCancel(f *frame) {
	var ps []json.RawMessage
	if json.Unmarshal(f.Params, &ps) != nil || len(ps) != 1 {
		return
	}
	key, ok := idKey(ps[0])
	if !ok {
		return
	}
	c.mu.Lock()
	cancel := c.handling[key]
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// admit reserves an in-flight slot. When the limit is hit the request is
// refused at once rather than making the read loop wait: a blocked read loop
// could never deliver the response a handler is waiting for (a reverse
// call), which would deadlock the connection.
func (c *wsConn) admit() bool {
	if c.active.Add(1) > c.cfg.maxInflight {
		c.active.Add(-1)
		return false
	}
	return true
}

func (c *wsConn) handleRequest(f *frame) {
	if e := validateRequest(f); e != nil {
		c.reply(appendError(nil, f.responseID(), e))
		return
	}
	if !c.admit() {
		if c.cfg.onOverload != nil {
			c.cfg.onOverload(f.Method)
		}
		if !f.isNotification() {
			c.reply(appendError(nil, f.ID, &Error{Code: CodeOverloaded,
				Message: fmt.Sprintf("rpc: too many requests in flight (limit %d)", c.cfg.maxInflight)}))
		}
		return
	}
	ctx, cancel := context.WithCancel(c.hctx)
	key, hasKey := idKey(f.ID)
	if hasKey {
		c.mu.Lock()
		_, dup := c.handling[key]
		if !dup {
			c.handling[key] = cancel
		}
		c.mu.Unlock()
		if dup {
			cancel()
			c.active.Add(-1)
			c.reply(appendError(nil, f.ID, &Error{Code: CodeInvalidRequest, Message: "rpc: invalid request: id already in flight"}))
			return
		}
	}
	c.spawn(func() { c.serveRequest(ctx, cancel, key, hasKey, f) })
}

func (c *wsConn) serveRequest(ctx context.Context, cancel context.CancelFunc, key string, hasKey bool, f *frame) {
	defer func() {
		cancel()
		if hasKey {
			c.mu.Lock()
			delete(c.handling, key)
			c.mu.Unlock()
		}
		c.active.Add(-1)
	}()
	var (
		res any
		e   *Error
	)
	if c.cfg.recheck != nil {
		e = c.cfg.recheck(ctx)
	}
	if e == nil {
		res, e = c.cfg.d.call(ctx, f, c.cfg.level)
	}
	if f.isNotification() {
		return
	}
	if e == nil {
		if st, ok := res.(*Stream); ok && st != nil {
			chid := c.nextChan.Add(1)
			// The response must be on the wire before the first value;
			// writing both from this goroutine guarantees the order.
			if c.write(appendResult(nil, f.ID, strconv.AppendUint(nil, chid, 10))) != nil {
				return
			}
			c.forward(ctx, st, chid)
			return
		}
		bp := getMsgBuffer()
		msg, rerr := c.cfg.d.appendResultValue(appendResultHead(*bp, f.ID), f.Method, res)
		if rerr == nil {
			msg = append(msg, '}')
			_ = c.write(msg)
		}
		putMsgBuffer(bp, msg)
		if rerr == nil {
			return
		}
		e = rerr
	}
	_ = c.write(appendError(nil, f.ID, e))
}

// forward relays stream values as xrpc.ch.val until the producer closes the
// channel or ctx ends (caller cancel or disconnect), then sends
// xrpc.ch.close if the connection is still up.
func (c *wsConn) forward(ctx context.Context, st *Stream, chid uint64) {
	prefix := fmt.Appendf(nil, `{"jsonrpc":"2.0","method":%q,"params":[%d,`, methodChanValue, chid)
	for {
		v, ok := st.recv(ctx)
		if !ok {
			break
		}
		vb, err := json.Marshal(v)
		if err != nil {
			c.cfg.log.Error("rpc: cannot encode stream value; closing stream", "chan", chid, "err", err)
			break
		}
		msg := make([]byte, 0, len(prefix)+len(vb)+2)
		msg = append(append(append(msg, prefix...), vb...), ']', '}')
		if c.write(msg) != nil {
			return
		}
	}
	if c.ctx.Err() == nil {
		_ = c.write(fmt.Appendf(nil, `{"jsonrpc":"2.0","method":%q,"params":[%d]}`, methodChanClose, chid))
	}
}

// serveBatch serves a batch received on the WebSocket like an HTTP batch:
// sequentially, one in-flight slot, no streams, one response message.
func (c *wsConn) serveBatch(data []byte) {
	if !c.admit() {
		if c.cfg.onOverload != nil {
			c.cfg.onOverload("")
		}
		c.reply(appendError(nil, nullJSON, &Error{Code: CodeOverloaded,
			Message: fmt.Sprintf("rpc: too many requests in flight (limit %d)", c.cfg.maxInflight)}))
		return
	}
	data = bytes.Clone(data) // the read loop reuses its buffer
	go func() {
		defer c.active.Add(-1)
		var out []byte
		if c.cfg.recheck != nil {
			if e := c.cfg.recheck(c.hctx); e != nil {
				out = appendError(nil, nullJSON, e)
			}
		}
		if out == nil {
			_, out = serveBody(c.hctx, c.cfg.d, data, c.cfg.maxBatch, c.cfg.level, false)
		}
		if len(out) > 0 {
			_ = c.write(out)
		}
	}()
}

// call sends a request and waits for its response. When ctx ends first the
// remote is told with xrpc.cancel so it can stop working.
func (c *wsConn) call(ctx context.Context, method string, result any, params []any, sub *Subscription) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("rpc: %s: %w", method, err)
	}
	id := c.nextID.Add(1)
	var idBuf [20]byte
	bp := getMsgBuffer()
	msg, err := encodeRequest(*bp, strconv.AppendInt(idBuf[:0], id, 10), method, params)
	if err != nil {
		putMsgBuffer(bp, *bp)
		return err
	}
	pc := pendingCalls.Get().(*pendingCall)
	pc.sub = sub
	if sub != nil {
		sub.reqID = id // xrpc.cancel names the subscription by its request id
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		putMsgBuffer(bp, msg)
		pc.sub = nil
		pendingCalls.Put(pc)
		return fmt.Errorf("rpc: %s: %w", method, c.closeErr())
	}
	c.pending[id] = pc
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}
	err = c.write(msg)
	putMsgBuffer(bp, msg)
	if err != nil {
		forget()
		return fmt.Errorf("rpc: %s: %w", method, err)
	}
	select {
	case f := <-pc.ch:
		pc.sub = nil
		pendingCalls.Put(pc)
		return finishCall(method, f, result, c.cfg.errs)
	case <-ctx.Done():
		forget()
		go func() { _ = c.notify(methodCancel, []any{id}) }()
		return fmt.Errorf("rpc: %s: %w", method, context.Cause(ctx))
	case <-c.done:
		return fmt.Errorf("rpc: %s: %w", method, c.closeErr())
	}
}

// notify sends a notification (no response).
func (c *wsConn) notify(method string, params []any) error {
	msg, err := encodeRequest(nil, nil, method, params)
	if err != nil {
		return err
	}
	return c.write(msg)
}

// subscribe calls a channel-returning method and returns its subscription.
func (c *wsConn) subscribe(ctx context.Context, method string, params []any) (*Subscription, error) {
	s := newSubscription(c, c.cfg.subBuffer)
	var chid json.RawMessage
	if err := c.call(ctx, method, &chid, params, s); err != nil {
		return nil, err
	}
	c.mu.Lock()
	opened := s.opened
	c.mu.Unlock()
	if !opened {
		if c.ctx.Err() != nil {
			return nil, fmt.Errorf("rpc: %s: %w", method, c.closeErr())
		}
		return nil, fmt.Errorf("rpc: %s: result %s is not a channel id", method, chid)
	}
	return s, nil
}

// dropSub ends s locally and asks the remote to stop the producer.
func (c *wsConn) dropSub(s *Subscription, err error) {
	c.mu.Lock()
	if c.subs != nil && c.subs[s.chid] == s {
		delete(c.subs, s.chid)
	}
	c.mu.Unlock()
	s.finish(err)
	if s.reqID != 0 {
		go func() { _ = c.notify(methodCancel, []any{s.reqID}) }()
	}
}

// finishCall turns a response into the call's outcome.
func finishCall(method string, f *frame, result any, errs *ErrorRegistry) error {
	if f.Error != nil {
		return fmt.Errorf("rpc: %s: %w", method, errs.decode(f.Error))
	}
	if result == nil || f.Result == nil {
		return nil
	}
	if err := json.Unmarshal(f.Result, result); err != nil {
		return fmt.Errorf("rpc: %s: decode result: %w", method, err)
	}
	return nil
}
