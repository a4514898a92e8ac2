package delivery

import (
	"context"
	"crypto/sha256"
	"net/http/httptest"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
)

// TestBackgroundOwned: a timer cancelled by close never fires, work is
// refused once closed, and close waits for the work that runs.
func TestBackgroundOwned(t *testing.T) {
	var b background
	var fired atomic.Int32
	b.after(20*time.Millisecond, func() { fired.Add(1) })
	stopped := b.after(time.Hour, func() { fired.Add(1) })
	b.stop(stopped)
	release := make(chan struct{})
	var ran atomic.Bool
	if !b.goFunc(func() { <-release; ran.Store(true) }) {
		t.Fatal("goFunc refused before close")
	}
	closed := make(chan struct{})
	go func() { b.close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("close returned while work was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-closed
	if !ran.Load() {
		t.Fatal("close returned before the running work ended")
	}
	time.Sleep(40 * time.Millisecond) // past the first timer's deadline
	if n := fired.Load(); n != 0 {
		t.Fatalf("%d timers fired after close", n)
	}
	if b.goFunc(func() {}) || b.after(time.Millisecond, func() {}) != nil {
		t.Fatal("work accepted after close")
	}
}

// TestReceiverRunOwnsGoroutines: uploads leave background commits and
// pause timers behind; once Run has returned (and the HTTP server is
// closed) the process is back to its goroutines before the receiver, no
// timer is pending, and a chunk arriving afterwards is committed before
// it is answered.
func TestReceiverRunOwnsGoroutines(t *testing.T) {
	s := newTestSector(t, 611)
	before := runtime.NumGoroutine()
	e := &env{chain: newFakeChain(), root: t.TempDir(), store: t.TempDir()}
	r, err := NewReceiver(ReceiverConfig{Root: e.root, Store: e.store, Secret: testSecret, Miners: []uint64{testMiner},
		Chain: e.chain, CommitBytes: 1, CommitInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e.r = r
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	e.srv = httptest.NewServer(r.Handler())
	e.tok = providerToken(t, "acme")
	e.onChain(t, s)
	c := testClient()
	if _, err := c.PushMetadata(context.Background(), e.endpoint(), s.md); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(s.files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	var got api.ReceiverFile
	for off := int64(0); off < 512; off += 128 {
		if _, err := c.putChunk(context.Background(), e.endpoint(), s.id, s.files[0].Name, f, off, 128, h, nil, &got); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	r.bg.mu.Lock()
	pending := len(r.bg.timers)
	r.bg.mu.Unlock()
	if pending != 0 {
		t.Errorf("%d timers pending after Run returned", pending)
	}
	// A chunk after Run: committed inline, nothing left running.
	if _, err := c.putChunk(context.Background(), e.endpoint(), s.id, s.files[0].Name, f, 512, 128, h, nil, &got); err != nil {
		t.Fatal(err)
	}
	disk, _, err := LoadSector(e.root, s.id)
	if err != nil || disk.Files[0].Received != 640 {
		t.Fatalf("after Run: record %+v, %v; want 640 bytes committed", disk.Files[0], err)
	}
	e.srv.CloseClientConnections()
	e.srv.Close()
	testClient().httpClient().CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Run returned, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
