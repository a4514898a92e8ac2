package manager

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealant/sealant/internal/testenv"
)

// fakeClock is a settable clock for ttlCache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time      { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) add(d time.Duration) { f.mu.Lock(); f.t = f.t.Add(d); f.mu.Unlock() }

// newClockedCache returns a cache on a fake clock whose entries live
// exactly ttl.
func newClockedCache(ttl time.Duration) (*ttlCache[int, int], *fakeClock) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	c := newTTLCache[int, int](ttl, strconv.Itoa)
	c.now = clock.now
	c.life = func(ttl time.Duration) time.Duration { return ttl }
	return c, clock
}

func TestTTLCacheExpiry(t *testing.T) {
	const ttl = 10 * time.Second
	c, clock := newClockedCache(ttl)
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
	c, clock := newClockedCache(ttl)
	defer c.close()
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

// TestTTLCacheRefreshMany: with a reader of many keys, stale reads of
// many keys are refreshed by a few reads of them together; a key
// forgotten while its read runs is not kept; close waits for the reads.
func TestTTLCacheRefreshMany(t *testing.T) {
	const ttl, keys = 10 * time.Second, 300
	c, clock := newClockedCache(ttl)
	var mu sync.Mutex
	var reads [][]int
	inRead, release := make(chan struct{}, 1), make(chan struct{})
	c.many = func(_ context.Context, ks []int) (map[int]int, error) {
		mu.Lock()
		reads = append(reads, ks)
		first := len(reads) == 1
		mu.Unlock()
		if first { // held, so that a forget lands during the read
			inRead <- struct{}{}
			<-release
		}
		out := map[int]int{}
		for _, k := range ks {
			if k != 7 { // 7 no longer exists: its entry is left to expire
				out[k] = k + 100
			}
		}
		return out, nil
	}
	one := func(context.Context) (int, error) { return 0, errors.New("a single-key load while many is set") }
	for k := range keys {
		if _, err := c.get(context.Background(), k, func(context.Context) (int, error) { return k, nil }); err != nil {
			t.Fatal(err)
		}
	}
	clock.add(ttl + time.Second) // every entry stale, within the window
	for k := range keys {
		v, err := c.getRevalidating(context.Background(), k, one)
		if err != nil || v != k {
			t.Fatalf("stale read of %d: %d, %v; want %d at once", k, v, err, k)
		}
	}
	<-inRead
	c.forget(3) // changed by this process while its refresh is read
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		idle := !c.gathering
		c.mu.Unlock()
		if idle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refreshes did not end")
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	n, total := len(reads), 0
	for _, r := range reads {
		total += len(r)
	}
	mu.Unlock()
	if total != keys || n > keys/100+2 {
		t.Fatalf("%d keys refreshed in %d reads; want %d keys in a few reads", total, n, keys)
	}
	if _, ok := c.peek(3); ok {
		t.Error("a key forgotten during its refresh was kept")
	}
	if v, ok := c.peek(7); ok {
		t.Errorf("a key the read did not return has a fresh value %d", v)
	}
	for _, k := range []int{0, 150, keys - 1} {
		if v, ok := c.peek(k); !ok || v != k+100 {
			t.Errorf("key %d after the refresh: %d, %v; want %d", k, v, ok, k+100)
		}
	}
	c.close()
	c.refresh(1, one) // after close: nothing starts
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gathering || len(c.pending) > 0 {
		t.Error("a refresh was queued after close")
	}
}

// TestTTLCacheRefreshManyFails: a batched refresh that fails is logged,
// and the stale entries keep answering until they expire.
func TestTTLCacheRefreshManyFails(t *testing.T) {
	const ttl = 10 * time.Second
	c, clock := newClockedCache(ttl)
	defer c.close()
	var logged testenv.Buffer
	c.log = slog.New(slog.NewTextHandler(&logged, nil))
	c.many = func(context.Context, []int) (map[int]int, error) { return nil, errors.New("database gone") }
	for k := range 3 {
		if _, err := c.get(context.Background(), k, func(context.Context) (int, error) { return k, nil }); err != nil {
			t.Fatal(err)
		}
	}
	clock.add(ttl + time.Second)
	one := func(context.Context) (int, error) { return 0, errors.New("a single-key load while many is set") }
	for k := range 3 {
		if v, err := c.getRevalidating(context.Background(), k, one); err != nil || v != k {
			t.Fatalf("stale read of %d: %d, %v", k, v, err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logged.String(), "batched refresh failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no log of the failed refresh; log: %q", logged.String())
		}
		time.Sleep(time.Millisecond)
	}
	if !strings.Contains(logged.String(), "database gone") || !strings.Contains(logged.String(), "keys=3") {
		t.Errorf("log does not say what failed: %q", logged.String())
	}
	if v, err := c.getRevalidating(context.Background(), 1, one); err != nil || v != 1 {
		t.Errorf("after the failed refresh: %d, %v; want the stale 1", v, err)
	}
}
