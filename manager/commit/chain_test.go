package commit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
)

// Interface guards: the Lotus client is the production ChainAPI, and the
// lotus-wallet route is a Signer.
var (
	_ ChainAPI = (*lotus.Client)(nil)
	_ Signer   = LotusWallet{}
	_ Signer   = SignerFunc(nil)
	_ ChainAPI = (*fakeChain)(nil)
)

// fakeWallet is a Lotus node's WalletSign over a key it holds.
type fakeWallet struct {
	mu    sync.Mutex
	priv  []byte
	err   error
	calls int
}

func (w *fakeWallet) WalletSign(_ context.Context, a address.Address, data []byte) (*types.Signature, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	if w.err != nil {
		return nil, w.err
	}
	if own, _ := sigs.AddressOf(types.SigTypeSecp256k1, w.priv); own != a {
		return nil, fmt.Errorf("key not found for %s", a)
	}
	sig, err := sigs.Sign(types.SigTypeSecp256k1, w.priv, data)
	return &sig, err
}

func TestLotusWalletSign(t *testing.T) {
	from, _ := sigs.AddressOf(types.SigTypeSecp256k1, testKey)
	msg := newMessage(from, 1000, 28, []byte{0x80}, types.NewInt(5))
	msg.GasLimit, msg.GasFeeCap, msg.GasPremium = 1000, types.NewInt(200), types.NewInt(100)

	sig, err := LotusWallet{W: &fakeWallet{priv: testKey}}.Sign(context.Background(), SignRequest{Tenant: "acme", From: from, Message: msg})
	if err != nil {
		t.Fatal(err)
	}
	if err := verifySigned(&types.SignedMessage{Message: *msg, Signature: sig}); err != nil {
		t.Fatalf("wallet signature does not verify: %v", err)
	}
	// Signatures are deterministic (RFC 6979): a restart re-creates the
	// same signed CID.
	sig2, _ := LotusWallet{W: &fakeWallet{priv: testKey}}.Sign(context.Background(), SignRequest{Tenant: "acme", From: from, Message: msg})
	if string(sig.Data) != string(sig2.Data) {
		t.Fatal("secp256k1 signing is not deterministic")
	}

	if _, err := (LotusWallet{}).Sign(context.Background(), SignRequest{Tenant: "acme", From: from, Message: msg}); !errors.Is(err, ErrSignerUnavailable) {
		t.Fatalf("no node: %v", err)
	}
	down := &fakeWallet{priv: testKey, err: fmt.Errorf("dial: %w", lotus.ErrTransport)}
	if _, err := (LotusWallet{W: down}).Sign(context.Background(), SignRequest{Tenant: "acme", From: from, Message: msg}); !errors.Is(err, ErrSignerUnavailable) {
		t.Fatalf("node down: %v", err)
	}
	other, _ := sigs.AddressOf(types.SigTypeSecp256k1, []byte("0123456789abcdef0123456789abcdef"))
	if _, err := (LotusWallet{W: &fakeWallet{priv: testKey}}).Sign(context.Background(), SignRequest{Tenant: "acme", From: other, Message: msg}); err == nil || errors.Is(err, ErrSignerUnavailable) {
		t.Fatalf("key not in wallet must be a plain error: %v", err)
	}
	// A signature by another key is rejected before it is recorded.
	bad, _ := sigs.Sign(types.SigTypeSecp256k1, []byte("0123456789abcdef0123456789abcdef"), must(msg.SigningBytes()))
	if err := verifySigned(&types.SignedMessage{Message: *msg, Signature: bad}); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("foreign signature: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
