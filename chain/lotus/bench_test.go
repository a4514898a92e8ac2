package lotus

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
)

// BenchmarkDecodeTipSet measures decoding the documented ChainHead result
// (one block header), the most frequent large payload.
func BenchmarkDecodeTipSet(b *testing.B) {
	raw := loadExamples(b)["ChainHead"].Result
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		var ts TipSet
		if err := json.Unmarshal(raw, &ts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallChainHead is one full HTTP round trip against a local
// fake node (encode, POST, decode).
func BenchmarkCallChainHead(b *testing.B) {
	raw := loadExamples(b)["ChainHead"].Result
	node := &fakeNode{t: b, handle: func(rpcReq) (any, *RPCError) { return raw, nil }}
	srv := httptest.NewServer(node)
	defer srv.Close()
	c := newTestClient(b, srv.URL, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ChainHead(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
