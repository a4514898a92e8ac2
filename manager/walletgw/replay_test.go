package walletgw

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/manager/signhub"
)

// loadRecording reads testdata/venus-wallet-session.jsonl.
func loadRecording(t *testing.T) (recordingHeader, []recordedFrame) {
	t.Helper()
	data, err := os.ReadFile(sessionFile)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	var h recordingHeader
	var frames []recordedFrame
	for i := 0; sc.Scan(); i++ {
		if i == 0 {
			if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
				t.Fatalf("%s header: %v", sessionFile, err)
			}
			continue
		}
		var f recordedFrame
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("%s line %d: %v", sessionFile, i+1, err)
		}
		frames = append(frames, f)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return h, frames
}

// wsWallet is a raw WebSocket client standing in for the wallet: it
// sends recorded (or altered) messages verbatim and collects what the
// gateway sends.
type wsWallet struct {
	c      *websocket.Conn
	mu     sync.Mutex
	pool   [][]byte      // received, not yet matched
	all    [][]byte      // everything received
	wake   chan struct{} // signalled on receive and close
	closed error
}

func dialWallet(t *testing.T, e *env, token string, hdr http.Header) (*wsWallet, error) {
	t.Helper()
	if hdr == nil {
		hdr = http.Header{}
	}
	if token != "" {
		hdr.Set("Authorization", "Bearer "+token)
	}
	if hdr.Get(NamespaceHeader) == "" {
		hdr.Set(NamespaceHeader, Namespace)
	}
	c, _, err := websocket.Dial(context.Background(), e.url, &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	w := &wsWallet{c: c, wake: make(chan struct{}, 1)}
	go w.read()
	t.Cleanup(func() { c.CloseNow() })
	return w, nil
}

func (w *wsWallet) read() {
	for {
		_, msg, err := w.c.Read(context.Background())
		w.mu.Lock()
		if err != nil {
			w.closed = err
		} else {
			w.pool = append(w.pool, msg)
			w.all = append(w.all, msg)
		}
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

func (w *wsWallet) send(msg []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return w.c.Write(ctx, websocket.MessageText, msg)
}

// expect waits until a message JSON-equal to want has arrived and takes
// it from the pool.
func (w *wsWallet) expect(want []byte, within time.Duration) error {
	var wv any
	if err := json.Unmarshal(want, &wv); err != nil {
		return err
	}
	deadline := time.After(within)
	for {
		w.mu.Lock()
		for i, m := range w.pool {
			var mv any
			if json.Unmarshal(m, &mv) == nil && reflect.DeepEqual(mv, wv) {
				w.pool = append(w.pool[:i], w.pool[i+1:]...)
				w.mu.Unlock()
				return nil
			}
		}
		closed := w.closed
		pool := append([][]byte(nil), w.pool...)
		w.mu.Unlock()
		if closed != nil {
			return fmt.Errorf("connection closed (%v) before %s arrived; unmatched: %s", closed, want, pool)
		}
		select {
		case <-w.wake:
		case <-deadline:
			return fmt.Errorf("%s did not arrive within %s; unmatched: %s", want, within, pool)
		}
	}
}

// waitClosed waits until the gateway has closed the connection.
func (w *wsWallet) waitClosed(within time.Duration) error {
	deadline := time.After(within)
	for {
		w.mu.Lock()
		closed := w.closed
		w.mu.Unlock()
		if closed != nil {
			return nil
		}
		select {
		case <-w.wake:
		case <-deadline:
			return fmt.Errorf("the gateway did not disconnect the wallet within %s", within)
		}
	}
}

// sawChainSign reports whether the gateway sent this wallet a chain
// message to sign.
func (w *wsWallet) sawChainSign() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.all {
		if isChainSignEvent(m) {
			return true
		}
	}
	return false
}

// signCall is one hub.Sign the replay started.
type signCall struct {
	from address.Address
	msg  *types.Message
	done chan struct{}
	sig  types.Signature
	err  error
}

// replayer drives a gateway through a recorded session.
type replayer struct {
	t      *testing.T
	e      *env
	h      recordingHeader
	frames []recordedFrame
	token  string
	signs  map[string]*signCall // by message CID
	conns  map[int]*wsWallet
	// alter, if set, may replace a wallet message before it is sent;
	// last is the latest event the gateway sent on that connection.
	alter func(i int, f recordedFrame, last RequestEvent) []byte
	last  map[int]RequestEvent // per connection
}

func newReplayer(t *testing.T, waitTimeout time.Duration) *replayer {
	h, frames := loadRecording(t)
	e := newEnv(t, envOpts{seed: h.Seed, waitTimeout: waitTimeout})
	return &replayer{t: t, e: e, h: h, frames: frames, token: signerToken(t, h.Tenant),
		signs: map[string]*signCall{}, conns: map[int]*wsWallet{}, last: map[int]RequestEvent{}}
}

// chainSign decodes a WalletSign event for a chain message.
func chainSign(ev RequestEvent) (*types.Message, bool) {
	if ev.Method != EventWalletSign {
		return nil, false
	}
	var req WalletSignRequest
	if json.Unmarshal(ev.Payload, &req) != nil || req.Meta.Type != MetaChainMessage {
		return nil, false
	}
	m, err := types.DecodeMessage(req.Meta.Extra)
	return m, err == nil
}

// startSign starts hub.Sign for m unless it is already running.
func (r *replayer) startSign(m *types.Message) *signCall {
	c := m.Cid().String()
	if sc := r.signs[c]; sc != nil {
		return sc
	}
	sc := &signCall{from: m.From, msg: m, done: make(chan struct{})}
	r.signs[c] = sc
	go func() {
		defer close(sc.done)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sc.sig, sc.err = r.e.hub.Sign(ctx, r.h.Tenant, m.From, m)
	}()
	return sc
}

// play replays frames [from, to): wallet messages are sent (through
// alter), gateway messages are awaited; a chain WalletSign the gateway is
// expected to send is first requested from the hub, as the commit
// pipeline would; a cut message closes the connection once received.
func (r *replayer) play(from, to int) error {
	last := r.last
	for i := from; i < to; i++ {
		f := r.frames[i]
		w := r.conns[f.Conn]
		if w == nil {
			var err error
			if w, err = dialWallet(r.t, r.e, r.token, nil); err != nil {
				return fmt.Errorf("frame %d: dial: %w", i, err)
			}
			r.conns[f.Conn] = w
		}
		switch f.From {
		case "wallet":
			msg := []byte(f.Frame)
			if r.alter != nil {
				if m := r.alter(i, f, last[f.Conn]); m != nil {
					msg = m
				}
			}
			if err := w.send(msg); err != nil {
				return fmt.Errorf("frame %d: send: %w", i, err)
			}
		case "gateway":
			if ev, ok := channelEvent(f.Frame); ok {
				if m, ok := chainSign(ev); ok {
					r.startSign(m)
				}
				last[f.Conn] = ev
			}
			if err := w.expect(f.Frame, 10*time.Second); err != nil {
				return fmt.Errorf("frame %d (conn %d): %w", i, f.Conn, err)
			}
			if f.Cut {
				w.c.CloseNow()
			}
		}
	}
	return nil
}

// index returns the position of the n-th (0-based) recorded frame for
// which match holds.
func (r *replayer) index(n int, match func(recordedFrame) bool) int {
	r.t.Helper()
	for i, f := range r.frames {
		if match(f) {
			if n == 0 {
				return i
			}
			n--
		}
	}
	r.t.Fatalf("the recording has no such frame")
	return -1
}

// cut reports whether the recording cut the connection on the chain
// message with CID c.
func (r *replayer) cut(c string) bool {
	for _, f := range r.frames {
		if ev, ok := channelEvent(f.Frame); ok && f.Cut {
			if m, ok := chainSign(ev); ok && m.Cid().String() == c {
				return true
			}
		}
	}
	return false
}

// recordedOutcome is what the recording says the wallet answered last
// for the chain message with CID c.
func (r *replayer) recordedOutcome(c string) (ResponseEvent, bool) {
	events := map[string]string{} // event id → CID
	var out ResponseEvent
	found := false
	for _, f := range r.frames {
		if ev, ok := channelEvent(f.Frame); ok {
			if m, ok := chainSign(ev); ok {
				events[ev.ID.String()] = m.Cid().String()
			}
			continue
		}
		var req struct {
			Method string          `json:"method"`
			Params []ResponseEvent `json:"params"`
		}
		if f.From == "wallet" && json.Unmarshal(f.Frame, &req) == nil && req.Method == MethodResponseWalletEvent && len(req.Params) == 1 {
			if events[req.Params[0].ID.String()] == c {
				out, found = req.Params[0], true
			}
		}
	}
	return out, found
}

// TestReplayVenusWalletSession replays the real venus-wallet's recorded
// session (testdata/venus-wallet-session.jsonl, see testdata/README.md)
// against the gateway: every message the gateway sends must equal the
// recorded one (same seed, same ids, same proofs), every recorded proof
// must verify, the hub must return the recorded signatures and the
// recorded sign-filter refusal, and the message whose connection was cut
// must be signed once, on the second connection.
func TestReplayVenusWalletSession(t *testing.T) {
	r := newReplayer(t, 30*time.Second)
	if err := r.play(0, len(r.frames)); err != nil {
		t.Fatal(err)
	}
	if len(r.conns) != 2 {
		t.Fatalf("recording has %d connections, want 2 (one reconnect)", len(r.conns))
	}
	if len(r.signs) != 3 {
		t.Fatalf("recording asks for %d chain signatures, want 3", len(r.signs))
	}
	for c, sc := range r.signs {
		<-sc.done
		want, ok := r.recordedOutcome(c)
		if !ok {
			t.Fatalf("no recorded answer for %s", c)
		}
		if want.Error != "" {
			var ref *signhub.RefusedError
			if !errors.As(sc.err, &ref) || ref.Reason != "venus-wallet: "+want.Error {
				t.Errorf("message %s (method %d): got %v, want the wallet's refusal %q", c, sc.msg.Method, sc.err, want.Error)
			}
			continue
		}
		if sc.err != nil {
			t.Errorf("message %s (method %d): %v", c, sc.msg.Method, sc.err)
			continue
		}
		got, _ := json.Marshal(map[string]any{"Type": sc.sig.Type, "Data": sc.sig.Data})
		var gv, wv any
		_ = json.Unmarshal(got, &gv)
		_ = json.Unmarshal(want.Payload, &wv)
		if !reflect.DeepEqual(gv, wv) {
			t.Errorf("message %s: signature %s, recorded %s", c, got, want.Payload)
		}
	}
	ss := r.e.hub.Signers(r.h.Tenant)
	if len(ss) != 1 || len(ss[0].Addresses) != 2 || ss[0].Signed != 1 || ss[0].Kind != "venus-wallet" {
		t.Fatalf("signers after the replay: %+v, want the reconnected venus-wallet with 2 addresses and 1 signature", ss)
	}
	for n, w := range r.conns {
		w.mu.Lock()
		left := w.pool
		w.mu.Unlock()
		if len(left) > 0 {
			t.Errorf("connection %d: the gateway sent messages the real session did not have: %s", n, left)
		}
	}
}
