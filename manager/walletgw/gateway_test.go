package walletgw_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/manager/signhub"
	"github.com/sealant/sealant/manager/walletgw"
	"github.com/sealant/sealant/manager/walletgw/walletgwtest"
	"github.com/sealant/sealant/rpc"
)

var secret = []byte("walletgw-unit-secret-0123456789abcdef")

type harness struct {
	hub *signhub.Hub
	url string // ws://…/rpc/v1
}

func newHarness(t testing.TB, wait time.Duration) *harness {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	hub := signhub.New(signhub.Config{Logger: log, WaitTimeout: wait,
		Tenant: func(_ context.Context, tenant string) (uint64, error) {
			if tenant == "gone" {
				return 0, errors.New("tenant gone does not exist")
			}
			return 1000, nil
		}})
	h, closeGW, err := walletgw.Mount(http.NotFoundHandler(), walletgw.Config{Hub: hub, Logger: log},
		rpc.ServerConfig{Secret: secret, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(func() { closeGW(); ts.Close(); hub.Close() })
	return &harness{hub: hub, url: "ws" + strings.TrimPrefix(ts.URL, "http") + walletgw.Path}
}

func token(t testing.TB, role rpc.Role, tenant string) string {
	t.Helper()
	tok, err := rpc.IssueToken(secret, rpc.Claims{Allow: rpc.AllowList(rpc.PermSign), Role: role, Tenant: tenant,
		RegisteredClaims: jwt.RegisteredClaims{Subject: tenant + "-wallet"}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func key(t *testing.T, typ types.SigType, seed byte) walletgwtest.Key {
	t.Helper()
	k, err := walletgwtest.NewKey(typ, seed)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func msg(from address.Address, method, nonce uint64) *types.Message {
	return &types.Message{To: address.NewIDAddress(1000), From: from, Nonce: nonce, Value: types.NewInt(0),
		GasLimit: 1_000_000, GasFeeCap: types.NewInt(100_000), GasPremium: types.NewInt(1_000), Method: types.MethodNum(method)}
}

func connect(t *testing.T, h *harness, tenant string, keys ...walletgwtest.Key) *walletgwtest.Wallet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := walletgwtest.Connect(ctx, h.url, token(t, rpc.RoleSigner, tenant), keys...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

func sign(t *testing.T, h *harness, tenant string, m *types.Message) (types.Signature, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return h.hub.Sign(ctx, tenant, m.From, m)
}

// TestRouting: a wallet signs its own tenant's messages from the keys it
// proved, never another tenant's (even for a key it holds), and its
// sign-filter refusal reaches the hub as a refusal with its text.
func TestRouting(t *testing.T) {
	h := newHarness(t, 300*time.Millisecond)
	bls, secp := key(t, types.SigTypeBLS, 1), key(t, types.SigTypeSecp256k1, 2)
	w := connect(t, h, "sp1", bls, secp)
	w.Refuse = func(m *types.Message) string {
		if m.Method == 16 {
			return "run customer sign check fail (no WithdrawBalance)"
		}
		return ""
	}
	m := msg(bls.Addr, 28, 0)
	sig, err := sign(t, h, "sp1", m)
	if err != nil {
		t.Fatal(err)
	}
	if err := sigs.Verify(sig, bls.Addr, m.Cid().Bytes()); err != nil {
		t.Fatal(err)
	}
	_, err = sign(t, h, "sp1", msg(secp.Addr, 16, 0))
	var ref *signhub.RefusedError
	if !errors.As(err, &ref) || ref.Reason != "venus-wallet: run customer sign check fail (no WithdrawBalance)" {
		t.Fatalf("refusal: %v", err)
	}
	// Tenant isolation: sp2 has no signer; sp1's wallet is not asked.
	asked := w.Asked()
	if _, err := sign(t, h, "sp2", msg(bls.Addr, 28, 1)); !errors.Is(err, signhub.ErrNoSigner) {
		t.Fatalf("sp2 through sp1's wallet: %v, want ErrNoSigner", err)
	}
	if w.Asked() != asked {
		t.Fatal("sp1's wallet was asked to sign sp2's message")
	}
	// A key the wallet never listed is not routed to it.
	other := key(t, types.SigTypeBLS, 3)
	if _, err := sign(t, h, "sp1", msg(other.Addr, 28, 0)); !errors.Is(err, signhub.ErrNoSigner) {
		t.Fatalf("unlisted key: %v, want ErrNoSigner", err)
	}
	ss := h.hub.Signers("sp1")
	if len(ss) != 1 || ss[0].Kind != api.SignerKindVenusWallet || ss[0].Name != "sp1-wallet" || ss[0].Signed != 1 || ss[0].Refused != 1 || len(ss[0].Addresses) != 2 {
		t.Fatalf("signers: %+v", ss)
	}
}

// TestAddAndRemoveAddress: a key added while connected is proven before it
// is used; a removed one is no longer routed to the wallet.
func TestAddAndRemoveAddress(t *testing.T) {
	h := newHarness(t, 300*time.Millisecond)
	w := connect(t, h, "sp1") // no keys yet, as a fresh venus-wallet
	k := key(t, types.SigTypeBLS, 4)
	if _, err := sign(t, h, "sp1", msg(k.Addr, 28, 0)); !errors.Is(err, signhub.ErrNoSigner) {
		t.Fatalf("before AddNewAddress: %v", err)
	}
	ctx := context.Background()
	if err := w.AddKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if _, err := sign(t, h, "sp1", msg(k.Addr, 28, 0)); err != nil {
		t.Fatalf("after AddNewAddress: %v", err)
	}
	if err := w.RemoveKey(ctx, k.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := sign(t, h, "sp1", msg(k.Addr, 28, 1)); !errors.Is(err, signhub.ErrNoSigner) {
		t.Fatalf("after RemoveAddress: %v", err)
	}
	// Announcing a key the wallet does not hold fails the proof and
	// disconnects the wallet.
	stranger := key(t, types.SigTypeSecp256k1, 5)
	err := w.Call(ctx, walletgw.MethodAddNewAddress, nil, w.Channel(), []string{stranger.Addr.String()})
	if err == nil {
		t.Fatal("an unprovable address was accepted")
	}
	select {
	case <-w.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the wallet was not disconnected")
	}
}

// TestReconnectSignsOnce: a request whose wallet disconnects before
// answering is sent again when the wallet is back, and Sign returns one
// signature.
func TestReconnectSignsOnce(t *testing.T) {
	h := newHarness(t, 10*time.Second)
	k := key(t, types.SigTypeBLS, 6)
	w := connect(t, h, "sp1", k)
	w.Refuse = func(*types.Message) string {
		w.Close() // the wallet goes away holding the request
		return "unreachable"
	}
	m := msg(k.Addr, 34, 0)
	res := make(chan error, 1)
	var sig types.Signature
	go func() {
		var err error
		sig, err = sign(t, h, "sp1", m)
		res <- err
	}()
	<-w.Done()
	w2 := connect(t, h, "sp1", k)
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if err := sigs.Verify(sig, k.Addr, m.Cid().Bytes()); err != nil {
		t.Fatal(err)
	}
	if w2.Signed() != 1 {
		t.Fatalf("reconnected wallet signed %d messages, want 1", w2.Signed())
	}
}

// TestRefusedConnections: wrong role, unknown tenant, another namespace,
// SupportNewAccount, bad SignBytes, a second channel on one connection,
// and the event channel over plain HTTP are refused with a reason.
func TestRefusedConnections(t *testing.T) {
	h := newHarness(t, time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k := key(t, types.SigTypeBLS, 7)
	if _, err := walletgwtest.Connect(ctx, h.url, token(t, rpc.RoleTenant, "sp1"), k); err == nil || !strings.Contains(err.Error(), "permission") {
		t.Errorf("tenant-role token: %v", err)
	}
	if _, err := walletgwtest.Connect(ctx, h.url, token(t, rpc.RoleSigner, "gone"), k); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Errorf("unknown tenant: %v", err)
	}
	hdr := http.Header{}
	hdr.Set(walletgw.NamespaceHeader, "market.IMarketEvent")
	if _, err := rpc.Dial(ctx, h.url, rpc.WithToken(token(t, rpc.RoleSigner, "sp1")), rpc.WithHeader(hdr)); err == nil {
		t.Error("another venus API namespace was served")
	}
	w := connect(t, h, "sp1", k)
	if err := w.Call(ctx, walletgw.MethodSupportNewAccount, nil, w.Channel(), "sp2"); err == nil || !strings.Contains(err.Error(), "no gateway accounts") {
		t.Errorf("SupportNewAccount: %v", err)
	}
	if err := w.Call(ctx, walletgw.MethodListenWalletEvent, nil, walletgw.RegisterPolicy{SignBytes: []byte{1}}); err == nil || !strings.Contains(err.Error(), "already has an open") {
		t.Errorf("second channel: %v", err)
	}
	if err := w.Call(ctx, walletgw.MethodAddNewAddress, nil, "00000000-0000-4000-8000-000000000000", []string{k.Addr.String()}); err == nil || !strings.Contains(err.Error(), "not this connection's") {
		t.Errorf("foreign channel id: %v", err)
	}
	hc, err := rpc.Dial(ctx, "http"+strings.TrimPrefix(h.url, "ws"), rpc.WithToken(token(t, rpc.RoleSigner, "sp1")))
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	if err := hc.Call(ctx, walletgw.MethodListenWalletEvent, nil, walletgw.RegisterPolicy{SignBytes: []byte{1}}); err == nil {
		t.Error("the event channel was opened over HTTP")
	}
	c, err := rpc.Dial(ctx, h.url, rpc.WithToken(token(t, rpc.RoleSigner, "sp1")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, sb := range [][]byte{nil, make([]byte, walletgw.MaxSignBytes+1)} {
		if _, err := c.Subscribe(ctx, walletgw.MethodListenWalletEvent, walletgw.RegisterPolicy{SignBytes: sb}); err == nil {
			t.Errorf("SignBytes of %d bytes accepted", len(sb))
		}
	}
}

func TestMultiaddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:1234":   "/ip4/127.0.0.1/tcp/1234",
		"[::1]:45132":      "/ip6/::1/tcp/45132",
		"sealant.lan:8080": "/dns/sealant.lan/tcp/8080",
	} {
		if got := walletgw.Multiaddr(in); got != want {
			t.Errorf("Multiaddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkSignThroughGateway measures one chain-message signature
// through the hub, the gateway and a connected wallet stand-in over a
// loopback WebSocket (event out, answer back, both signature checks),
// with a secp256k1 key.
func BenchmarkSignThroughGateway(b *testing.B) {
	h := newHarness(b, time.Second)
	k, err := walletgwtest.NewKey(types.SigTypeSecp256k1, 9)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	w, err := walletgwtest.Connect(ctx, h.url, token(b, rpc.RoleSigner, "sp1"), k)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m := msg(k.Addr, 28, uint64(i))
		if _, err := h.hub.Sign(ctx, "sp1", k.Addr, m); err != nil {
			b.Fatal(err)
		}
	}
}
