package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sealant/sealant/internal/testenv"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

var errTestNotFound = errors.New("testsvc: sector not found")

type testStageError struct {
	Sector uint64
	Stage  string
}

func (e *testStageError) Error() string {
	return fmt.Sprintf("sector %d: stage %s failed", e.Sector, e.Stage)
}

func testRegistry() *ErrorRegistry {
	r := NewErrorRegistry()
	r.Register(1001, errTestNotFound)
	RegisterErrorType[*testStageError](r, 1002)
	return r
}

// env is a server under test with its HTTP and WS URLs.
type env struct {
	srv    *Server
	ts     *httptest.Server
	http   string
	ws     string
	logs   *testenv.Buffer
	errs   *ErrorRegistry
	events chan string // handlers report what happened to their contexts
}

func newEnv(t *testing.T, cfg ServerConfig) *env {
	t.Helper()
	e := &env{logs: &testenv.Buffer{}, errs: testRegistry(), events: make(chan string, 16)}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if cfg.Errors == nil {
		cfg.Errors = e.errs
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	registerTestMethods(srv, e.events)
	// T.Block reports "started", waits for its context to end, then reports
	// why. (Not in registerTestMethods: the fuzzer must not find it.)
	srv.Register("T.Block", PermNone, Proc0(func(ctx context.Context) error {
		e.events <- "started"
		<-ctx.Done()
		e.events <- "done: " + ctx.Err().Error()
		return ctx.Err()
	}))
	mux := http.NewServeMux()
	mux.Handle("/rpc/v1", srv)
	e.ts = httptest.NewServer(mux)
	t.Cleanup(func() {
		_ = srv.Close()
		e.ts.Close()
	})
	e.http = e.ts.URL + "/rpc/v1"
	e.ws = "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/rpc/v1"
	return e
}

func registerTestMethods(s *Server, events chan<- string) {
	s.Register("T.Echo", PermNone, Func1(func(_ context.Context, v json.RawMessage) (json.RawMessage, error) { return v, nil }))
	s.Register("T.Add", PermRead, Func2(func(_ context.Context, a, b int) (int, error) { return a + b, nil }))
	s.Register("T.Add3", PermRead, Func3(func(_ context.Context, a, b, c int) (int, error) { return a + b + c, nil }))
	s.Register("T.Struct", PermNone, Func1(func(_ context.Context, v struct {
		A int
		B string
	}) (string, error) {
		return fmt.Sprintf("%d-%s", v.A, v.B), nil
	}))
	for _, p := range []Perm{PermNone, PermRead, PermWrite, PermSign, PermAdmin} {
		s.Register("T.Perm."+p.String(), p, Func0(func(context.Context) (string, error) { return p.String(), nil }))
	}
	s.Register("T.Nothing", PermNone, Proc0(func(context.Context) error { return nil }))
	s.Register("T.Panic", PermNone, Func0(func(context.Context) (int, error) { panic("secret-panic-detail") }))
	s.Register("T.Fail", PermNone, Proc0(func(context.Context) error { return errors.New("dial db: password=hunter2 refused") }))
	s.Register("T.Sentinel", PermNone, Proc1(func(_ context.Context, n uint64) error {
		return fmt.Errorf("sector %d: %w", n, errTestNotFound)
	}))
	s.Register("T.Typed", PermNone, Proc0(func(context.Context) error {
		return fmt.Errorf("sealing: %w", &testStageError{Sector: 7, Stage: "pc1"})
	}))
	s.Register("T.RPCError", PermNone, Proc0(func(context.Context) error {
		return &Error{Code: 4242, Message: "custom", Data: json.RawMessage(`{"k":1}`)}
	}))
	s.Register("T.Claims", PermNone, Func0(func(ctx context.Context) (*Claims, error) {
		c, _ := ClaimsFrom(ctx)
		return c, nil
	}))
	s.Register("T.Unmarshalable", PermNone, Func0(func(context.Context) (any, error) { return func() {}, nil }))
	// T.Stream sends n values; if n < 0 it sends forever until cancelled and
	// reports "producer stopped".
	s.Register("T.Stream", PermRead, Func1(func(ctx context.Context, n int) (*Stream, error) {
		ch := make(chan map[string]int)
		go func() {
			defer close(ch)
			for i := 0; n < 0 || i < n; i++ {
				select {
				case ch <- map[string]int{"Height": i}:
				case <-ctx.Done():
					events <- "producer stopped"
					return
				}
			}
		}()
		return NewStream(ch), nil
	}))
	s.Register("T.RoleWorker", PermRead, RequireRole(Func0(func(context.Context) (string, error) { return "ok", nil }), RoleWorker))
}

// post sends a raw body and returns status and body.
func post(t *testing.T, url, body string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func token(t testing.TB, c Claims) string {
	t.Helper()
	tok, err := IssueToken(testSecret, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func dial(t *testing.T, e *env, url string, opts ...DialOption) *Client {
	t.Helper()
	opts = append([]DialOption{WithErrorRegistry(e.errs)}, opts...)
	c, err := Dial(context.Background(), url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func wantEvent(t *testing.T, events <-chan string, want string) {
	t.Helper()
	if got := <-events; got != want {
		t.Fatalf("event %q, want %q", got, want)
	}
}
