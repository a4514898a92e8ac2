package lotus

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealant/sealant/chain/types"
)

func TestRPCErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		handler http.HandlerFunc
		check   func(t *testing.T, err error)
	}{
		{"generic actor not found", rpcErrorHandler(1, "resolution lookup failed (f0999): actor not found"), func(t *testing.T, err error) {
			var re *RPCError
			if !errors.As(err, &re) || re.Code != CodeGeneric || !IsActorNotFound(err) {
				t.Errorf("err = %v", err)
			}
		}},
		{"registered actor not found", rpcErrorHandler(CodeActorNotFound, "actor not found"), func(t *testing.T, err error) {
			if !IsActorNotFound(err) {
				t.Errorf("err = %v", err)
			}
		}},
		{"out of gas", rpcErrorHandler(CodeOutOfGas, "estimating gas used: message execution failed: exit SysErrOutOfGas(7)"), func(t *testing.T, err error) {
			var re *RPCError
			if !errors.As(err, &re) || re.Code != CodeOutOfGas || IsActorNotFound(err) {
				t.Errorf("err = %v", err)
			}
		}},
		{"method not found (http 500 with json-rpc body)", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"method 'Filecoin.Nope' not found"}}`))
		}, func(t *testing.T, err error) {
			var re *RPCError
			if !errors.As(err, &re) || re.Code != CodeMethodNotFound {
				t.Errorf("err = %v", err)
			}
		}},
		{"error with data", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":1,"error":{"code":3,"message":"reverted","data":"0x08c379a0"}}`))
		}, func(t *testing.T, err error) {
			var re *RPCError
			if !errors.As(err, &re) || string(re.Data) != `"0x08c379a0"` || !strings.Contains(err.Error(), "rpc error 3: reverted") {
				t.Errorf("err = %v", err)
			}
		}},
		{"unauthorized", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
		}, func(t *testing.T, err error) {
			if !errors.Is(err, ErrUnauthorized) {
				t.Errorf("err = %v", err)
			}
		}},
		{"not json", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`<html>`))
		}, func(t *testing.T, err error) {
			if !errors.Is(err, ErrBadResponse) {
				t.Errorf("err = %v", err)
			}
		}},
		{"wrong id", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":999,"result":1}`))
		}, func(t *testing.T, err error) {
			if !errors.Is(err, ErrBadResponse) {
				t.Errorf("err = %v", err)
			}
		}},
		{"wrong result type", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":"not a number"}`))
		}, func(t *testing.T, err error) {
			if !errors.Is(err, ErrBadResponse) {
				t.Errorf("err = %v", err)
			}
		}},
		{"404 plain", func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}, func(t *testing.T, err error) {
			var he *HTTPError
			if !errors.As(err, &he) || he.StatusCode != 404 || errors.Is(err, ErrTransport) {
				t.Errorf("err = %v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				tc.handler(w, r)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, nil)
			_, err := c.MpoolGetNonce(ctx, docAddr) // first request has id 1
			if err == nil {
				t.Fatal("no error")
			}
			tc.check(t, err)
			if n := calls.Load(); n != 1 {
				t.Errorf("%d requests; answered errors must not be retried", n)
			}
		})
	}
}

func rpcErrorHandler(code int, msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req rpcReq
		_ = json.NewDecoder(r.Body).Decode(&req)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"jsonrpc": "2.0", "id": req.ID, "error": map[string]any{"code": code, "message": msg},
		})
	}
}

// flakyNode drops the first n connections mid-request (after reading the
// request, before answering), then behaves like a node returning nonce 7.
func flakyNode(n int64) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := calls.Add(1)
		var req rpcReq
		_ = json.NewDecoder(r.Body).Decode(&req)
		if k <= n {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": 7})
	}))
	return srv, &calls
}

func TestRetryIdempotent(t *testing.T) {
	srv, calls := flakyNode(2)
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil) // 3 attempts
	n, err := c.MpoolGetNonce(context.Background(), docAddr)
	if err != nil || n != 7 {
		t.Fatalf("got %d, %v", n, err)
	}
	if calls.Load() != 3 {
		t.Errorf("calls = %d, want 3", calls.Load())
	}
	c.Close()
	if n, err := c.MpoolGetNonce(context.Background(), docAddr); err != nil || n != 7 {
		t.Fatalf("after Close: %d, %v", n, err)
	}

	srv2, calls2 := flakyNode(5)
	defer srv2.Close()
	c2 := newTestClient(t, srv2.URL, nil)
	if _, err := c2.MpoolGetNonce(context.Background(), docAddr); !errors.Is(err, ErrTransport) {
		t.Fatalf("err = %v, want ErrTransport", err)
	}
	if calls2.Load() != 3 {
		t.Errorf("calls = %d, want 3 (attempts cap)", calls2.Load())
	}
}

func TestRetryGatewayStatus(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "upstream down", http.StatusServiceUnavailable)
			return
		}
		rpcResult(w, r, 7)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	if n, err := c.MpoolGetNonce(context.Background(), docAddr); err != nil || n != 7 || calls.Load() != 2 {
		t.Fatalf("got %d, %v after %d calls", n, err, calls.Load())
	}
}

func rpcResult(w http.ResponseWriter, r *http.Request, v any) {
	var req rpcReq
	_ = json.NewDecoder(r.Body).Decode(&req)
	_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": v})
}

// TestMpoolPushNotRetriedBlindly: a push whose connection dies after the
// request was sent must not be repeated, and must say so.
func TestMpoolPushNotRetriedBlindly(t *testing.T) {
	srv, calls := flakyNode(1)
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	sm := &types.SignedMessage{Message: types.Message{To: docAddr, From: docAddr, GasLimit: 1}, Signature: types.Signature{Type: types.SigTypeBLS, Data: docMsg}}
	_, err := c.MpoolPush(context.Background(), sm)
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	if calls.Load() != 1 {
		t.Errorf("MpoolPush sent %d times", calls.Load())
	}
}

// countingTransport counts round trips, so retries are observable even
// when no server ever sees them.
type countingTransport struct {
	n  atomic.Int64
	rt http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

// TestMpoolPushRetriedWhenNeverSent: a refused connection proves the node
// never saw the request, so even MpoolPush is retried.
func TestMpoolPushRetriedWhenNeverSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	ct := &countingTransport{rt: http.DefaultTransport}
	c := newTestClient(t, "http://"+addr, func(cfg *Config) { cfg.Transport = ct })
	sm := &types.SignedMessage{Message: types.Message{To: docAddr, From: docAddr, GasLimit: 1}, Signature: types.Signature{Type: types.SigTypeBLS, Data: docMsg}}
	_, err = c.MpoolPush(context.Background(), sm)
	if !errors.Is(err, ErrTransport) || errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrTransport without ErrOutcomeUnknown", err)
	}
	if ct.n.Load() != 3 {
		t.Errorf("round trips = %d, want 3", ct.n.Load())
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	srv, _ := flakyNode(100)
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Retry = RetryPolicy{Attempts: 100, MinBackoff: time.Hour, MaxBackoff: time.Hour}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := c.ChainHead(ctx); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestBackoffBounds(t *testing.T) {
	p := RetryPolicy{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}.withDefaults()
	for n := 1; n < 20; n++ {
		limit := min(p.MaxBackoff, p.MinBackoff<<min(n-1, 30))
		for range 50 {
			if d := p.backoff(n); d < 0 || d > limit {
				t.Fatalf("backoff(%d) = %v, limit %v", n, d, limit)
			}
		}
	}
	if d := (RetryPolicy{}).withDefaults(); d.Attempts != 4 || d.MinBackoff <= 0 || d.MaxBackoff < d.MinBackoff {
		t.Errorf("defaults = %+v", d)
	}
}

func TestIdempotent(t *testing.T) {
	for m, want := range map[string]bool{
		"Filecoin.ChainHead": true, "Filecoin.StateWaitMsg": true, "Filecoin.GasEstimateMessageGas": true,
		"Filecoin.MpoolGetNonce": true, "Filecoin.WalletSign": true, "Filecoin.WalletBalance": true,
		"Filecoin.MpoolPush": false, "Filecoin.MpoolPushMessage": false, "Filecoin.MpoolBatchPush": false,
		"Filecoin.WalletNew": false, "ChainHead": false, "": false,
	} {
		if Idempotent(m) != want {
			t.Errorf("Idempotent(%q) = %v", m, !want)
		}
	}
}

// TestTLS: a self-signed endpoint is refused by default (and not retried),
// and accepted when its CA is configured or verification is explicitly
// skipped.
func TestTLS(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		rpcResult(w, r, 7)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected handshake failures
	srv.StartTLS()
	defer srv.Close()
	ctx := context.Background()

	c := newTestClient(t, srv.URL, nil)
	_, err := c.MpoolGetNonce(ctx, docAddr)
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &cve) {
		t.Fatalf("self-signed endpoint: err = %v, want a certificate verification error", err)
	}
	if calls.Load() != 0 {
		t.Fatalf("request reached the server despite the bad certificate")
	}

	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	c = newTestClient(t, srv.URL, func(cfg *Config) { cfg.TLS.CAPEM = caPEM })
	if n, err := c.MpoolGetNonce(ctx, docAddr); err != nil || n != 7 {
		t.Fatalf("with CA: %d, %v", n, err)
	}
	c = newTestClient(t, srv.URL, func(cfg *Config) { cfg.TLS.InsecureSkipVerify = true })
	if n, err := c.MpoolGetNonce(ctx, docAddr); err != nil || n != 7 {
		t.Fatalf("insecure: %d, %v", n, err)
	}
	if _, err := New(Config{APIInfo: srv.URL, TLS: TLSConfig{CAPEM: []byte("junk")}}); !errors.Is(err, ErrBadAPIInfo) {
		t.Errorf("junk CA: err = %v", err)
	}
	if _, err := New(Config{APIInfo: srv.URL, TLS: TLSConfig{CAFile: "testdata/does-not-exist.pem"}}); err == nil {
		t.Error("missing CA file accepted")
	}
}

func TestBearerToken(t *testing.T) {
	node := &fakeNode{t: t, token: "a.b.c", handle: func(rpcReq) (any, *RPCError) { return 7, nil }}
	srv := httptest.NewServer(node)
	defer srv.Close()
	ok, err := New(Config{APIInfo: "a.b.c:" + srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ok.MpoolGetNonce(context.Background(), docAddr); err != nil {
		t.Fatalf("token from api info: %v", err)
	}
	override, _ := New(Config{APIInfo: "x.y.z:" + srv.URL, Token: "a.b.c"})
	if _, err := override.MpoolGetNonce(context.Background(), docAddr); err != nil {
		t.Fatalf("Config.Token override: %v", err)
	}
	bad, _ := New(Config{APIInfo: "x.y.z:" + srv.URL})
	if _, err := bad.MpoolGetNonce(context.Background(), docAddr); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong token: err = %v", err)
	}
	if _, err := New(Config{APIInfo: srv.URL, Token: "a b"}); !errors.Is(err, ErrBadAPIInfo) {
		t.Errorf("token with space accepted: %v", err)
	}
}
