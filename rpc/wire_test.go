package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
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

// FuzzDecodeFrame checks the hand-written message decoder against
// json.Unmarshal: the same frame, or an error from both.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"Sealant.PollPreCommitState","params":[{"miner":1000,"number":7}]}`,
		`{"jsonrpc":"2.0","id":"a\"b","result":{"state":"landed"}}`,
		`{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"no"}}`,
		`{"jsonrpc":"2.0","id":3,"error":null,"result":null}`,
		` { "id" : null , "method" : "x" , "params" : null } `,
		`{"method":"a","method":"b"}`,
		`{"Method":"a"}`,
		`{"me\u0074hod":"a"}`,
		`{"method":"\u00e9"}`,
		`{"method":5}`,
		`{"method":null}`,
		`{"jsonrpc":"2.0","extra":[1,{"a":"]"}],"id":-1.5e3}`,
		`{}`, `[]`, `null`, `{"id":1`, `"x"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var got, want frame
		err := decodeFrame([]byte(raw), &got)
		werr := json.Unmarshal([]byte(raw), &want)
		if (err == nil) != (werr == nil) {
			t.Fatalf("%q: decodeFrame error %v, json.Unmarshal error %v", raw, err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n decodeFrame %+v\nUnmarshal   %+v", raw, got, want)
		}
	})
}

// TestDecodeFrameCopies: the decoded frame keeps nothing of the buffer it
// was read from (the read loop reuses it), and its raw members cannot
// grow into each other.
func TestDecodeFrameCopies(t *testing.T) {
	buf := []byte(`{"jsonrpc":"2.0","id":7,"method":"M","params":[1],"result":2}`)
	var f frame
	if err := decodeFrame(buf, &f); err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'x'
	}
	if f.JSONRPC != "2.0" || f.Method != "M" || string(f.ID) != "7" || string(f.Params) != "[1]" || string(f.Result) != "2" {
		t.Fatalf("frame changed with its buffer: %+v", f)
	}
	_ = append(f.ID, '9')
	if string(f.Params) != "[1]" {
		t.Fatalf("appending to the id overwrote the params: %q", f.Params)
	}
}

func sameElements(a, b []json.RawMessage) bool {
	return slices.EqualFunc(a, b, func(x, y json.RawMessage) bool { return bytes.Equal(x, y) })
}

func TestEncodeRequest(t *testing.T) {
	b, err := encodeRequest(nil, json.RawMessage("3"), "Filecoin.ChainHead", nil)
	if err != nil || string(b) != `{"jsonrpc":"2.0","id":3,"method":"Filecoin.ChainHead","params":[]}` {
		t.Errorf("%s %v", b, err)
	}
	b, err = encodeRequest(nil, nil, "xrpc.cancel", []any{3})
	if err != nil || string(b) != `{"jsonrpc":"2.0","method":"xrpc.cancel","params":[3]}` {
		t.Errorf("%s %v", b, err)
	}
	if _, err := encodeRequest(nil, nil, "x", []any{func() {}}); err == nil {
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

// BenchmarkDecodeFrame: a worker's poll request and its answer, decoded by
// decodeFrame and, as the yardstick, by json.Unmarshal.
func BenchmarkDecodeFrame(b *testing.B) {
	msgs := map[string][]byte{
		"request":  []byte(`{"jsonrpc":"2.0","id":4711,"method":"Sealant.PollPreCommitState","params":[{"miner":1000,"number":7}]}`),
		"response": []byte(`{"jsonrpc":"2.0","id":4711,"result":{"state":"landed","message_cid":"bafy2bzacea3wsdh6y3a36tb3skempjoxqpuyompjbmfeyf34fi3uy6uue42v4"}}`),
	}
	for _, name := range []string{"request", "response"} {
		msg := msgs[name]
		b.Run(name+"/decodeFrame", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var f frame
				if err := decodeFrame(msg, &f); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/json.Unmarshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var f frame
				if err := json.Unmarshal(msg, &f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
