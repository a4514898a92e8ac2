package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestIDKey(t *testing.T) {
	tests := []struct {
		raw  string
		key  string
		ok   bool
		same string // another spelling that must map to the same key
	}{
		{raw: `5`, key: "n5", ok: true, same: `5.0`},
		{raw: `-12`, key: "n-12", ok: true, same: `-1.2e1`},
		{raw: `1.5`, key: "f1.5", ok: true, same: `15e-1`},
		{raw: `"abc"`, key: "sabc", ok: true, same: `"\u0061bc"`},
		{raw: `"5"`, key: "s5", ok: true},
		{raw: `null`},
		{raw: ``},
		{raw: `{}`},
		{raw: `true`},
	}
	for _, tc := range tests {
		key, ok := idKey(json.RawMessage(tc.raw))
		if key != tc.key || ok != tc.ok {
			t.Errorf("idKey(%s) = %q %v, want %q %v", tc.raw, key, ok, tc.key, tc.ok)
		}
		if tc.same != "" {
			if k2, _ := idKey(json.RawMessage(tc.same)); k2 != key {
				t.Errorf("idKey(%s) = %q, want %q like %s", tc.same, k2, key, tc.raw)
			}
		}
	}
}

func TestSplitParams(t *testing.T) {
	tests := []struct {
		raw  string
		n    int
		fail bool
	}{
		{``, 0, false},
		{`null`, 0, false},
		{`[]`, 0, false},
		{`[1,"a",{"b":2},[3]]`, 4, false},
		{` [ 1 , "a,]\\\"[" , {"b":[2,{"c":"]"}]} ,[3, [4]] ] `, 4, false},
		{`[ ]`, 0, false},
		{`[null]`, 1, false},
		{`{"a":1,"b":2}`, 1, false},
		{`[1,`, 0, true},
		{`[1,,2]`, 0, true},
		{`[1 2]`, 0, true},
		{`5`, 0, true},
		{`"[1]"`, 0, true},
		{"\v[1]", 0, true}, // not JSON white space
	}
	for _, tc := range tests {
		ps, err := splitParams(json.RawMessage(tc.raw))
		if (err != nil) != tc.fail || len(ps) != tc.n {
			t.Errorf("splitParams(%s) = %d, %v", tc.raw, len(ps), err)
		}
		if err != nil && !errors.Is(err, ErrInvalidParams) {
			t.Errorf("error %v does not wrap ErrInvalidParams", err)
		}
		var want []json.RawMessage
		if err == nil && strings.HasPrefix(strings.TrimSpace(tc.raw), "[") {
			if json.Unmarshal([]byte(tc.raw), &want) != nil || !sameElements(ps, want) {
				t.Errorf("splitParams(%s) = %q, json.Unmarshal gives %q", tc.raw, ps, want)
			}
		}
	}
}

// FuzzSplitParams checks the hand-written array split against
// encoding/json on any input.
func FuzzSplitParams(f *testing.F) {
	for _, s := range []string{`[]`, `[1,"a\\\"]",{"b":[2]}]`, `[1,`, `{"a":1}`, `null`, `[[],{},""]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := splitParams(json.RawMessage(raw))
		var want []json.RawMessage
		werr := json.Unmarshal([]byte(raw), &want)
		trimmed := strings.Trim(raw, " \t\r\n") // JSON's white space
		switch {
		case trimmed == "" || trimmed == "null":
			if err != nil || got != nil {
				t.Fatalf("%q: %q, %v", raw, got, err)
			}
		case strings.HasPrefix(trimmed, "{"):
			// passed whole, decoded by the handler
		case (err == nil) != (werr == nil):
			t.Fatalf("%q: split error %v, json.Unmarshal error %v", raw, err, werr)
		case err == nil && !sameElements(got, want):
			t.Fatalf("%q: split %q, json.Unmarshal %q", raw, got, want)
		}
	})
}

func sameElements(a, b []json.RawMessage) bool {
	return slices.EqualFunc(a, b, func(x, y json.RawMessage) bool { return bytes.Equal(x, y) })
}

func TestEncodeRequest(t *testing.T) {
	b, err := encodeRequest(json.RawMessage("3"), "Filecoin.ChainHead", nil)
	if err != nil || string(b) != `{"jsonrpc":"2.0","id":3,"method":"Filecoin.ChainHead","params":[]}` {
		t.Errorf("%s %v", b, err)
	}
	b, err = encodeRequest(nil, "xrpc.cancel", []any{3})
	if err != nil || string(b) != `{"jsonrpc":"2.0","method":"xrpc.cancel","params":[3]}` {
		t.Errorf("%s %v", b, err)
	}
	if _, err := encodeRequest(nil, "x", []any{func() {}}); err == nil {
		t.Error("unencodable param accepted")
	}
}

// TestPeerSubscribe checks the symmetric direction: the server subscribes
// to a stream the client serves, and OnConnect sees the peer's claims.
func TestPeerSubscribe(t *testing.T) {
	e := newEnv(t, ServerConfig{Secret: testSecret})
	got := make(chan []int, 1)
	e.srv.OnConnect(func(ctx context.Context, p *Peer) {
		if c, ok := ClaimsFrom(ctx); !ok || c.Role != RoleWorker {
			got <- nil
			return
		}
		sub, err := p.Subscribe(ctx, "Worker.Progress")
		if err != nil {
			got <- nil
			return
		}
		var vals []int
		for {
			var v int
			if err := sub.Next(ctx, &v); err != nil {
				if !errors.Is(err, io.EOF) {
					vals = append(vals, -1)
				}
				break
			}
			vals = append(vals, v)
		}
		got <- vals
	})
	dial(t, e, e.ws, WithToken(token(t, Claims{Allow: AllowList(PermWrite), Role: RoleWorker})),
		WithHandler("Worker.Progress", Func0(func(ctx context.Context) (*Stream, error) {
			ch := make(chan int, 3)
			ch <- 10
			ch <- 50
			ch <- 100
			close(ch)
			return NewStream(ch), nil
		})))
	vals := <-got
	if len(vals) != 3 || vals[0] != 10 || vals[1] != 50 || vals[2] != 100 {
		t.Errorf("values %v", vals)
	}
}
