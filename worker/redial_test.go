package worker

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/rpc"
)

// TestRedialCaller: after the server drops the WebSocket, the next call
// dials again and succeeds; a call cut by the drop is sent once more.
func TestRedialCaller(t *testing.T) {
	srv, err := rpc.NewServer(rpc.ServerConfig{AnonymousPerm: rpc.PermWrite})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	srv.Register("Test.Count", rpc.PermRead, rpc.Func0(func(context.Context) (int64, error) { return calls.Add(1), nil }))
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(hs.URL, "http")
	var dials atomic.Int64
	ctx := context.Background()
	r, err := newRedialCaller(ctx, func(ctx context.Context) (*rpc.Client, error) {
		dials.Add(1)
		return rpc.Dial(ctx, url)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int64
	if err := r.Call(ctx, "Test.Count", &n); err != nil || n != 1 {
		t.Fatalf("first call: %d, %v", n, err)
	}
	if len(srv.Peers()) != 1 {
		t.Fatalf("%d peers", len(srv.Peers()))
	}
	first, _ := r.client(ctx)
	for _, p := range srv.Peers() {
		p.Close()
	}
	<-first.Done() // the drop has reached the client
	if err := r.Call(ctx, "Test.Count", &n); err != nil || n != 2 {
		t.Fatalf("call after drop: %d, %v", n, err)
	}
	if d := dials.Load(); d != 2 {
		t.Fatalf("%d dials, want 2", d)
	}
}

// TestSealOverWebSocketWithDrops seals a sector with the manager reached
// over ws://, while the manager drops the connection every few calls: the
// worker re-dials and repeats cut calls, and the sector still finishes.
func TestSealOverWebSocketWithDrops(t *testing.T) {
	f := newFakeManager(t, 1)
	cfg, root := testConfig(t, "ws"+strings.TrimPrefix(f.URL, "http"), 1, "")
	f.target = api.DeliveryTarget{Architecture: api.ArchProviderProves, StorePath: filepath.Join(root, "provider-store")}
	dropped := make(chan struct{})
	go func() {
		defer close(dropped)
		seen := 0
		for drops := 0; drops < 3; {
			f.mu.Lock()
			n := 0
			for _, c := range f.calls {
				n += c
			}
			f.mu.Unlock()
			if n >= seen+5 && len(f.rpcSrv.Peers()) > 0 {
				for _, p := range f.rpcSrv.Peers() {
					p.Close()
				}
				seen, drops = n, drops+1
			}
			time.Sleep(time.Millisecond)
		}
	}()
	runWorker(t, cfg, Options{})
	t.Cleanup(func() {
		if t.Failed() {
			f.mu.Lock()
			t.Logf("calls: %v", f.calls)
			f.mu.Unlock()
		}
	})
	waitFinished(t, f, 1)
	<-dropped
}
