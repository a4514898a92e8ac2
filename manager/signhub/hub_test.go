package signhub

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/manager/commit"
	"github.com/sealant/sealant/rpc"
)

// CommitSigner is the commit pipeline's signer over the hub.
var _ commit.Signer = CommitSigner{}

var testSecret = []byte("signhub-test-secret-0123456789abcdef")

type env struct {
	hub *Hub
	srv *rpc.Server
	url string
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	srv, err := rpc.NewServer(rpc.ServerConfig{Secret: testSecret, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	h := New(cfg)
	h.RegisterRPC(srv)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); ts.Close(); h.Close() })
	return &env{hub: h, srv: srv, url: "ws" + strings.TrimPrefix(ts.URL, "http")}
}

func token(t *testing.T, role rpc.Role, tenant string) string {
	t.Helper()
	tok, err := rpc.IssueToken(testSecret, rpc.Claims{Allow: rpc.AllowList(rpc.PermSign), Role: role, Tenant: tenant})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type key struct {
	kind types.SigType
	priv []byte
	addr address.Address
}

func newKey(t *testing.T, kind types.SigType, seed byte) key {
	t.Helper()
	priv, err := sigs.GenerateKey(kind, bytes.NewReader(bytes.Repeat([]byte{seed}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := sigs.AddressOf(kind, priv)
	if err != nil {
		t.Fatal(err)
	}
	return key{kind, priv, a}
}

// fakeSigner is a minimal protocol peer: it proves with its keys (or
// misbehaves as told) and answers Sign with sign.
type fakeSigner struct {
	keys     []key
	announce []string // default: the keys' addresses
	// rawProof signs the raw challenge instead of AddressProofBytes.
	rawProof bool
	sign     func(req api.SignRequest) (api.SignResponse, error)
	calls    atomic.Int32
}

func (f *fakeSigner) properSign(req api.SignRequest) (api.SignResponse, error) {
	m, err := types.DecodeMessage(req.Message)
	if err != nil {
		return api.SignResponse{}, err
	}
	for _, k := range f.keys {
		if k.addr == m.From {
			s, err := sigs.Sign(k.kind, k.priv, m.Cid().Bytes())
			return api.SignResponse{Signature: api.SignatureJSON{Type: int(s.Type), Data: s.Data}}, err
		}
	}
	return api.SignResponse{}, rpc.Errorf(api.CodeSignRefused, "no key for %s", m.From)
}

func (f *fakeSigner) dial(t *testing.T, e *env, tok string) (*rpc.Client, api.SignerWelcome, error) {
	t.Helper()
	ctx := context.Background()
	c, err := rpc.Dial(ctx, e.url, rpc.WithToken(tok), rpc.WithLogger(slog.New(slog.DiscardHandler)),
		rpc.WithHandler(api.MethodSignerProve, rpc.Func1(func(_ context.Context, ch api.HexBytes) ([]api.AddressProof, error) {
			var out []api.AddressProof
			for _, k := range f.keys {
				msg := api.AddressProofBytes(ch, k.addr.Bytes())
				if f.rawProof {
					msg = ch
				}
				s, err := sigs.Sign(k.kind, k.priv, msg)
				if err != nil {
					return nil, err
				}
				out = append(out, api.AddressProof{Address: k.addr.String(), Signature: api.SignatureJSON{Type: int(s.Type), Data: s.Data}})
			}
			return out, nil
		})),
		rpc.WithHandler(api.MethodSignerSign, rpc.Func1(func(_ context.Context, req api.SignRequest) (api.SignResponse, error) {
			f.calls.Add(1)
			if f.sign != nil {
				return f.sign(req)
			}
			return f.properSign(req)
		})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ann := f.announce
	if ann == nil {
		for _, k := range f.keys {
			ann = append(ann, k.addr.String())
		}
	}
	var w api.SignerWelcome
	err = c.Call(ctx, api.MethodSignerHello, &w, api.SignerHello{Name: "fake", Version: "test", Addresses: ann})
	return c, w, err
}

func testMsg(from address.Address, nonce uint64) *types.Message {
	return &types.Message{To: address.NewIDAddress(1000), From: from, Nonce: nonce, Value: types.Zero(),
		GasLimit: 1000, GasFeeCap: types.NewInt(100), GasPremium: types.NewInt(1), Method: 28}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestHelloProofs(t *testing.T) {
	e := newEnv(t, Config{WaitTimeout: 10 * time.Millisecond,
		Tenant: func(_ context.Context, tenant string) (uint64, error) {
			if tenant != "acme" {
				return 0, rpc.Errorf(api.CodeNotFound, "no such tenant %q", tenant)
			}
			return 1234, nil
		}})
	good, other := newKey(t, types.SigTypeSecp256k1, 1), newKey(t, types.SigTypeBLS, 2)
	stranger := newKey(t, types.SigTypeSecp256k1, 3)

	tests := []struct {
		name     string
		f        *fakeSigner
		tok      string
		wantErr  string
		proven   int
		unproven int
	}{
		{name: "all proven", f: &fakeSigner{keys: []key{good, other}}, tok: token(t, rpc.RoleSigner, "acme"), proven: 2},
		{name: "announces a key it lacks", f: &fakeSigner{keys: []key{good},
			announce: []string{good.addr.String(), stranger.addr.String()}}, tok: token(t, rpc.RoleSigner, "acme"), proven: 1, unproven: 1},
		{name: "raw challenge signature", f: &fakeSigner{keys: []key{good}, rawProof: true}, tok: token(t, rpc.RoleSigner, "acme"), wantErr: "proved none"},
		{name: "tenant role", f: &fakeSigner{keys: []key{good}}, tok: token(t, rpc.RoleTenant, "acme"), wantErr: "permission denied"},
		{name: "unknown tenant", f: &fakeSigner{keys: []key{good}}, tok: token(t, rpc.RoleSigner, "nope"), wantErr: "no such tenant"},
		{name: "id address", f: &fakeSigner{keys: []key{good}, announce: []string{"t01000"}}, tok: token(t, rpc.RoleSigner, "acme"), wantErr: "not an f1/f3"},
		{name: "nothing announced", f: &fakeSigner{keys: []key{good}, announce: []string{}}, tok: token(t, rpc.RoleSigner, "acme"), wantErr: "announces no address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, w, err := tc.f.dial(t, e, tc.tok)
			defer func() {
				c.Close()
				eventually(t, "detach", func() bool { return !e.hub.Connected("acme") })
			}()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("hello err = %v, want %q", err, tc.wantErr)
				}
				if e.hub.Connected("acme") {
					t.Fatal("a rejected signer is registered")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.Tenant != "acme" || w.Miner != 1234 {
				t.Fatalf("welcome %+v", w)
			}
			s := e.hub.Signers("acme")
			if len(s) != 1 || len(s[0].Addresses) != tc.proven || len(s[0].Unproven) != tc.unproven {
				t.Fatalf("signers %+v", s)
			}
			if tc.unproven > 0 {
				// Never routed to for an address it did not prove.
				_, err := e.hub.Sign(context.Background(), "acme", stranger.addr, testMsg(stranger.addr, 0))
				if !errors.Is(err, ErrNoSigner) || tc.f.calls.Load() != 0 {
					t.Fatalf("sign for unproven address: %v (calls %d)", err, tc.f.calls.Load())
				}
			}
		})
	}
}

func TestSignRoutesAndVerifies(t *testing.T) {
	e := newEnv(t, Config{})
	k1, k2 := newKey(t, types.SigTypeSecp256k1, 1), newKey(t, types.SigTypeBLS, 2)
	f1, f2 := &fakeSigner{keys: []key{k1}}, &fakeSigner{keys: []key{k2}}
	for _, f := range []*fakeSigner{f1, f2} {
		if _, _, err := f.dial(t, e, token(t, rpc.RoleSigner, "acme")); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.hub.Signers("acme")); n != 2 {
		t.Fatalf("%d signers", n)
	}
	for i, k := range []key{k1, k2, k1} {
		msg := testMsg(k.addr, uint64(i))
		sig, err := e.hub.Sign(context.Background(), "acme", k.addr, msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := sigs.VerifyMessage(&types.SignedMessage{Message: *msg, Signature: sig}); err != nil {
			t.Fatal(err)
		}
	}
	if f1.calls.Load() != 2 || f2.calls.Load() != 1 {
		t.Fatalf("calls %d/%d, want 2/1", f1.calls.Load(), f2.calls.Load())
	}
	// Another tenant's requests never reach these signers.
	e.hub.cfg.WaitTimeout = 5 * time.Millisecond
	if _, err := e.hub.Sign(context.Background(), "other", k1.addr, testMsg(k1.addr, 9)); !errors.Is(err, ErrNoSigner) {
		t.Fatalf("other tenant: %v", err)
	}
	s := e.hub.Signers("acme")
	if s[0].Signed+s[1].Signed != 3 {
		t.Fatalf("signed counters %+v", s)
	}
}

func TestSignFailures(t *testing.T) {
	k := newKey(t, types.SigTypeSecp256k1, 1)
	tests := []struct {
		name string
		sign func(req api.SignRequest) (api.SignResponse, error)
		want error
		text string
	}{
		{"refused", func(api.SignRequest) (api.SignResponse, error) {
			return api.SignResponse{}, rpc.Errorf(api.CodeSignRefused, "value 3 FIL exceeds per-message cap 2 FIL")
		}, ErrRefused, "exceeds per-message cap"},
		{"signature over other bytes", func(req api.SignRequest) (api.SignResponse, error) {
			s, _ := sigs.Sign(k.kind, k.priv, []byte("something else"))
			return api.SignResponse{Signature: api.SignatureJSON{Type: int(s.Type), Data: s.Data}}, nil
		}, ErrBadSignature, ""},
		{"garbage signature", func(api.SignRequest) (api.SignResponse, error) {
			return api.SignResponse{Signature: api.SignatureJSON{Type: 1, Data: []byte{1, 2, 3}}}, nil
		}, ErrBadSignature, ""},
		{"signer error", func(api.SignRequest) (api.SignResponse, error) {
			return api.SignResponse{}, rpc.Errorf(7, "disk full")
		}, ErrSignerFailed, "disk full"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			f := &fakeSigner{keys: []key{k}, sign: tc.sign}
			if _, _, err := f.dial(t, e, token(t, rpc.RoleSigner, "acme")); err != nil {
				t.Fatal(err)
			}
			_, err := e.hub.Sign(context.Background(), "acme", k.addr, testMsg(k.addr, 0))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.want, tc.text)
			}
			if f.calls.Load() != 1 {
				t.Fatalf("%d calls: failures other than a lost connection are not retried", f.calls.Load())
			}
		})
	}
}

func TestSignInvalid(t *testing.T) {
	h := New(Config{Logger: slog.New(slog.DiscardHandler)})
	k := newKey(t, types.SigTypeSecp256k1, 1)
	other := newKey(t, types.SigTypeBLS, 2)
	for name, c := range map[string]struct {
		from address.Address
		msg  *types.Message
	}{
		"nil message":   {k.addr, nil},
		"id address":    {address.NewIDAddress(5), testMsg(address.NewIDAddress(5), 0)},
		"from mismatch": {other.addr, testMsg(k.addr, 0)},
		"undefined":     {address.Undef, testMsg(k.addr, 0)},
	} {
		if _, err := h.Sign(context.Background(), "acme", c.from, c.msg); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestWaitingThenServed: a request made while no signer is connected shows
// as waiting, and is served once a signer connects.
func TestWaitingThenServed(t *testing.T) {
	e := newEnv(t, Config{WaitTimeout: time.Minute})
	k := newKey(t, types.SigTypeSecp256k1, 1)
	type result struct {
		sig types.Signature
		err error
	}
	done := make(chan result, 1)
	ctx := context.Background()
	go func() {
		s, err := e.hub.SignRequest(ctx, Request{Tenant: "acme", From: k.addr, Message: testMsg(k.addr, 0), Purpose: "provecommit", Sectors: []uint64{7, 8}})
		done <- result{s, err}
	}()
	eventually(t, "waiting", func() bool { return e.hub.Waiting("acme") })
	p := e.hub.Pending("acme")
	if len(p) != 1 || !p[0].WaitingForSigner || p[0].Purpose != "provecommit" || len(p[0].Sectors) != 2 || p[0].From != k.addr.String() {
		t.Fatalf("pending %+v", p)
	}
	var got api.SignRequest
	f := &fakeSigner{keys: []key{k}}
	f.sign = func(req api.SignRequest) (api.SignResponse, error) { got = req; return f.properSign(req) }
	if _, _, err := f.dial(t, e, token(t, rpc.RoleSigner, "acme")); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got.Purpose != "provecommit" || len(got.Sectors) != 2 || got.Tenant != "acme" || got.Cid != testMsg(k.addr, 0).Cid().String() {
		t.Fatalf("request %+v", got)
	}
	if e.hub.Waiting("acme") || len(e.hub.Pending("acme")) != 0 {
		t.Fatal("request still pending")
	}
}

// TestNoSignerIsUnavailable: the pipeline keys its "waiting for signer"
// state on commit.ErrSignerUnavailable.
func TestNoSignerIsUnavailable(t *testing.T) {
	e := newEnv(t, Config{WaitTimeout: time.Millisecond})
	k := newKey(t, types.SigTypeSecp256k1, 1)
	_, err := e.hub.Sign(context.Background(), "acme", k.addr, testMsg(k.addr, 0))
	if !errors.Is(err, ErrNoSigner) || !errors.Is(err, commit.ErrSignerUnavailable) {
		t.Fatalf("err = %v", err)
	}
	// A refusal is not "unavailable": the batch shows the reason instead.
	ref := &RefusedError{Signer: "s", Reason: "r"}
	if errors.Is(ref, commit.ErrSignerUnavailable) || !errors.Is(ref, ErrRefused) {
		t.Fatal("RefusedError matches the wrong sentinels")
	}
}

func TestCloseFailsWaiting(t *testing.T) {
	e := newEnv(t, Config{WaitTimeout: time.Minute})
	k := newKey(t, types.SigTypeSecp256k1, 1)
	done := make(chan error, 1)
	go func() {
		_, err := e.hub.Sign(context.Background(), "acme", k.addr, testMsg(k.addr, 0))
		done <- err
	}()
	eventually(t, "waiting", func() bool { return e.hub.Waiting("acme") })
	e.hub.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v", err)
	}
	if _, err := e.hub.Sign(context.Background(), "acme", k.addr, testMsg(k.addr, 0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

func TestContextCancelWhileWaiting(t *testing.T) {
	e := newEnv(t, Config{WaitTimeout: time.Minute})
	k := newKey(t, types.SigTypeSecp256k1, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.hub.Sign(ctx, "acme", k.addr, testMsg(k.addr, 0))
		done <- err
	}()
	eventually(t, "waiting", func() bool { return e.hub.Waiting("acme") })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func BenchmarkSignRoundTrip(b *testing.B) {
	srv, _ := rpc.NewServer(rpc.ServerConfig{Secret: testSecret, Logger: slog.New(slog.DiscardHandler)})
	h := New(Config{Logger: slog.New(slog.DiscardHandler)})
	h.Register(srv)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	priv, _ := sigs.GenerateKey(types.SigTypeSecp256k1, bytes.NewReader(bytes.Repeat([]byte{9}, 64)))
	addr, _ := sigs.AddressOf(types.SigTypeSecp256k1, priv)
	k := key{types.SigTypeSecp256k1, priv, addr}
	f := &fakeSigner{keys: []key{k}}
	tok, _ := rpc.IssueToken(testSecret, rpc.Claims{Allow: rpc.AllowList(rpc.PermSign), Role: rpc.RoleSigner, Tenant: "acme"})
	ctx := context.Background()
	c, err := rpc.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http"), rpc.WithToken(tok),
		rpc.WithHandler(api.MethodSignerProve, rpc.Func1(func(_ context.Context, ch api.HexBytes) ([]api.AddressProof, error) {
			s, err := sigs.Sign(k.kind, k.priv, api.AddressProofBytes(ch, k.addr.Bytes()))
			return []api.AddressProof{{Address: k.addr.String(), Signature: api.SignatureJSON{Type: int(s.Type), Data: s.Data}}}, err
		})),
		rpc.WithHandler(api.MethodSignerSign, rpc.Func1(func(_ context.Context, req api.SignRequest) (api.SignResponse, error) {
			return f.properSign(req)
		})))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Call(ctx, api.MethodSignerHello, nil, api.SignerHello{Name: "bench", Addresses: []string{addr.String()}}); err != nil {
		b.Fatal(err)
	}
	msg := testMsg(addr, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Sign(ctx, "acme", addr, msg); err != nil {
			b.Fatal(err)
		}
	}
}
