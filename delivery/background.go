package delivery

import (
	"sync"
	"time"
)

// background is the receiver's asynchronous work — pause timers of idle
// uploads, background commits, import retries — owned by Run: every piece
// is counted, pending timers are known, and when Run stops it stops the
// timers, waits for what runs, and refuses new work, which callers then do
// inline (or leave to the next start). No goroutine of the receiver
// outlives Run.
type background struct {
	mu     sync.Mutex
	closed bool
	timers map[*time.Timer]struct{}
	wg     sync.WaitGroup
}

// goFunc runs f in a goroutine and reports true, or reports false
// without running it once the receiver has stopped.
func (b *background) goFunc(f func()) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		f()
	}()
	return true
}

// after runs f once d has passed, in its own goroutine, unless stopped
// first; nil once the receiver has stopped.
func (b *background) after(d time.Duration, f func()) *time.Timer {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	if b.timers == nil {
		b.timers = map[*time.Timer]struct{}{}
	}
	b.wg.Add(1)
	var t *time.Timer
	// b.mu is held until t is set, and the callback takes it first.
	t = time.AfterFunc(d, func() {
		defer b.wg.Done()
		b.mu.Lock()
		delete(b.timers, t)
		b.mu.Unlock()
		f()
	})
	b.timers[t] = struct{}{}
	return t
}

// stop cancels t if it has not fired (nil is ignored).
func (b *background) stop(t *time.Timer) {
	if t == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, pending := b.timers[t]; pending && t.Stop() {
		delete(b.timers, t)
		b.wg.Done()
	}
}

// close refuses new work, cancels pending timers and waits for the work
// that runs. The caller must not hold a lock that this work takes.
func (b *background) close() {
	b.mu.Lock()
	b.closed = true
	for t := range b.timers {
		if t.Stop() {
			b.wg.Done()
		}
		delete(b.timers, t)
	}
	b.mu.Unlock()
	b.wg.Wait()
}
