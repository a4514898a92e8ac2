package rpc_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/sealant/sealant/rpc"
)

// A service registers typed handlers with a permission each; the transport
// handles HTTP, WebSocket, auth and errors.
func Example() {
	secret := []byte("example-secret-of-at-least-32-bytes!")
	srv, err := rpc.NewServer(rpc.ServerConfig{Secret: secret})
	if err != nil {
		panic(err)
	}
	srv.Register("Demo.Version", rpc.PermNone, rpc.Func0(func(context.Context) (string, error) { return "v1", nil }))
	srv.Register("Demo.Add", rpc.PermRead, rpc.Func2(func(_ context.Context, a, b int) (int, error) { return a + b, nil }))
	ts := httptest.NewServer(srv)
	defer ts.Close()

	ctx := context.Background()
	anon, _ := rpc.Dial(ctx, ts.URL)
	var v string
	fmt.Println(anon.Call(ctx, "Demo.Version", &v), v)
	fmt.Println(anon.Call(ctx, "Demo.Add", nil, 1, 2))

	tok, _ := rpc.IssueToken(secret, rpc.Claims{Allow: rpc.AllowList(rpc.PermRead)})
	c, _ := rpc.Dial(ctx, ts.URL, rpc.WithToken(tok))
	var sum int
	fmt.Println(c.Call(ctx, "Demo.Add", &sum, 1, 2), sum)
	// Output:
	// <nil> v1
	// rpc: Demo.Add: rpc: permission denied: method needs "read", caller has "none"
	// <nil> 3
}

// The signer pattern: the client dials out and serves a method; the server
// calls it over the same WebSocket.
func ExamplePeer_Call() {
	srv, _ := rpc.NewServer(rpc.ServerConfig{})
	got := make(chan string)
	srv.OnConnect(func(ctx context.Context, p *rpc.Peer) {
		var sig string
		if err := p.Call(ctx, "Signer.Sign", &sig, "msg-cid"); err != nil {
			got <- err.Error()
			return
		}
		got <- sig
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()

	ctx := context.Background()
	c, err := rpc.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http"),
		rpc.WithHandler("Signer.Sign", rpc.Func1(func(_ context.Context, cid string) (string, error) {
			return "signature-over-" + cid, nil
		})))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Println(<-got)
	// Output: signature-over-msg-cid
}
