package rpc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestTLS dials https:// and wss:// with a TLS config trusting the test
// server's certificate, and checks that the default config rejects it.
func TestTLS(t *testing.T) {
	srv, err := NewServer(ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	registerTestMethods(srv, make(chan string, 16))
	ts := httptest.NewUnstartedServer(srv)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshakes below are expected
	ts.StartTLS()
	t.Cleanup(func() { _ = srv.Close(); ts.Close() })
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	ctx := context.Background()
	for _, u := range []string{ts.URL, "wss" + strings.TrimPrefix(ts.URL, "https")} {
		c, err := Dial(ctx, u, WithTLSConfig(&tls.Config{RootCAs: pool}))
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		var n int
		if err := c.Call(ctx, "T.Echo", &n, 11); err != nil || n != 11 {
			t.Errorf("%s: %v %d", u, err, n)
		}
		_ = c.Close()

		// Without the CA the handshake must fail (at dial for wss, at the
		// first call for https).
		c, err = Dial(ctx, u)
		if err == nil {
			err = c.Call(ctx, "T.Echo", &n, 11)
			_ = c.Close()
		}
		var uerr x509.UnknownAuthorityError
		if !errors.As(err, &uerr) {
			t.Errorf("%s without CA: %v", u, err)
		}
	}
}

func TestCallTimeout(t *testing.T) {
	e := newEnv(t, ServerConfig{})
	e.srv.Register("T.Wait", PermNone, Proc0(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }))
	for _, u := range []string{e.http, e.ws} {
		c := dial(t, e, u, WithCallTimeout(20*time.Millisecond))
		err := c.Call(context.Background(), "T.Wait", nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: %v", u, err)
		}
		// A context that is already cancelled fails at once.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := c.Call(ctx, "T.Wait", nil); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestNotify(t *testing.T) {
	e := newEnv(t, ServerConfig{})
	got := make(chan int, 2)
	e.srv.Register("T.Note", PermNone, Proc1(func(_ context.Context, n int) error { got <- n; return nil }))
	for i, u := range []string{e.http, e.ws} {
		c := dial(t, e, u)
		if err := c.Notify(context.Background(), "T.Note", i+1); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if n := <-got; n != i+1 {
			t.Errorf("%s: got %d", u, n)
		}
	}
}

func TestHTTPClientResponseChecks(t *testing.T) {
	bodies := map[string]struct {
		status int
		body   string
		want   string
	}{
		"/html":  {http.StatusBadGateway, "<html>bad gateway</html>", "not a json-rpc response (http 502"},
		"/401":   {http.StatusUnauthorized, "", "unauthenticated"},
		"/badid": {http.StatusOK, `{"jsonrpc":"2.0","id":999,"result":1}`, "does not match"},
		"/big":   {http.StatusOK, `{"jsonrpc":"2.0","id":1,"result":"` + strings.Repeat("x", 200) + `"}`, "larger than 100 bytes"},
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := bodies[r.URL.Path]
		w.WriteHeader(b.status)
		_, _ = w.Write([]byte(b.body))
	}))
	defer ts.Close()
	for path, b := range bodies {
		c, err := Dial(context.Background(), ts.URL+path, WithMaxMessageSize(100))
		if err != nil {
			t.Fatal(err)
		}
		err = c.Call(context.Background(), "X", nil)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: %v, want %q", path, err, b.want)
		}
	}
}
