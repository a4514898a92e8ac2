package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
)

// rawWS is a bare WebSocket speaking JSON text, to check exact frames.
type rawWS struct {
	t *testing.T
	c *websocket.Conn
}

func dialRaw(t *testing.T, url string) *rawWS {
	t.Helper()
	c, _, err := websocket.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(-1)
	t.Cleanup(func() { _ = c.CloseNow() })
	return &rawWS{t: t, c: c}
}

func (r *rawWS) send(s string) {
	r.t.Helper()
	if err := r.c.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawWS) recv() string {
	r.t.Helper()
	_, b, err := r.c.Read(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

// TestStreamWireFormat pins the go-jsonrpc channel protocol byte for byte:
// the result is the channel id, then xrpc.ch.val [id, value] per value,
// then xrpc.ch.close [id].
func TestStreamWireFormat(t *testing.T) {
	e := newEnv(t, ServerConfig{AnonymousPerm: PermRead})
	r := dialRaw(t, e.ws)
	r.send(`{"jsonrpc":"2.0","id":7,"method":"T.Stream","params":[2]}`)
	want := []string{
		`{"jsonrpc":"2.0","id":7,"result":1}`,
		`{"jsonrpc":"2.0","method":"xrpc.ch.val","params":[1,{"Height":0}]}`,
		`{"jsonrpc":"2.0","method":"xrpc.ch.val","params":[1,{"Height":1}]}`,
		`{"jsonrpc":"2.0","method":"xrpc.ch.close","params":[1]}`,
	}
	for i, w := range want {
		if got := r.recv(); got != w {
			t.Fatalf("frame %d:\n got %s\nwant %s", i, got, w)
		}
	}
	// A second subscription gets the next channel id.
	r.send(`{"jsonrpc":"2.0","id":8,"method":"T.Stream","params":[0]}`)
	if got := r.recv(); got != `{"jsonrpc":"2.0","id":8,"result":2}` {
		t.Fatalf("second: %s", got)
	}
	if got := r.recv(); got != `{"jsonrpc":"2.0","method":"xrpc.ch.close","params":[2]}` {
		t.Fatalf("second close: %s", got)
	}
}

// TestStreamCancelWire: go-jsonrpc clients end a channel with
// xrpc.cancel [requestID]; the producer's context must end and the server
// must close the channel.
func TestStreamCancelWire(t *testing.T) {
	e := newEnv(t, ServerConfig{AnonymousPerm: PermRead})
	r := dialRaw(t, e.ws)
	r.send(`{"jsonrpc":"2.0","id":3,"method":"T.Stream","params":[-1]}`)
	if got := r.recv(); got != `{"jsonrpc":"2.0","id":3,"result":1}` {
		t.Fatalf("result: %s", got)
	}
	if got := r.recv(); !strings.Contains(got, `"params":[1,{"Height":0}]`) {
		t.Fatalf("first value: %s", got)
	}
	r.send(`{"jsonrpc":"2.0","method":"xrpc.cancel","params":[3]}`)
	wantEvent(t, e.events, "producer stopped")
	for {
		got := r.recv()
		if got == `{"jsonrpc":"2.0","method":"xrpc.ch.close","params":[1]}` {
			break
		}
		if !strings.Contains(got, "xrpc.ch.val") {
			t.Fatalf("unexpected frame %s", got)
		}
	}
}

func TestSubscribe(t *testing.T) {
	e := newEnv(t, ServerConfig{AnonymousPerm: PermRead})
	c := dial(t, e, e.ws)
	ctx := context.Background()
	sub, err := c.Subscribe(ctx, "T.Stream", 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		var v struct{ Height int }
		if err := sub.Next(ctx, &v); err != nil || v.Height != i {
			t.Fatalf("value %d: %v %+v", i, err, v)
		}
	}
	if err := sub.Next(ctx, nil); !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v", err)
	}

	// Close cancels the producer on the server.
	sub, err = c.Subscribe(ctx, "T.Stream", -1)
	if err != nil {
		t.Fatal(err)
	}
	var raw json.RawMessage
	if err := sub.Next(ctx, &raw); err != nil || string(raw) != `{"Height":0}` {
		t.Fatalf("first: %v %s", err, raw)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	wantEvent(t, e.events, "producer stopped")
	if err := sub.Next(ctx, nil); !errors.Is(err, ErrSubscriptionClosed) {
		t.Errorf("after close: %v", err)
	}

	// Subscribing to a non-channel method is an error, not a hang.
	if _, err := c.Subscribe(ctx, "T.Perm.read"); err == nil || !strings.Contains(err.Error(), "not a channel id") {
		t.Errorf("non-channel subscribe: %v", err)
	}
	hc := dial(t, e, e.http)
	if _, err := hc.Subscribe(ctx, "T.Stream", 1); !errors.Is(err, ErrWebSocketRequired) {
		t.Errorf("http subscribe: %v", err)
	}
	if err := hc.Call(ctx, "T.Stream", nil, 1); !errors.Is(err, ErrWebSocketRequired) {
		t.Errorf("http call of stream: %v", err)
	}
}

func TestSlowSubscriberDropped(t *testing.T) {
	e := newEnv(t, ServerConfig{AnonymousPerm: PermRead})
	c := dial(t, e, e.ws, WithSubscriptionBuffer(2))
	ctx := context.Background()
	sub, err := c.Subscribe(ctx, "T.Stream", -1)
	if err != nil {
		t.Fatal(err)
	}
	// Do not read: the buffer overflows, the subscription ends and the
	// producer is cancelled.
	wantEvent(t, e.events, "producer stopped")
	var err2 error
	for err2 == nil {
		err2 = sub.Next(ctx, nil)
	}
	if !errors.Is(err2, ErrSlowSubscriber) {
		t.Errorf("got %v", err2)
	}
	// The connection survives.
	var n int
	if err := c.Call(ctx, "T.Add", &n, 1, 2); err != nil || n != 3 {
		t.Errorf("after overflow: %v", err)
	}
}

// TestReverseCall is the signer pattern: the client dials, registers
// handlers; the server calls them over the same connection, both from an
// OnConnect hook and from inside a handler the client called.
func TestReverseCall(t *testing.T) {
	e := newEnv(t, ServerConfig{Secret: testSecret})
	type signReq struct {
		Addr string
		Data []byte
	}
	hookResult := make(chan string, 1)
	e.srv.OnConnect(func(ctx context.Context, p *Peer) {
		if p.Claims() == nil || p.Claims().Role != RoleSigner {
			return
		}
		var sig string
		err := p.Call(ctx, "Signer.Sign", &sig, signReq{Addr: "f1abc", Data: []byte("msg")})
		hookResult <- fmt.Sprintf("%s %v sub=%s", sig, err, p.Claims().Subject)
	})
	// A server method that calls back the caller while its own call is in flight.
	e.srv.Register("Mgr.Register", PermSign, Func0(func(ctx context.Context) (string, error) {
		p, ok := PeerFrom(ctx)
		if !ok {
			return "", errors.New("no peer")
		}
		var addrs []string
		if err := p.Call(ctx, "Signer.List", &addrs); err != nil {
			return "", err
		}
		return strings.Join(addrs, ","), nil
	}))

	tok := token(t, Claims{Allow: AllowList(PermSign), Role: RoleSigner, RegisteredClaims: jwt.RegisteredClaims{Subject: "sp-1"}})
	c := dial(t, e, e.ws, WithToken(tok),
		WithHandler("Signer.Sign", Func1(func(_ context.Context, r signReq) (string, error) {
			return "sig(" + r.Addr + "," + string(r.Data) + ")", nil
		})),
		WithHandler("Signer.List", Func0(func(context.Context) ([]string, error) { return []string{"f1abc", "f3def"}, nil })),
		WithHandler("Signer.Fail", Proc0(func(context.Context) error { return fmt.Errorf("refuse: %w", errTestNotFound) })),
	)
	if got := <-hookResult; got != "sig(f1abc,msg) <nil> sub=sp-1" {
		t.Errorf("hook: %s", got)
	}
	var got string
	if err := c.Call(context.Background(), "Mgr.Register", &got); err != nil || got != "f1abc,f3def" {
		t.Errorf("nested reverse call: %v %q", err, got)
	}
	peers := e.srv.Peers()
	if len(peers) != 1 {
		t.Fatalf("%d peers", len(peers))
	}
	if err := peers[0].Call(context.Background(), "Signer.Fail", nil); !errors.Is(err, errTestNotFound) {
		t.Errorf("reverse error mapping: %v", err)
	}
	if err := peers[0].Call(context.Background(), "Signer.Nope", nil); !errors.Is(err, ErrMethodNotFound) {
		t.Errorf("reverse unknown method: %v", err)
	}
}

func TestDisconnectCancelsHandler(t *testing.T) {
	e := newEnv(t, ServerConfig{})
	t.Run("http", func(t *testing.T) {
		c := dial(t, e, e.http)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- c.Call(ctx, "T.Block", nil) }()
		wantEvent(t, e.events, "started")
		cancel() // aborts the HTTP request: the server sees the connection close
		wantEvent(t, e.events, "done: context canceled")
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("call: %v", err)
		}
	})
	t.Run("ws cancel", func(t *testing.T) {
		c := dial(t, e, e.ws)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- c.Call(ctx, "T.Block", nil) }()
		wantEvent(t, e.events, "started")
		cancel() // the client sends xrpc.cancel; the connection stays up
		wantEvent(t, e.events, "done: context canceled")
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("call: %v", err)
		}
		var n int
		if err := c.Call(context.Background(), "T.Echo", &n, 4); err != nil || n != 4 {
			t.Errorf("connection unusable after cancel: %v", err)
		}
	})
	t.Run("ws close", func(t *testing.T) {
		c := dial(t, e, e.ws)
		errc := make(chan error, 1)
		go func() { errc <- c.Call(context.Background(), "T.Block", nil) }()
		wantEvent(t, e.events, "started")
		_ = c.Close()
		wantEvent(t, e.events, "done: context canceled")
		if err := <-errc; !errors.Is(err, ErrConnClosed) {
			t.Errorf("pending call: %v", err)
		}
		if err := c.Call(context.Background(), "T.Echo", nil, 1); !errors.Is(err, ErrConnClosed) {
			t.Errorf("call after close: %v", err)
		}
	})
}

func TestWSOversizeClosesConnection(t *testing.T) {
	e := newEnv(t, ServerConfig{MaxRequestSize: 1024})
	c := dial(t, e, e.ws)
	var s string
	if err := c.Call(context.Background(), "T.Echo", &s, strings.Repeat("a", 100)); err != nil {
		t.Fatal(err)
	}
	err := c.Call(context.Background(), "T.Echo", &s, strings.Repeat("a", 2000))
	if !errors.Is(err, ErrConnClosed) {
		t.Errorf("oversize: %v", err)
	}
	<-c.Done()
}

func TestWSOverloaded(t *testing.T) {
	e := newEnv(t, ServerConfig{MaxInflight: 1})
	c := dial(t, e, e.ws)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = c.Call(ctx, "T.Block", nil) }()
	wantEvent(t, e.events, "started")
	if err := c.Call(context.Background(), "T.Echo", nil, 1); !errors.Is(err, ErrOverloaded) {
		t.Errorf("second call: %v", err)
	}
	cancel()
	wantEvent(t, e.events, "done: context canceled")
}

func TestWSRawProtocolErrors(t *testing.T) {
	e := newEnv(t, ServerConfig{AnonymousPerm: PermRead})
	r := dialRaw(t, e.ws)
	tests := []struct{ in, want string }{
		{`{bad`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"rpc: parse error: invalid json"}}`},
		{`{"jsonrpc":"2.0","id":5}`, `{"jsonrpc":"2.0","id":5,"error":{"code":-32600,"message":"rpc: invalid request: missing method"}}`},
		{`{"jsonrpc":"2.0","id":6,"method":"T.Add","params":[1,2]}`, `{"jsonrpc":"2.0","id":6,"result":3}`},
		{`[{"jsonrpc":"2.0","id":1,"method":"T.Add","params":[1,2]},{"jsonrpc":"2.0","id":2,"method":"T.Stream","params":[1]}]`,
			`[{"jsonrpc":"2.0","id":1,"result":3},{"jsonrpc":"2.0","id":2,"error":{"code":-32032,"message":"rpc: T.Stream returns a channel; call it over a websocket, not in a batch"}}]`},
		{`{"jsonrpc":"2.0","id":7,"result":1}`, ``}, // response to nothing: ignored
		{`[{"jsonrpc":"2.0","id":7,"result":1},{"jsonrpc":"2.0","id":8,"error":{"code":1,"message":"x"}}]`, ``},
		{`{"jsonrpc":"2.0","method":"xrpc.cancel","params":[99]}`, ``},
		{`{"jsonrpc":"2.0","method":"xrpc.ch.val","params":[99,1]}`, ``},
	}
	for _, tc := range tests {
		r.send(tc.in)
		if tc.want == "" {
			continue
		}
		if got := r.recv(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
	// Ignored messages produced nothing: the next answer is for the next call.
	r.send(`{"jsonrpc":"2.0","id":"last","method":"T.Echo","params":[true]}`)
	if got := r.recv(); got != `{"jsonrpc":"2.0","id":"last","result":true}` {
		t.Errorf("last: %s", got)
	}
}

func TestServerCloseDisconnectsPeers(t *testing.T) {
	e := newEnv(t, ServerConfig{})
	var wg sync.WaitGroup
	connected := make(chan struct{}, 2)
	e.srv.OnConnect(func(ctx context.Context, p *Peer) {
		connected <- struct{}{}
		<-ctx.Done()
		wg.Done()
	})
	wg.Add(2)
	c1 := dial(t, e, e.ws)
	c2 := dial(t, e, e.ws)
	<-connected
	<-connected
	_ = e.srv.Close()
	<-c1.Done()
	<-c2.Done()
	wg.Wait() // hook contexts ended
	if _, err := Dial(context.Background(), e.ws); err == nil {
		t.Error("dial after Close succeeded")
	}
}

func TestDialContextOnlyBoundsHandshake(t *testing.T) {
	e := newEnv(t, ServerConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	c, err := Dial(ctx, e.ws, WithErrorRegistry(e.errs))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cancel()
	var n int
	if err := c.Call(context.Background(), "T.Echo", &n, 9); err != nil || n != 9 {
		t.Errorf("call after dial ctx cancelled: %v", err)
	}
}

func TestDialErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Dial(ctx, "ftp://x/rpc"); err == nil {
		t.Error("ftp accepted")
	}
	if _, err := Dial(ctx, "http://x/rpc", WithHandler("A", Proc0(func(context.Context) error { return nil }))); err == nil {
		t.Error("handlers over http accepted")
	}
}

// TestStuckWriteClosesConnection: writes carry no context (see
// wsConn.write), so a peer that stops reading must still be cut off once a
// write has made no progress for WriteTimeout, ending the producer.
func TestStuckWriteClosesConnection(t *testing.T) {
	e := newEnv(t, ServerConfig{AnonymousPerm: PermRead, WriteTimeout: 200 * time.Millisecond})
	peers := make(chan *Peer, 1)
	e.srv.OnConnect(func(_ context.Context, p *Peer) { peers <- p })
	r := dialRaw(t, e.ws)
	r.send(`{"jsonrpc":"2.0","id":1,"method":"T.Stream","params":[-1]}`) // never read
	p := <-peers
	select {
	case <-p.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("a peer that reads nothing kept its connection")
	}
	select {
	case ev := <-e.events:
		if ev != "producer stopped" {
			t.Fatalf("event %q, want producer stopped", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream's producer did not stop with the connection")
	}
}

// TestIdleHandlersBounded: after a burst of concurrent requests on one
// connection, at most maxIdleHandlers handler goroutines stay waiting for
// more work (every goroutine's stack is scanned by each collection).
func TestIdleHandlersBounded(t *testing.T) {
	srv, err := NewServer(ServerConfig{Secret: testSecret, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	const burst = 40
	var held sync.WaitGroup
	held.Add(burst)
	release := make(chan struct{})
	srv.Register("T.One", PermRead, Func0(func(context.Context) (int, error) { return 1, nil }))
	srv.Register("T.Hold", PermRead, Func0(func(context.Context) (int, error) { held.Done(); <-release; return 1, nil }))
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { _ = srv.Close(); ts.Close() })
	c, err := Dial(context.Background(), "ws"+strings.TrimPrefix(ts.URL, "http"), WithToken(token(t, Claims{Allow: AllowList(PermRead)})))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	var n int
	if err := c.Call(ctx, "T.One", &n); err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine() // one idle handler among them
	errs := make(chan error, burst)
	for range burst {
		go func() {
			var n int
			errs <- c.Call(ctx, "T.Hold", &n)
		}()
	}
	held.Wait() // all in flight at once: a handler each
	close(release)
	for range burst {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base+maxIdleHandlers {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after the burst, want at most %d (the %d before it, and idle handlers up to %d)",
				runtime.NumGoroutine(), base+maxIdleHandlers, base, maxIdleHandlers)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
