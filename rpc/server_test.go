package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawResp is a decoded response for assertions.
type rawResp struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *Error          `json:"error"`
}

func TestHTTPRaw(t *testing.T) {
	e := newEnv(t, ServerConfig{Secret: testSecret, AnonymousPerm: PermRead, MaxBatch: 4})
	tests := []struct {
		name     string
		body     string
		status   int
		id       string // expected id ("" = don't care)
		result   string // expected result JSON when code == 0
		code     int
		contains string // substring of the error message
	}{
		{name: "ok positional", body: `{"jsonrpc":"2.0","id":1,"method":"T.Add","params":[2,3]}`, status: 200, id: "1", result: "5"},
		{name: "string id echoed", body: `{"jsonrpc":"2.0","id":"abc","method":"T.Add","params":[2,3]}`, status: 200, id: `"abc"`, result: "5"},
		{name: "null id", body: `{"jsonrpc":"2.0","id":null,"method":"T.Add","params":[1,1]}`, status: 200, id: "null", result: "2"},
		{name: "three params", body: `{"jsonrpc":"2.0","id":1,"method":"T.Add3","params":[1,2,3]}`, status: 200, result: "6"},
		{name: "object params", body: `{"jsonrpc":"2.0","id":1,"method":"T.Struct","params":{"A":4,"B":"x"}}`, status: 200, result: `"4-x"`},
		{name: "result null", body: `{"jsonrpc":"2.0","id":1,"method":"T.Nothing","params":[]}`, status: 200, result: "null"},
		{name: "absent params", body: `{"jsonrpc":"2.0","id":1,"method":"T.Nothing"}`, status: 200, result: "null"},
		{name: "parse error", body: `{"jsonrpc":"2.0",`, status: 400, id: "null", code: CodeParseError},
		{name: "empty body", body: ``, status: 400, code: CodeInvalidRequest},
		{name: "not an object", body: `42`, status: 400, code: CodeInvalidRequest},
		{name: "method wrong type", body: `{"jsonrpc":"2.0","id":1,"method":5}`, status: 400, code: CodeInvalidRequest},
		{name: "wrong version", body: `{"jsonrpc":"1.0","id":9,"method":"T.Add","params":[1,2]}`, status: 400, id: "9", code: CodeInvalidRequest, contains: `"2.0"`},
		{name: "missing method", body: `{"jsonrpc":"2.0","id":1}`, status: 400, code: CodeInvalidRequest},
		{name: "object id", body: `{"jsonrpc":"2.0","id":{},"method":"T.Add","params":[1,2]}`, status: 400, id: "null", code: CodeInvalidRequest},
		{name: "scalar params", body: `{"jsonrpc":"2.0","id":1,"method":"T.Add","params":5}`, status: 400, code: CodeInvalidRequest},
		{name: "unknown method", body: `{"jsonrpc":"2.0","id":1,"method":"T.Nope","params":[]}`, status: 404, code: CodeMethodNotFound, contains: "T.Nope"},
		{name: "too few params", body: `{"jsonrpc":"2.0","id":1,"method":"T.Add","params":[1]}`, status: 200, code: CodeInvalidParams, contains: "want 2 params, got 1"},
		{name: "too many params", body: `{"jsonrpc":"2.0","id":1,"method":"T.Add","params":[1,2,3]}`, status: 200, code: CodeInvalidParams, contains: "want 2 params, got 3"},
		{name: "wrong param type", body: `{"jsonrpc":"2.0","id":1,"method":"T.Add","params":[1,"x"]}`, status: 200, code: CodeInvalidParams, contains: "param 2 (int)"},
		{name: "object to two-param method", body: `{"jsonrpc":"2.0","id":1,"method":"T.Add","params":{"a":1}}`, status: 200, code: CodeInvalidParams},
		{name: "empty batch", body: `[]`, status: 400, code: CodeInvalidRequest},
		{name: "batch too large", body: `[1,2,3,4,5]`, status: 400, code: CodeInvalidRequest, contains: "limit of 4"},
		{name: "bad batch json", body: `[{"jsonrpc":"2.0"`, status: 400, code: CodeParseError},
		{name: "permission denied", body: `{"jsonrpc":"2.0","id":1,"method":"T.Perm.write","params":[]}`, status: 200, code: CodePermissionDenied, contains: `needs "write"`},
		{name: "stream over http", body: `{"jsonrpc":"2.0","id":1,"method":"T.Stream","params":[1]}`, status: 200, code: CodeWebSocketRequired},
		{name: "unencodable result", body: `{"jsonrpc":"2.0","id":1,"method":"T.Unmarshalable","params":[]}`, status: 200, code: CodeInternal, contains: "ref"},
		{name: "rpc error passthrough", body: `{"jsonrpc":"2.0","id":1,"method":"T.RPCError","params":[]}`, status: 200, code: 4242, contains: "custom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, e.http, tc.body, nil)
			if status != tc.status {
				t.Errorf("status %d, want %d (body %s)", status, tc.status, body)
			}
			var r rawResp
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatalf("response %q: %v", body, err)
			}
			if r.JSONRPC != "2.0" {
				t.Errorf("jsonrpc %q", r.JSONRPC)
			}
			if tc.id != "" && string(r.ID) != tc.id {
				t.Errorf("id %s, want %s", r.ID, tc.id)
			}
			if tc.code == 0 {
				if r.Error != nil {
					t.Fatalf("unexpected error %+v", r.Error)
				}
				if string(r.Result) != tc.result {
					t.Errorf("result %s, want %s", r.Result, tc.result)
				}
				if !strings.Contains(body, `"result":`) {
					t.Errorf("success response without result member: %s", body)
				}
				return
			}
			if r.Error == nil {
				t.Fatalf("no error in %s", body)
			}
			if r.Error.Code != tc.code {
				t.Errorf("code %d, want %d (%s)", r.Error.Code, tc.code, r.Error.Message)
			}
			if !strings.Contains(r.Error.Message, tc.contains) {
				t.Errorf("message %q does not contain %q", r.Error.Message, tc.contains)
			}
			if strings.Contains(body, `"result"`) {
				t.Errorf("error response with result member: %s", body)
			}
		})
	}
}

func TestHTTPBatch(t *testing.T) {
	e := newEnv(t, ServerConfig{AnonymousPerm: PermRead})
	body := `[
		{"jsonrpc":"2.0","id":1,"method":"T.Add","params":[1,2]},
		{"jsonrpc":"2.0","method":"T.Add","params":[1,2]},
		7,
		{"jsonrpc":"2.0","id":"x","method":"T.Nope"},
		{"jsonrpc":"2.0","id":3,"method":"T.Add","params":["a",2]}
	]`
	status, out := post(t, e.http, body, nil)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	var rs []rawResp
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	// The notification gets no entry; the others answer in order.
	want := []struct {
		id   string
		code int
	}{{"1", 0}, {"null", CodeInvalidRequest}, {`"x"`, CodeMethodNotFound}, {"3", CodeInvalidParams}}
	if len(rs) != len(want) {
		t.Fatalf("%d responses, want %d: %s", len(rs), len(want), out)
	}
	for i, w := range want {
		if string(rs[i].ID) != w.id {
			t.Errorf("#%d id %s, want %s", i, rs[i].ID, w.id)
		}
		code := 0
		if rs[i].Error != nil {
			code = rs[i].Error.Code
		}
		if code != w.code {
			t.Errorf("#%d code %d, want %d", i, code, w.code)
		}
	}
	if string(rs[0].Result) != "3" {
		t.Errorf("result %s", rs[0].Result)
	}

	// Only notifications: nothing to answer.
	status, out = post(t, e.http, `[{"jsonrpc":"2.0","method":"T.Add","params":[1,2]}]`, nil)
	if status != http.StatusNoContent || out != "" {
		t.Errorf("notification batch: %d %q", status, out)
	}
	status, out = post(t, e.http, `{"jsonrpc":"2.0","method":"T.Add","params":[1,2]}`, nil)
	if status != http.StatusNoContent || out != "" {
		t.Errorf("notification: %d %q", status, out)
	}
}

func TestHTTPLimitsAndMethods(t *testing.T) {
	e := newEnv(t, ServerConfig{MaxRequestSize: 64})
	big := `{"jsonrpc":"2.0","id":1,"method":"T.Echo","params":["` + strings.Repeat("a", 100) + `"]}`
	status, body := post(t, e.http, big, nil)
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"code":-32600`) {
		t.Errorf("oversize: %d %s", status, body)
	}
	status, _ = post(t, e.http, `{"jsonrpc":"2.0","id":1,"method":"T.Echo","params":[1]}`, nil)
	if status != 200 {
		t.Errorf("small request: %d", status)
	}
	resp, err := http.Get(e.http)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

func TestHiddenAndExposedErrors(t *testing.T) {
	for _, expose := range []bool{false, true} {
		t.Run(fmt.Sprint("expose=", expose), func(t *testing.T) {
			e := newEnv(t, ServerConfig{ExposeErrors: expose})
			c := dial(t, e, e.http)
			err := c.Call(context.Background(), "T.Fail", nil)
			var re *Error
			if !errors.As(err, &re) {
				t.Fatalf("want *Error, got %v", err)
			}
			if expose {
				if re.Code != CodeGeneric || re.Message != "dial db: password=hunter2 refused" {
					t.Errorf("exposed: %+v", re)
				}
				return
			}
			if re.Code != CodeInternal || strings.Contains(re.Message, "hunter2") || !strings.Contains(re.Message, "ref ") {
				t.Errorf("hidden: %+v", re)
			}
			if !errors.Is(err, ErrInternal) {
				t.Errorf("errors.Is(ErrInternal) false for %v", err)
			}
			ref := re.Message[strings.Index(re.Message, "ref ")+4 : len(re.Message)-1]
			if logs := e.logs.String(); !strings.Contains(logs, "hunter2") || !strings.Contains(logs, ref) {
				t.Errorf("error and ref %s not logged: %s", ref, logs)
			}
		})
	}
}

func TestPanicRecovered(t *testing.T) {
	e := newEnv(t, ServerConfig{})
	for _, url := range []string{e.http, e.ws} {
		c := dial(t, e, url)
		err := c.Call(context.Background(), "T.Panic", nil)
		var re *Error
		if !errors.As(err, &re) || re.Code != CodeInternal {
			t.Fatalf("%s: want -32603, got %v", url, err)
		}
		if strings.Contains(re.Message, "secret-panic-detail") {
			t.Errorf("panic value leaked: %q", re.Message)
		}
		// The server keeps serving after a panic.
		var n int
		if err := c.Call(context.Background(), "T.Echo", &n, 5); err != nil || n != 5 {
			t.Errorf("after panic: %v %d", err, n)
		}
	}
	if logs := e.logs.String(); !strings.Contains(logs, "secret-panic-detail") || !strings.Contains(logs, "goroutine") {
		t.Errorf("panic and stack not logged: %s", logs)
	}
}

func TestErrorRegistryAcrossWire(t *testing.T) {
	e := newEnv(t, ServerConfig{AnonymousPerm: PermRead})
	for _, url := range []string{e.http, e.ws} {
		c := dial(t, e, url)
		ctx := context.Background()

		err := c.Call(ctx, "T.Sentinel", nil, 7)
		if !errors.Is(err, errTestNotFound) {
			t.Errorf("%s: sentinel lost: %v", url, err)
		}
		if !strings.Contains(err.Error(), "sector 7: testsvc: sector not found") {
			t.Errorf("%s: message %q", url, err)
		}

		err = c.Call(ctx, "T.Typed", nil)
		var se *testStageError
		if !errors.As(err, &se) || se.Sector != 7 || se.Stage != "pc1" {
			t.Errorf("%s: typed error lost: %v (%+v)", url, err, se)
		}

		err = c.Call(ctx, "T.Add", nil, 1)
		if !errors.Is(err, ErrInvalidParams) {
			t.Errorf("%s: invalid params not mapped: %v", url, err)
		}
		err = c.Call(ctx, "T.Nope", nil)
		if !errors.Is(err, ErrMethodNotFound) {
			t.Errorf("%s: method not found not mapped: %v", url, err)
		}

		// A client without the registration still gets code and message.
		plain, err2 := Dial(ctx, url, WithErrorRegistry(NewErrorRegistry()))
		if err2 != nil {
			t.Fatal(err2)
		}
		err = plain.Call(ctx, "T.Sentinel", nil, 7)
		var re *Error
		if !errors.As(err, &re) || re.Code != 1001 || errors.Is(err, errTestNotFound) {
			t.Errorf("%s: unregistered client: %v", url, err)
		}
		_ = plain.Close()
	}
}

func TestRegistryPanics(t *testing.T) {
	r := NewErrorRegistry()
	r.Register(5000, errTestNotFound)
	for name, f := range map[string]func(){
		"duplicate":      func() { r.Register(5000, errors.New("x")) },
		"reserved spec":  func() { r.Register(-32700, errors.New("x")) },
		"reserved own":   func() { r.Register(CodePermissionDenied, errors.New("x")) },
		"generic":        func() { r.Register(CodeGeneric, errors.New("x")) },
		"nil sentinel":   func() { r.Register(5001, nil) },
		"register empty": func() { (&methodTable{}).register("", PermNone, Proc0(func(context.Context) error { return nil })) },
		"register perm": func() {
			(&methodTable{}).register("a", Perm("root"), Proc0(func(context.Context) error { return nil }))
		},
		"register xrpc": func() {
			(&methodTable{}).register(methodCancel, PermNone, Proc0(func(context.Context) error { return nil }))
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

func TestNewServerValidation(t *testing.T) {
	if _, err := NewServer(ServerConfig{Secret: []byte("short")}); !errors.Is(err, ErrWeakSecret) {
		t.Errorf("short secret: %v", err)
	}
	if _, err := NewServer(ServerConfig{AnonymousPerm: "root"}); err == nil {
		t.Error("unknown anonymous perm accepted")
	}
	if _, err := NewServer(ServerConfig{MaxRequestSize: -1}); err == nil {
		t.Error("negative limit accepted")
	}
}

func TestObserve(t *testing.T) {
	type obs struct {
		method string
		code   int
	}
	var (
		mu  sync.Mutex
		got []obs
	)
	e := newEnv(t, ServerConfig{AnonymousPerm: PermRead, Observe: func(m string, code int, _ time.Duration) {
		mu.Lock()
		got = append(got, obs{m, code})
		mu.Unlock()
	}})
	for _, u := range []string{e.http, e.ws} {
		c := dial(t, e, u)
		_ = c.Call(context.Background(), "T.Add", nil, 1, 2)
		_ = c.Call(context.Background(), "T.Perm.admin", nil)
		_ = c.Call(context.Background(), "attacker-chosen-name", nil)
	}
	want := []obs{{"T.Add", 0}, {"T.Perm.admin", CodePermissionDenied}, {"", CodeMethodNotFound}}
	want = append(want, want...)
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("observed %v, want %v", got, want)
	}
}

// TestHTTPStatusForErrors: Sealant services answer a parse error with 400
// and an unknown method with 404; a Lotus stand-in (LotusHTTPStatus) keeps
// go-jsonrpc's 500 for both.
func TestHTTPStatusForErrors(t *testing.T) {
	for _, lotus := range []bool{false, true} {
		e := newEnv(t, ServerConfig{LotusHTTPStatus: lotus})
		parse, unknown := http.StatusBadRequest, http.StatusNotFound
		if lotus {
			parse, unknown = http.StatusInternalServerError, http.StatusInternalServerError
		}
		if status, body := post(t, e.http, `{"jsonrpc":`, nil); status != parse || !strings.Contains(body, "-32700") {
			t.Errorf("lotus %v: parse error: %d %s", lotus, status, body)
		}
		if status, body := post(t, e.http, `{"jsonrpc":"2.0","id":1,"method":"X.Nope","params":[]}`, nil); status != unknown || !strings.Contains(body, "-32601") {
			t.Errorf("lotus %v: unknown method: %d %s", lotus, status, body)
		}
	}
}
