package rpc

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/coder/websocket"
)

// A connection's I/O: the read loop, writes, the keep-alive and
// stuck-write checks, and the goroutines that serve requests.

// readLoop reads every message into one buffer it reuses (the read limit
// still applies): a buffer per message was the largest share of a busy
// connection's allocations, and so of its garbage collection. What
// handleMessage keeps of a message it copies.
func (c *wsConn) readLoop() {
	var buf bytes.Buffer
	for {
		_, r, err := c.ws.Reader(context.Background())
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			c.shutdown(err)
			return
		}
		c.handleMessage(buf.Bytes())
		if buf.Cap() > maxKeptReadBuffer {
			buf = bytes.Buffer{} // a rare large message's buffer is not kept
		}
	}
}

// maxKeptReadBuffer is the largest read buffer a connection keeps between
// messages.
const maxKeptReadBuffer = 64 << 10

// pingLoop detects dead peers (a signer behind a NAT that silently dropped
// the mapping) faster than TCP would, and ends writes that make no
// progress for longer than writeTimeout (a peer that stopped reading). A
// ping runs on its own goroutine, so a ping waiting for its pong does not
// stop the write check.
func (c *wsConn) pingLoop() {
	check := time.Second
	if c.cfg.writeTimeout > 0 {
		check = max(min(c.cfg.writeTimeout/4, time.Second), time.Millisecond)
	}
	t := time.NewTicker(check)
	defer t.Stop()
	lastPing := time.Now()
	var pinged chan error // the ping in flight (nil: none)
	defer func() {
		if pinged != nil {
			<-pinged // c.ctx has ended, so it returns at once
		}
	}()
	for {
		select {
		case <-c.done:
			return
		case err := <-pinged:
			pinged = nil
			if err != nil {
				c.shutdown(fmt.Errorf("ping: %w", err))
				return
			}
		case now := <-t.C:
			if c.writeStuck() {
				c.shutdown(fmt.Errorf("write: no progress for %s", c.cfg.writeTimeout))
				return
			}
			if c.cfg.pingInterval <= 0 || pinged != nil || now.Sub(lastPing) < c.cfg.pingInterval {
				continue
			}
			lastPing = now
			pinged = make(chan error, 1)
			go func(done chan<- error) {
				ctx, cancel := context.WithTimeout(c.ctx, c.cfg.pingInterval)
				defer cancel()
				done <- c.ws.Ping(ctx)
			}(pinged)
		}
	}
}

// writeStuck reports whether writes are in progress and none has made
// progress for longer than writeTimeout.
func (c *wsConn) writeStuck() bool {
	if c.cfg.writeTimeout <= 0 || c.writers.Load() == 0 {
		return false
	}
	return time.Since(c.created)-time.Duration(c.progress.Load()) > c.cfg.writeTimeout
}

// write sends one message. It never uses a caller's context:
// coder/websocket closes the connection when a write's context ends, and a
// cancelled call must not kill the connection. It uses none at all (see
// start): a write stuck longer than writeTimeout is ended by pingLoop,
// which closes the connection, and a closed connection fails the write.
func (c *wsConn) write(msg []byte) error {
	// Concurrent writes queue inside coder/websocket behind the one a
	// stuck peer holds up: a write that begins while others are in
	// progress does not count as progress, one that finishes does.
	for {
		n := c.writers.Load()
		if n == 0 {
			c.progress.Store(int64(time.Since(c.created)))
		}
		if c.writers.CompareAndSwap(n, n+1) {
			break
		}
	}
	err := c.ws.Write(context.Background(), websocket.MessageText, msg)
	c.progress.Store(int64(time.Since(c.created)))
	c.writers.Add(-1)
	if err != nil {
		c.shutdown(fmt.Errorf("write: %w", err))
		return c.closeErr()
	}
	return nil
}

// reply sends an answer produced on the read loop from another goroutine:
// the read loop must keep reading even when the peer is slow to read our
// writes, or two peers writing to each other could block both.
func (c *wsConn) reply(msg []byte) {
	go func() { _ = c.write(msg) }()
}

// handlerIdle is how long a handler goroutine waits for another request
// before it ends.
const handlerIdle = 10 * time.Second

// maxIdleHandlers bounds the handler goroutines that wait for work on one
// connection. Every goroutine's stack is scanned by each garbage
// collection: kept for every request that was ever in flight at once (a
// burst after a pause), idle handlers were 40% of a busy manager's
// goroutines and much of its collection work.
const maxIdleHandlers = 2

// spawn runs a served request on a handler goroutine: one that waits for
// work if there is one, else a new one. A new goroutine starts with a
// small stack and copies it several times over while it decodes JSON and
// runs a handler, a measurable share of a busy manager's CPU; a handler
// goroutine keeps its stack for the requests that follow. Handler
// goroutines end when the connection does, after handlerIdle without
// work, or at once when maxIdleHandlers already wait.
func (c *wsConn) spawn(f func()) {
	select {
	case c.idle <- f:
	default:
		go c.handle(f)
	}
}

func (c *wsConn) handle(f func()) {
	t := time.NewTimer(handlerIdle)
	defer t.Stop()
	for {
		f()
		f = nil // keep nothing of a served request alive while idle
		if c.idleHandlers.Add(1) > maxIdleHandlers {
			c.idleHandlers.Add(-1)
			return
		}
		t.Reset(handlerIdle)
		select {
		case f = <-c.idle:
		case <-t.C:
		case <-c.done:
		}
		c.idleHandlers.Add(-1)
		if f == nil {
			return
		}
	}
}
