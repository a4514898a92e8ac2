package manager

import (
	"context"
	"errors"
	"log/slog"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// ttlCache holds values read for poll answers for a short time. It uses
// the wall clock, not the service clock: it is a performance device, not a
// decision, and only answers that a worker repeats anyway, or that the
// store checks again in the call's own transaction, read through it.
//
// get never serves a value more than its life (about the TTL) after it
// was read; getRevalidating, for poll answers, serves one up to a TTL
// longer while it is read again. Neither serves a value after this
// process changed it (forget).
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
	// refreshing holds the keys refresh is loading.
	refreshing map[K]struct{}

	// loads shares one load among the callers that miss the same key
	// at once (thousands of threads polling one batch).
	loads singleflight.Group

	// many, when set, reads several keys at once; refresh then queues its
	// keys in pending, and one goroutine (refreshPending, running while
	// gathering is set) reads them together. Why: at 10,000 polling
	// threads the refreshes were 2,000 reads a second, each a goroutine, a
	// timer and a database round trip of its own.
	many      func(context.Context, []K) (map[K]V, error)
	pending   []K
	gathering bool
	// log, when set, hears of batched refreshes that failed (their
	// entries stay until they expire, and callers then load them one by
	// one), at most once per refreshLogEvery with a count, so that a
	// database outage does not fill the log at one line per 10 ms.
	log *slog.Logger
	// refreshLogged is when the last failure was logged, refreshFailed
	// the failures since; only refreshPending uses them, and one runs at
	// a time.
	refreshLogged time.Time
	refreshFailed int

	// base is the loads' context; close cancels it.
	base      context.Context
	cancel    context.CancelFunc
	closed    bool // under mu: no load starts any more
	loadsLive sync.WaitGroup
}

type cached[V any] struct {
	v       V
	expires time.Time
}

// maxCached bounds the entries; past it the cache starts empty again.
const maxCached = 100_000

func newTTLCache[K comparable, V any](ttl time.Duration, key func(K) string) *ttlCache[K, V] {
	base, cancel := context.WithCancel(context.Background())
	return &ttlCache[K, V]{ttl: ttl, key: key, now: time.Now, life: lifetime, entries: map[K]cached[V]{}, gens: map[K]uint64{}, refreshing: map[K]struct{}{}, base: base, cancel: cancel}
}

// errCacheClosed answers a load asked for after close.
var errCacheClosed = errors.New("manager: poll cache closed")

// close stops the loads under way (their callers get an error) and waits
// for them to end; no load starts after it.
func (c *ttlCache[K, V]) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.loadsLive.Wait()
}

// sharedLoadTimeout bounds a cache load, which several callers may share
// (see load).
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
	ch := c.loads.DoChan(c.key(k), func() (any, error) { return c.load(k, load) })
	select {
	case r := <-ch:
		v, _ := r.Val.(V)
		return v, r.Err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// getRevalidating is get for poll answers. An entry past its life by less
// than a TTL is returned at once, and one shared load reads it again in
// the background; later callers get the new value. So a thread polling
// faster than the TTL never waits for the database, and its answer is at
// most about two TTLs old (a life, up to 1¼ TTL, plus one TTL) instead of
// one. An older entry, or none, is loaded as get does.
func (c *ttlCache[K, V]) getRevalidating(ctx context.Context, k K, load func(context.Context) (V, error)) (V, error) {
	if c.ttl > 0 {
		now := c.now()
		c.mu.Lock()
		e, ok := c.entries[k]
		c.mu.Unlock()
		switch {
		case ok && now.Before(e.expires):
			return e.v, nil
		case ok && now.Before(e.expires.Add(c.ttl)):
			c.refresh(k, load)
			return e.v, nil
		}
	}
	return c.get(ctx, k, load)
}

// refresh reads k again in the background unless a refresh of k is
// under way (joining a load would make and keep a channel per caller):
// with many, it queues k for refreshPending; without, it starts one
// shared load, whose result reaches the callers that wait for it
// (DoChan's channel is buffered; nobody need read it here). Any load of
// k ends the refresh (load), so one that joined a get's load cannot stay
// marked. Nothing starts after close.
func (c *ttlCache[K, V]) refresh(k K, load func(context.Context) (V, error)) {
	c.mu.Lock()
	_, busy := c.refreshing[k]
	if busy || c.closed {
		c.mu.Unlock()
		return
	}
	c.refreshing[k] = struct{}{}
	if c.many == nil {
		c.mu.Unlock()
		c.loads.DoChan(c.key(k), func() (any, error) { return c.load(k, load) })
		return
	}
	c.pending = append(c.pending, k)
	start := !c.gathering
	if start {
		c.gathering = true
		c.loadsLive.Add(1)
	}
	c.mu.Unlock()
	if start {
		go c.refreshPending()
	}
}

// refreshGather is how long refreshPending lets refreshes gather before
// it reads them; a refreshed entry is served stale meanwhile, so the
// wait costs no caller anything.
const refreshGather = 10 * time.Millisecond

// refreshLogEvery spaces the log lines of failed batched refreshes.
const refreshLogEvery = time.Minute

// maxRefresh bounds the keys one read of refreshPending asks for.
const maxRefresh = 512

// refreshPending reads the pending keys with many, at most maxRefresh at
// a time, each round after refreshGather, until none is pending. A key
// forgotten while it was read is not kept (as in load); a key the read
// does not return keeps its entry, which then expires.
func (c *ttlCache[K, V]) refreshPending() {
	defer c.loadsLive.Done()
	pause := time.NewTimer(refreshGather)
	defer pause.Stop()
	for {
		select {
		case <-pause.C:
		case <-c.base.Done():
		}
		c.mu.Lock()
		if len(c.pending) == 0 || c.closed {
			for _, k := range c.pending {
				delete(c.refreshing, k)
			}
			c.pending, c.gathering = nil, false
			c.mu.Unlock()
			return
		}
		n := min(len(c.pending), maxRefresh)
		keys := slices.Clone(c.pending[:n])
		c.pending = slices.Delete(c.pending, 0, n)
		gens := make([]uint64, n)
		for i, k := range keys {
			gens[i] = c.gens[k]
		}
		epoch := c.epoch
		c.mu.Unlock()

		began := c.now()
		lctx, cancel := context.WithTimeout(c.base, sharedLoadTimeout)
		got, err := c.many(lctx, keys)
		cancel()
		if err != nil && c.log != nil && c.base.Err() == nil {
			c.refreshFailed++
			if now := time.Now(); now.Sub(c.refreshLogged) >= refreshLogEvery {
				c.log.Warn("poll cache: batched refresh failed; the entries are read again when they expire",
					"keys", len(keys), "failed_refreshes", c.refreshFailed, "err", err)
				c.refreshLogged, c.refreshFailed = now, 0
			}
		}
		c.mu.Lock()
		for i, k := range keys {
			delete(c.refreshing, k)
			if v, ok := got[k]; err == nil && ok {
				c.keepLocked(k, v, gens[i], epoch, began)
			}
		}
		c.mu.Unlock()
		pause.Reset(refreshGather)
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

// load reads k and keeps it unless k was forgotten meanwhile. It reads
// with the cache's context, not a caller's: one caller going away must
// not fail the others sharing the load.
func (c *ttlCache[K, V]) load(k K, load func(context.Context) (V, error)) (V, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		var zero V
		return zero, errCacheClosed
	}
	c.loadsLive.Add(1)
	defer c.loadsLive.Done()
	gen, epoch := c.gens[k], c.epoch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.refreshing, k)
		c.mu.Unlock()
	}()
	began := c.now()
	lctx, cancel := context.WithTimeout(c.base, sharedLoadTimeout)
	defer cancel()
	v, err := load(lctx)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	c.keepLocked(k, v, gen, epoch, began) // if not kept, this caller may still use it
	c.mu.Unlock()
	return v, nil
}

// keepLocked caches v, read for k from began on, unless k was forgotten
// since its generation was gen in epoch (c.mu held).
func (c *ttlCache[K, V]) keepLocked(k K, v V, gen, epoch uint64, began time.Time) {
	if c.gens[k] != gen || c.epoch != epoch {
		return
	}
	if len(c.entries) >= maxCached {
		clear(c.entries)
	}
	c.entries[k] = cached[V]{v: v, expires: began.Add(c.life(c.ttl))}
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
