package worker

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
)

// workerGoroutines lists the goroutines running or created by this
// package's non-test code, leaving out the test itself and the fake
// manager's handlers (which the fake's server owns).
func workerGoroutines() []string {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "sealant/sealant/worker.") || strings.Contains(g, "testing.tRunner") ||
			strings.Contains(g, "fakeManager") || strings.Contains(g, "worker.newFakeManager") {
			continue
		}
		out = append(out, g)
	}
	return out
}

// stubbornTransferer is an upload that does not heed cancellation for a
// while (a disk or network write in progress), announcing its start.
type stubbornTransferer struct{ started chan struct{} }

func (s stubbornTransferer) Upload(context.Context, api.DeliveryTarget, api.SectorID, []LocalFile) (api.DeliveryState, error) {
	s.started <- struct{}{}
	time.Sleep(300 * time.Millisecond)
	return api.DeliveryVerifying, nil
}

// TestRunOwnsGoroutines: Run returns only once every goroutine it started
// has ended — the admin server, the threads and their running actions,
// the heartbeats. The worker is stopped while one thread waits in a
// manager call and another is in an upload that ignores cancellation for
// a while (before, act returned at once and left the upload running).
func TestRunOwnsGoroutines(t *testing.T) {
	f := newFakeManager(t, 2)
	cfg, _ := testConfig(t, f.URL, 2, "")
	cfg.Worker.PingInterval = Duration(10 * time.Millisecond)
	f.target = api.DeliveryTarget{Architecture: api.ArchSPProves, ReceiverURL: "https://sp.example/receiver"}
	f.block(api.MethodWaitSeed)
	f.blockSkip = 1 // the first sector goes through, to its upload
	tr := stubbornTransferer{started: make(chan struct{}, 4)}
	w, err := New(context.Background(), cfg, Options{Transferer: tr})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	for range 2 {
		select {
		case <-f.blocked:
		case <-tr.started:
		case <-time.After(60 * time.Second):
			cancel()
			t.Fatal("the threads did not reach WaitSeed and the upload")
		}
	}
	time.Sleep(30 * time.Millisecond) // a few heartbeats
	cancel()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return")
	}
	if gs := workerGoroutinesAfter(time.Second); len(gs) > 0 {
		t.Fatalf("%d goroutines of the worker outlive Run:\n%s", len(gs), strings.Join(gs, "\n\n"))
	}
}

// workerGoroutinesAfter returns workerGoroutines once it is empty, or
// what is left after grace. A goroutine that has handed over its result
// and is returning (seen in runtime.goexit1 in CI) is gone microseconds
// later; one that outlives its owner is still there after grace.
func workerGoroutinesAfter(grace time.Duration) []string {
	deadline := time.Now().Add(grace)
	for {
		gs := workerGoroutines()
		if len(gs) == 0 || time.Now().After(deadline) {
			return gs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunClosesManagerConnections: a worker on a WebSocket manager URL
// closes its connection when Run returns, so neither its side nor the
// manager's side of the connection keeps goroutines.
func TestRunClosesManagerConnections(t *testing.T) {
	f := newFakeManager(t, 0)
	cfg, _ := testConfig(t, "ws"+strings.TrimPrefix(f.URL, "http"), 1, "")
	cfg.Worker.PingInterval = Duration(10 * time.Millisecond)
	w, err := New(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	for f.count(api.MethodWorkerPing) < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	rpcGoroutines := func() []string {
		buf := make([]byte, 1<<22)
		buf = buf[:runtime.Stack(buf, true)]
		var out []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "sealant/sealant/rpc.") {
				out = append(out, g)
			}
		}
		return out
	}
	deadline := time.Now().Add(10 * time.Second)
	for gs := rpcGoroutines(); len(gs) > 0; gs = rpcGoroutines() {
		if time.Now().After(deadline) {
			t.Fatalf("%d connection goroutines left after Run returned:\n%s", len(gs), strings.Join(gs, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
