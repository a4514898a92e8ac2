package signer

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// RateLimit bounds the sign requests one manager connection may send. A
// request over the limit is refused without being evaluated (no policy
// run, no fsync), and refusals are audited in aggregate.
type RateLimit struct {
	// PerSecond is the sustained rate (default DefaultRateLimit.PerSecond;
	// negative disables the limit).
	PerSecond float64
	// Burst is how many requests may arrive at once (default
	// DefaultRateLimit.Burst).
	Burst int
}

// DefaultRateLimit is far above what a manager needs (one message per
// batch; a few per minute at most) and far below what one fsync per
// audited decision can sustain.
var DefaultRateLimit = RateLimit{PerSecond: 20, Burst: 40}

func (r RateLimit) withDefaults() RateLimit {
	if r.PerSecond == 0 {
		r.PerSecond = DefaultRateLimit.PerSecond
	}
	if r.Burst <= 0 {
		r.Burst = DefaultRateLimit.Burst
	}
	return r
}

// bucket is a token bucket; safe for concurrent use.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(r RateLimit, now time.Time) *bucket {
	r = r.withDefaults()
	return &bucket{rate: r.PerSecond, burst: float64(r.Burst), tokens: float64(r.Burst), last: now}
}

// allow takes a token if one is available at now.
func (b *bucket) allow(now time.Time) bool {
	if b.rate < 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Reasons of refusals made without evaluating the request.
const (
	reasonRateLimited = "rate limit: more than %g requests/s (burst %d) on this connection"
	reasonOverloaded  = "overload: too many requests in flight on this connection"
)

// refusalTally counts refusals that are not evaluated (rate limit,
// overload) so they are audited as one entry per reason and flush rather
// than one fsync each, which is what an attacker would want.
type refusalTally struct {
	mu     sync.Mutex
	counts map[string]int
	since  time.Time
}

func (t *refusalTally) add(reason string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts = map[string]int{}
	}
	if len(t.counts) == 0 {
		t.since = now
	}
	t.counts[reason]++
}

// flush writes one audit entry per reason counted since the last flush.
func (s *Signer) flushRefusals(conn Conn, tenant string, t *refusalTally) {
	t.mu.Lock()
	counts, since := t.counts, t.since
	t.counts = nil
	t.mu.Unlock()
	reasons := make([]string, 0, len(counts))
	for r := range counts {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		n := counts[r]
		e := AuditEntry{Time: s.now().UTC(), Event: EventSign, Manager: conn.Manager, Tenant: tenant,
			Decision: DecisionRefused, Reason: fmt.Sprintf("%s (%d requests since %s, not evaluated)", r, n, since.UTC().Format(time.RFC3339)),
			Count: n}
		if err := s.audit.Write(e); err != nil {
			s.log.Error("audit write failed", "err", err)
		}
		s.log.Warn("requests refused without evaluation", "manager", conn.Manager, "tenant", tenant, "count", n, "reason", r)
	}
}
