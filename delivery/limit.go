package delivery

import (
	"context"
	"io"
	"sync"
	"time"
)

// Limiter is a token bucket shared by every stream it throttles, so a
// bandwidth limit holds for a whole client or receiver rather than per
// connection. A nil *Limiter does not throttle.
type Limiter struct {
	rate  float64 // bytes per second
	burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
}

// NewLimiter limits to bytesPerSec (≤ 0: unlimited, returns nil). The burst
// is a quarter second of traffic, at least 64 KiB, so short stalls do not
// lose bandwidth and the limit still holds over any second.
func NewLimiter(bytesPerSec int64) *Limiter {
	if bytesPerSec <= 0 {
		return nil
	}
	burst := max(float64(bytesPerSec)/4, 64<<10)
	return &Limiter{rate: float64(bytesPerSec), burst: burst, tokens: burst, now: time.Now, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Wait blocks until n bytes may pass.
func (l *Limiter) Wait(ctx context.Context, n int) error {
	if l == nil || n <= 0 {
		return nil
	}
	for n > 0 {
		step := min(float64(n), l.burst)
		l.mu.Lock()
		now := l.now()
		if !l.last.IsZero() {
			l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
		}
		l.last = now
		l.tokens -= step
		deficit := -l.tokens
		l.mu.Unlock()
		if deficit > 0 {
			if err := l.sleep(ctx, time.Duration(deficit/l.rate*float64(time.Second))); err != nil {
				return err
			}
		}
		n -= int(step)
	}
	return nil
}

// limitedReader throttles reads through a Limiter.
type limitedReader struct {
	ctx context.Context
	r   io.Reader
	l   *Limiter
}

func (r *limitedReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := r.r.Read(p)
	if werr := r.l.Wait(r.ctx, n); werr != nil && err == nil {
		err = werr
	}
	return n, err
}

// limitReader wraps r unless l is nil.
func limitReader(ctx context.Context, r io.Reader, l *Limiter) io.Reader {
	if l == nil {
		return r
	}
	return &limitedReader{ctx: ctx, r: r, l: l}
}
