package manager

import (
	"context"
	mrand "math/rand/v2"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// ttlCache holds values read for poll answers for a short time. It uses
// the wall clock, not the service clock: it is a performance device, not a
// decision, and only answers that a worker repeats anyway, or that the
// store checks again in the call's own transaction, read through it.
//
// A value is never served more than its life (about the TTL) after it
// was read, and never after this process changed it (forget).
type ttlCache[K comparable, V any] struct {
	ttl time.Duration
	// key names k for the shared loads.
	key func(K) string
	// now is the clock (time.Now; tests set another).
	now func() time.Time
	// life is how long an entry read now lives (lifetime; tests set
	// another).
	life func(ttl time.Duration) time.Duration

	mu      sync.Mutex
	entries map[K]cached[V]
	// gens counts forgets per key: a load that began before a forget of
	// its key read what this process has changed since, and is not kept.
	gens map[K]uint64
	// epoch counts the times gens was cleared (see forget).
	epoch uint64

	// loads shares one load among the callers that miss the same key
	// at once (thousands of threads polling one batch).
	loads singleflight.Group
}

type cached[V any] struct {
	v       V
	expires time.Time
}

// maxCached bounds the entries; past it the cache starts empty again.
const maxCached = 100_000

func newTTLCache[K comparable, V any](ttl time.Duration, key func(K) string) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, key: key, now: time.Now, life: lifetime, entries: map[K]cached[V]{}, gens: map[K]uint64{}}
}

// sharedLoadTimeout bounds a cache load that several callers share: it
// runs without the context of the caller that started it (one caller going
// away must not fail the others).
const sharedLoadTimeout = 30 * time.Second

// get returns the value for k, loading it when absent or expired. load
// gets the context to read with.
func (c *ttlCache[K, V]) get(ctx context.Context, k K, load func(context.Context) (V, error)) (V, error) {
	if c.ttl <= 0 {
		return load(ctx)
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.v, nil
	}
	ch := c.loads.DoChan(c.key(k), func() (any, error) { return c.load(ctx, k, load) })
	select {
	case r := <-ch:
		v, _ := r.Val.(V)
		return v, r.Err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// peek returns k's value if it is cached and not expired, loading
// nothing.
func (c *ttlCache[K, V]) peek(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || !c.now().Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// load reads k and keeps it unless k was forgotten meanwhile.
func (c *ttlCache[K, V]) load(ctx context.Context, k K, load func(context.Context) (V, error)) (V, error) {
	c.mu.Lock()
	gen, epoch := c.gens[k], c.epoch
	c.mu.Unlock()
	began := c.now()
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedLoadTimeout)
	defer cancel()
	v, err := load(lctx)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens[k] != gen || c.epoch != epoch {
		return v, nil // this caller may use it; later ones read again
	}
	if len(c.entries) >= maxCached {
		clear(c.entries)
	}
	life := c.life(c.ttl)
	c.entries[k] = cached[V]{v: v, expires: began.Add(life)}
	return v, nil
}

// lifetime is 0.75–1.25 TTL: entries loaded together (a fleet starting at
// once) would otherwise all expire together and send a wave of reads to
// the database every TTL.
func lifetime(ttl time.Duration) time.Duration {
	return ttl*3/4 + time.Duration(mrand.Int64N(int64(ttl/2)+1))
}

// forget drops k (after this process changed it): a load of k under way is
// neither kept nor shared with later callers.
func (c *ttlCache[K, V]) forget(k K) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	delete(c.entries, k)
	if len(c.gens) >= maxCached {
		// A new epoch keeps every load under way from being kept.
		clear(c.gens)
		c.epoch++
	}
	c.gens[k]++
	c.mu.Unlock()
	c.loads.Forget(c.key(k))
}
