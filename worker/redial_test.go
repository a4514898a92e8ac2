package worker

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

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
