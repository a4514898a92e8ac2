package rpc

import (
	"context"
	"encoding/json"
	"sync"
)

// DefaultSubscriptionBuffer is how many received channel values a
// subscription holds for a slow reader before it is dropped with
// ErrSlowSubscriber.
const DefaultSubscriptionBuffer = 4096

// Subscription receives the values of a channel-returning method (Lotus
// ChainNotify, MpoolSub, or any Handler returning a *Stream) over a
// WebSocket. Values are buffered as they arrive so the connection never
// waits for a slow reader. Next and Close may be called from different
// goroutines; Next itself is meant for one reader.
type Subscription struct {
	c      *wsConn
	reqID  int64  // id of the call that opened it, named by xrpc.cancel
	chid   uint64 // channel id chosen by the remote; guarded by c.mu
	opened bool   // the response carried a channel id; guarded by c.mu

	max   int
	mu    sync.Mutex
	queue []json.RawMessage
	err   error         // non-nil once no more values will arrive
	wake  chan struct{} // capacity 1; signalled on push and finish
}

func newSubscription(c *wsConn, max int) *Subscription {
	return &Subscription{c: c, max: max, wake: make(chan struct{}, 1)}
}

func (s *Subscription) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// push queues a value; false means the buffer is full.
func (s *Subscription) push(v json.RawMessage) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return true
	}
	if len(s.queue) >= s.max {
		return false
	}
	s.queue = append(s.queue, v)
	s.signal()
	return true
}

// finish records why no more values will arrive; the first reason wins.
func (s *Subscription) finish(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.signal()
}

// Next waits for the next value and decodes it into v (a *json.RawMessage
// gets the raw bytes; v may be nil to skip decoding). Values received before
// the channel ended are still returned; after that Next returns io.EOF when
// the remote closed the channel (xrpc.ch.close), ErrSubscriptionClosed after
// Close, ErrSlowSubscriber after an overflow, or an error wrapping
// ErrConnClosed when the connection was lost. A decode error consumes the
// value.
func (s *Subscription) Next(ctx context.Context, v any) error {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			raw := s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			s.mu.Unlock()
			if v == nil {
				return nil
			}
			return json.Unmarshal(raw, v)
		}
		err := s.err
		s.mu.Unlock()
		if err != nil {
			s.signal() // let another waiter observe the end too
			return err
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops the subscription: queued values are dropped and the remote is
// sent xrpc.cancel for the originating request, which cancels the producer's
// context and makes it send xrpc.ch.close. Close is idempotent.
func (s *Subscription) Close() error {
	s.mu.Lock()
	already := s.err != nil
	s.queue = nil
	s.mu.Unlock()
	if already {
		return nil
	}
	s.c.dropSub(s, ErrSubscriptionClosed)
	return nil
}
