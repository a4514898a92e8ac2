package lotus

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// wsNode speaks go-jsonrpc's WebSocket channel protocol: it answers the
// ChainNotify call with a channel id, then sends each batch as an
// xrpc.ch.val notification (interleaved with noise the client must
// ignore), then xrpc.ch.close.
type wsNode struct {
	t       *testing.T
	token   string
	batches []json.RawMessage
	callErr *RPCError
	hold    bool // keep the channel open after the batches
}

func (n *wsNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if n.token != "" && r.Header.Get("Authorization") != "Bearer "+n.token {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	ctx := r.Context()
	_, data, err := conn.Read(ctx)
	if err != nil {
		return
	}
	var req rpcReq
	if err := json.Unmarshal(data, &req); err != nil || req.Method != "Filecoin.ChainNotify" || string(req.Params) != "[]" {
		n.t.Errorf("unexpected request %s", data)
		return
	}
	send := func(v any) bool {
		b, _ := json.Marshal(v)
		return conn.Write(ctx, websocket.MessageText, b) == nil
	}
	// Noise before the response: a notification for another channel.
	send(map[string]any{"jsonrpc": "2.0", "method": wsChanValue, "params": []any{99, "noise"}})
	if n.callErr != nil {
		send(map[string]any{"jsonrpc": "2.0", "id": req.ID, "error": n.callErr})
		return
	}
	const chanID = 3
	send(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": chanID})
	for _, b := range n.batches {
		send(map[string]any{"jsonrpc": "2.0", "method": wsChanValue, "params": []any{99, "noise"}})
		if !send(map[string]any{"jsonrpc": "2.0", "method": wsChanValue, "params": []any{chanID, b}}) {
			return
		}
	}
	if n.hold {
		_, _, _ = conn.Read(ctx) // until the client goes away
		return
	}
	send(map[string]any{"jsonrpc": "2.0", "method": wsChanClose, "params": []any{chanID}})
	_, _, _ = conn.Read(ctx)
}

// notifyBatches builds a "current" batch from the documented ChainNotify
// example (whose Type is a placeholder) and an apply batch.
func notifyBatches(t *testing.T) []json.RawMessage {
	ex := loadExamples(t)["ChainNotify"]
	var out []json.RawMessage
	for _, typ := range []string{HCCurrent, HCApply} {
		var batch []map[string]any
		if err := json.Unmarshal(ex.Result, &batch); err != nil || len(batch) != 1 || batch[0]["Type"] != "string value" {
			t.Fatalf("documented ChainNotify example has changed shape: %v", err)
		}
		batch[0]["Type"] = typ
		b, err := json.Marshal(batch)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestChainNotify(t *testing.T) {
	node := &wsNode{t: t, token: testToken, batches: notifyBatches(t)}
	srv := httptest.NewServer(node)
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	ch, err := c.ChainNotify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for batch := range ch {
		if len(batch) != 1 || batch[0].Val == nil || batch[0].Val.Height != 4863283 || len(batch[0].Val.Blocks) != 1 {
			t.Fatalf("bad batch %+v", batch)
		}
		got = append(got, batch[0].Type)
	}
	if strings.Join(got, ",") != HCCurrent+","+HCApply {
		t.Fatalf("got %v, want current then apply", got)
	}
}

func TestChainNotifyErrors(t *testing.T) {
	t.Run("rpc error", func(t *testing.T) {
		srv := httptest.NewServer(&wsNode{t: t, callErr: &RPCError{Code: CodeMethodNotFound, Message: "method not found"}})
		defer srv.Close()
		_, err := newTestClient(t, srv.URL, nil).ChainNotify(context.Background())
		var re *RPCError
		if !errors.As(err, &re) || re.Code != CodeMethodNotFound {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unauthorized", func(t *testing.T) {
		srv := httptest.NewServer(&wsNode{t: t, token: "right.token.x"})
		defer srv.Close()
		_, err := newTestClient(t, srv.URL, nil).ChainNotify(context.Background())
		if !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("bad value ends subscription", func(t *testing.T) {
		srv := httptest.NewServer(&wsNode{t: t, batches: []json.RawMessage{json.RawMessage(`{"not":"a list"}`)}, hold: true})
		defer srv.Close()
		ch, err := newTestClient(t, srv.URL, nil).ChainNotify(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for range ch {
			t.Fatal("undecodable batch delivered")
		}
	})
	t.Run("cancel closes channel", func(t *testing.T) {
		srv := httptest.NewServer(&wsNode{t: t, batches: notifyBatches(t)[:1], hold: true})
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		ch, err := newTestClient(t, srv.URL, nil).ChainNotify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if b := <-ch; len(b) != 1 || b[0].Type != HCCurrent {
			t.Fatalf("first batch %+v", b)
		}
		cancel()
		for range ch {
		}
	})
}

// TestChainNotifyTLS: wss follows the same certificate rules as https.
func TestChainNotifyTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(&wsNode{t: t, batches: notifyBatches(t)})
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected handshake failures
	srv.StartTLS()
	defer srv.Close()
	if _, err := newTestClient(t, srv.URL, nil).ChainNotify(context.Background()); err == nil {
		t.Fatal("self-signed wss endpoint accepted")
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.TLS.CAPEM = caPEM })
	ch, err := c.ChainNotify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range ch {
		n++
	}
	if n != 2 {
		t.Fatalf("got %d batches, want 2", n)
	}
}
