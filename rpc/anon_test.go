package rpc

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// countingBody counts the bytes the server reads from a request body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestAnonymousBodyCapped: a server that verifies tokens reads at most
// MaxAnonymousRequestSize bytes of a tokenless body and answers 401; a
// bad token is refused before any byte is read; a token holder keeps the
// full MaxRequestSize.
func TestAnonymousBodyCapped(t *testing.T) {
	srv, err := NewServer(ServerConfig{Secret: testSecret, Errors: testRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	registerTestMethods(srv, make(chan string, 16))
	var read atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = countingBody{r.Body, &read}
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()

	big := `{"jsonrpc":"2.0","id":1,"method":"T.Echo","params":["` + strings.Repeat("a", 4<<20) + `"]}`
	do := func(name, auth string, chunked bool) (int, string) {
		t.Helper()
		read.Store(0)
		var body io.Reader = strings.NewReader(big)
		if chunked { // no Content-Length: the server must stop reading by itself
			body = io.MultiReader(body)
		}
		req, _ := http.NewRequest(http.MethodPost, ts.URL, body)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, chunked := range []bool{false, true} {
		status, body := do("tokenless", "", chunked)
		if status != http.StatusUnauthorized || !strings.Contains(body, "-32031") {
			t.Errorf("tokenless 4 MiB (chunked %v): %d %.200s", chunked, status, body)
		}
		if n := read.Load(); n > DefaultMaxAnonymousRequestSize+64<<10 {
			t.Errorf("tokenless 4 MiB (chunked %v): server read %d bytes before refusing", chunked, n)
		}
		status, _ = do("bad token", "not.a.token", chunked)
		if status != http.StatusUnauthorized {
			t.Errorf("bad token: %d", status)
		}
		if n := read.Load(); n != 0 {
			t.Errorf("bad token: server read %d body bytes before refusing", n)
		}
	}
	status, body := do("token", token(t, Claims{Allow: AllowList(PermRead)}), false)
	if status != 200 || !strings.Contains(body, `"result"`) {
		t.Errorf("authenticated 4 MiB: %d %.200s", status, body)
	}
	// Small anonymous calls still work.
	req, _ := http.NewRequest(http.MethodPost, ts.URL, bytes.NewReader([]byte(`{"jsonrpc":"2.0","id":1,"method":"T.Echo","params":[1]}`)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("small tokenless call: %d", resp.StatusCode)
	}
}
