package commit

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/devnet"
	"github.com/sealant/sealant/store"
)

// devnetHarness is what the devnet tests share: an in-process devnet with
// miner sp1 whose blocks the test steps, the real Lotus client on it, a
// signer holding sp1's worker key that records the methods it signs, and
// an SQLite store with a fake clock. Everything is closed by t.Cleanup.
type devnetHarness struct {
	node   *devnet.Node
	api    *lotus.Client
	maddr  address.Address
	mid    uint64
	worker address.Address
	signer SignerFunc
	st     *store.Store
	clock  *fakeClock
	log    *slog.Logger

	mu      sync.Mutex
	methods []types.MethodNum
}

func newDevnetHarness(ctx context.Context, t *testing.T) *devnetHarness {
	t.Helper()
	dir := t.TempDir()
	if err := devnet.Init(ctx, dir, devnet.DefaultGenesis(1)); err != nil {
		t.Fatal(err)
	}
	node, err := devnet.New(devnet.Config{Dir: dir, Listen: "127.0.0.1:0", Ticks: make(chan time.Time),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	h := &devnetHarness{node: node, clock: &fakeClock{t: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}}
	// APIInfo carries the node's admin token (MpoolPush needs write).
	if h.api, err = lotus.New(lotus.Config{APIInfo: node.APIInfo(), Retry: lotus.RetryPolicy{Attempts: 1}}); err != nil {
		t.Fatal(err)
	}
	if h.maddr, err = address.Parse(node.Miners()["sp1"]); err != nil {
		t.Fatal(err)
	}
	h.mid, _ = address.IDOf(h.maddr)
	ki, err := devnet.LoadOwnerKey(dir, "sp1-worker")
	if err != nil {
		t.Fatal(err)
	}
	kind, _ := ki.SigType()
	h.worker, _ = ki.Address()
	h.signer = SignerFunc(func(_ context.Context, req SignRequest) (types.Signature, error) {
		msg := req.Message
		h.mu.Lock()
		h.methods = append(h.methods, msg.Method)
		h.mu.Unlock()
		b, err := msg.SigningBytes()
		if err != nil {
			return types.Signature{}, err
		}
		return sigs.Sign(kind, ki.PrivateKey, b)
	})
	if h.st, err = store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "m.sqlite")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.st.Close() })
	h.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		h.log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	return h
}

// step produces n blocks.
func (h *devnetHarness) step(ctx context.Context, t *testing.T, n int) {
	t.Helper()
	for range n {
		if err := h.node.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// signed returns the methods signed so far.
func (h *devnetHarness) signed() []types.MethodNum {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]types.MethodNum(nil), h.methods...)
}
