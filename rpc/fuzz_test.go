package rpc

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
)

// FuzzServeBody feeds arbitrary bytes through the request decoder and the
// dispatcher. Invariants: no panic; decodeMessage either rejects the whole
// message or returns elements that are each a valid request or carry an
// error; the payload is valid JSON (an object, or an array for a batch) or
// empty only when nothing needs answering.
func FuzzServeBody(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"T.Add","params":[1,2]}`,
		`{"jsonrpc":"2.0","id":"a","method":"T.Struct","params":{"A":1,"B":"x"}}`,
		`{"jsonrpc":"2.0","method":"T.Add","params":[1,2]}`,
		`[{"jsonrpc":"2.0","id":1,"method":"T.Add","params":[1,2]},7,{"jsonrpc":"2.0","id":{},"method":"x"}]`,
		`[]`, `{`, ``, `null`, `[null]`, `{"jsonrpc":"2.0","id":1e400,"method":"T.Echo","params":[1]}`,
		`{"jsonrpc":"2.0","id":1,"method":"T.Echo","params":"x"}`,
		`{"jsonrpc":"2.0","id":1,"method":"T.Stream","params":[1]}`,
		`{"jsonrpc":"2.0","id":1,"result":1}`,
	} {
		f.Add([]byte(s))
	}
	srv, err := NewServer(ServerConfig{AnonymousPerm: PermAdmin, MaxBatch: 8, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	registerTestMethods(srv, make(chan string, 1<<20))
	f.Fuzz(func(t *testing.T, data []byte) {
		elems, batch, e := decodeMessage(data, 8)
		if e != nil {
			if elems != nil {
				t.Fatal("rejected message with elements")
			}
		} else {
			if len(elems) == 0 || (!batch && len(elems) != 1) {
				t.Fatalf("batch=%v with %d elements", batch, len(elems))
			}
			for _, in := range elems {
				if in.err == nil && (in.req.JSONRPC != "2.0" || in.req.Method == "") {
					t.Fatalf("accepted invalid request %+v", in.req)
				}
				if in.req.ID != nil && !json.Valid(in.req.ID) {
					t.Fatalf("invalid id %q", in.req.ID)
				}
			}
		}
		status, out := serveBody(context.Background(), srv.d, data, 8, PermAdmin, false)
		if len(out) == 0 {
			if e != nil {
				t.Fatal("rejected message without an error response")
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid response json %q", out)
		}
		if status != http.StatusOK && status != http.StatusBadRequest && status != http.StatusNotFound {
			t.Fatalf("status %d", status)
		}
		if batch && e == nil && out[0] != '[' {
			t.Fatalf("batch answered with %q", out)
		}
	})
}
