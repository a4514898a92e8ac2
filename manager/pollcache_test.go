package manager

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock for ttlCache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time      { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) add(d time.Duration) { f.mu.Lock(); f.t = f.t.Add(d); f.mu.Unlock() }

func TestTTLCacheReloadsAhead(t *testing.T) {
	const ttl = 10 * time.Second
	clock := &fakeClock{t: time.Unix(1000, 0)}
	c := newTTLCache[int, int](ttl, strconv.Itoa)
	c.now = clock.now
	var loads atomic.Int64
	reloaded := make(chan struct{}, 8)
	load := func(context.Context) (int, error) {
		n := int(loads.Add(1))
		if n > 1 {
			reloaded <- struct{}{}
		}
		return n, nil
	}
	ctx := context.Background()
	get := func() int {
		t.Helper()
		v, err := c.get(ctx, 1, load)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if _, ok := c.peek(1); ok {
		t.Fatal("peek found a key never loaded")
	}
	if v := get(); v != 1 {
		t.Fatalf("first read %d, want 1 (loaded)", v)
	}
	if v, ok := c.peek(1); !ok || v != 1 {
		t.Fatalf("peek after a load: %d, %v", v, ok)
	}
	clock.add(ttl / 4) // fresh: no load at all
	if v := get(); v != 1 || loads.Load() != 1 {
		t.Fatalf("fresh read %d after %d loads, want 1 after 1", v, loads.Load())
	}
	// Past half its life (at most 0.625 TTL) and before it expires (at
	// least 0.75 TTL): served at once, one reload starts behind it.
	clock.add(ttl*7/10 - ttl/4)
	for range 5 {
		if v := get(); v != 1 {
			t.Fatalf("read past half life %d, want the cached 1", v)
		}
	}
	<-reloaded
	c.close() // waits for the reload to be kept
	if n := loads.Load(); n != 2 {
		t.Fatalf("%d loads, want 2: one background reload for five reads", n)
	}
	if v := get(); v != 2 {
		t.Fatalf("read after the reload %d, want 2", v)
	}
	// Expired: peek finds nothing, a read waits for a load.
	clock.add(2 * ttl)
	if _, ok := c.peek(1); ok {
		t.Fatal("peek served an expired value")
	}
	if v := get(); v != 3 {
		t.Fatalf("read after expiry %d, want 3 (loaded)", v)
	}
}

// TestTTLCacheForgetDuringLoad: a load that began before this process
// changed the key (forget) is not kept, so the next read sees the change.
func TestTTLCacheForgetDuringLoad(t *testing.T) {
	c := newTTLCache[int, string](time.Minute, strconv.Itoa)
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan string)
	go func() {
		v, _ := c.get(context.Background(), 7, func(context.Context) (string, error) {
			close(started)
			<-release
			return "before the write", nil
		})
		done <- v
	}()
	<-started
	c.forget(7) // the write committed while the read was under way
	close(release)
	if v := <-done; v != "before the write" {
		t.Fatalf("the waiting caller got %q", v)
	}
	v, err := c.get(context.Background(), 7, func(context.Context) (string, error) { return "after the write", nil })
	if err != nil || v != "after the write" {
		t.Fatalf("read after forget: %q, %v; want the new value", v, err)
	}
}

func TestTTLCacheDisabled(t *testing.T) {
	c := newTTLCache[int, int](-1, strconv.Itoa)
	var n int
	for range 3 {
		if _, err := c.get(context.Background(), 1, func(context.Context) (int, error) { n++; return n, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n != 3 {
		t.Fatalf("%d loads with the cache disabled, want 3", n)
	}
}
