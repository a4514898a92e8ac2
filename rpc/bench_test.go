package rpc

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchServer serves one cheap method so the numbers measure the transport.
func benchServer(b *testing.B) (httpURL, wsURL string) {
	b.Helper()
	srv, err := NewServer(ServerConfig{Secret: testSecret, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	srv.Register("B.Add", PermRead, Func2(func(_ context.Context, a, c int) (int, error) { return a + c, nil }))
	ts := httptest.NewServer(srv)
	b.Cleanup(func() { _ = srv.Close(); ts.Close() })
	return ts.URL, "ws" + strings.TrimPrefix(ts.URL, "http")
}

func benchCalls(b *testing.B, url string) {
	tok := token(b, Claims{Allow: AllowList(PermRead)})
	c, err := Dial(context.Background(), url, WithToken(tok))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var n int
		for pb.Next() {
			if err := c.Call(ctx, "B.Add", &n, 1, 2); err != nil || n != 3 {
				b.Errorf("call: %v %d", err, n)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkCallHTTP measures authenticated calls per second over HTTP POST
// on loopback (keep-alive connections, token verified per request).
func BenchmarkCallHTTP(b *testing.B) {
	u, _ := benchServer(b)
	benchCalls(b, u)
}

// BenchmarkCallWS measures calls per second multiplexed on one WebSocket.
func BenchmarkCallWS(b *testing.B) {
	_, u := benchServer(b)
	benchCalls(b, u)
}

// BenchmarkDecodeRequest measures parsing one request.
func BenchmarkDecodeRequest(b *testing.B) {
	msg := []byte(`{"jsonrpc":"2.0","id":12345,"method":"Filecoin.StateMinerInfo","params":["f01234",[{"/":"bafy2bzacedtzyf6l3pz4ejdpqvgn5ulhzgglpgohfllh5dqcuenhwfrvnzwqs"}]]}`)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, e := decodeMessage(msg, 10); e != nil {
			b.Fatal(e)
		}
	}
}
