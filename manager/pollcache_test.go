package manager

import (
	"context"
	"errors"
	"strconv"
	"sync"
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

func TestTTLCacheExpiry(t *testing.T) {
	const ttl = 10 * time.Second
	clock := &fakeClock{t: time.Unix(1000, 0)}
	c := newTTLCache[int, int](ttl, strconv.Itoa)
	c.now = clock.now
	c.life = func(ttl time.Duration) time.Duration { return ttl }
	var loads int
	load := func(context.Context) (int, error) { loads++; return loads, nil }
	get := func() int {
		t.Helper()
		v, err := c.get(context.Background(), 1, load)
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
	clock.add(ttl - time.Millisecond)
	if v := get(); v != 1 || loads != 1 {
		t.Fatalf("read within the TTL: %d after %d loads, want 1 after 1", v, loads)
	}
	clock.add(time.Millisecond)
	if _, ok := c.peek(1); ok {
		t.Fatal("peek served an expired value")
	}
	if v := get(); v != 2 {
		t.Fatalf("read after expiry %d, want 2 (loaded)", v)
	}
	c.forget(1)
	if v := get(); v != 3 {
		t.Fatalf("read after forget %d, want 3 (loaded)", v)
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

// TestTTLCacheRevalidating: an entry past its life by less than a TTL is
// answered at once while one load reads it again in the background; an
// older one is loaded before the answer, as get does.
func TestTTLCacheRevalidating(t *testing.T) {
	const ttl = 10 * time.Second
	clock := &fakeClock{t: time.Unix(1000, 0)}
	c := newTTLCache[int, int](ttl, strconv.Itoa)
	defer c.close()
	c.now = clock.now
	c.life = func(ttl time.Duration) time.Duration { return ttl }
	var mu sync.Mutex
	loads := 0
	started, release := make(chan struct{}, 1), make(chan struct{})
	load := func(context.Context) (int, error) {
		mu.Lock()
		loads++
		n := loads
		mu.Unlock()
		if n == 2 { // the background refresh: held until released
			started <- struct{}{}
			<-release
		}
		return n, nil
	}
	get := func() int {
		t.Helper()
		v, err := c.getRevalidating(context.Background(), 1, load)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := get(); v != 1 {
		t.Fatalf("first read %d, want 1 (loaded)", v)
	}
	clock.add(ttl + time.Second) // expired, within the stale window
	if v := get(); v != 1 {
		t.Fatalf("read of an expired entry %d, want 1 at once", v)
	}
	<-started // a refresh is under way
	if v := get(); v != 1 {
		t.Fatalf("read during the refresh %d, want 1 at once", v)
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if v, ok := c.peek(1); ok && v == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background refresh was not kept")
		}
		time.Sleep(time.Millisecond)
	}
	clock.add(2*ttl + time.Second) // past the stale window
	if v := get(); v != 3 {
		t.Fatalf("read of an entry past the stale window %d, want 3 (loaded first)", v)
	}
	mu.Lock()
	defer mu.Unlock()
	if loads != 3 {
		t.Fatalf("%d loads, want 3 (one refresh shared by two stale reads)", loads)
	}
}

// TestTTLCacheClose: close cancels a load under way and waits for it;
// later loads fail at once.
func TestTTLCacheClose(t *testing.T) {
	c := newTTLCache[int, int](time.Minute, strconv.Itoa)
	started, ended := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.get(context.Background(), 1, func(ctx context.Context) (int, error) {
			close(started)
			<-ctx.Done()
			close(ended)
			return 0, ctx.Err()
		})
		errc <- err
	}()
	<-started
	c.close()
	select {
	case <-ended:
	default:
		t.Fatal("close returned before the load it cancelled ended")
	}
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the waiting caller got %v, want the cancellation", err)
	}
	if _, err := c.get(context.Background(), 2, func(context.Context) (int, error) { return 1, nil }); !errors.Is(err, errCacheClosed) {
		t.Fatalf("a load after close: %v, want errCacheClosed", err)
	}
}
