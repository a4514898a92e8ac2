package walletgw

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/manager/signhub"
	"github.com/sealant/sealant/rpc"
)

var testSecret = []byte("walletgw-test-secret-0123456789abcdef")

// seeded is a deterministic io.Reader (SHA-256 in counter mode over a
// seed): a gateway reading it draws the same channel ids, event ids and
// proof randomness in every run, so a recorded wallet session's
// signatures verify again when the session is replayed.
type seeded struct {
	mu   sync.Mutex
	seed []byte
	ctr  uint64
	buf  []byte
}

func newSeeded(seed string) *seeded { return &seeded{seed: []byte(seed)} }

func (s *seeded) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for n < len(p) {
		if len(s.buf) == 0 {
			var c [8]byte
			binary.BigEndian.PutUint64(c[:], s.ctr)
			s.ctr++
			h := sha256.Sum256(append(append([]byte{}, s.seed...), c[:]...))
			s.buf = h[:]
		}
		k := copy(p[n:], s.buf)
		s.buf = s.buf[k:]
		n += k
	}
	return n, nil
}

// env is a hub and a gateway served over httptest.
type env struct {
	hub *signhub.Hub
	gw  *Gateway
	srv *rpc.Server
	ts  *httptest.Server
	url string // ws://…/rpc/v1
}

type envOpts struct {
	seed        string // "" = crypto/rand
	waitTimeout time.Duration
	gw          Config // limits; Hub, Rand and Logger are set here
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("SEALANT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	log := testLogger(t)
	if o.waitTimeout == 0 {
		o.waitTimeout = 5 * time.Second
	}
	hub := signhub.New(signhub.Config{Logger: log, WaitTimeout: o.waitTimeout, CallTimeout: 30 * time.Second,
		Tenant: func(_ context.Context, tenant string) (uint64, error) {
			if strings.HasPrefix(tenant, "unknown") {
				return 0, rpc.Errorf(api.CodeNotFound, "no tenant %s", tenant)
			}
			return 1000, nil
		}})
	cfg := o.gw
	cfg.Hub, cfg.Logger = hub, log
	if o.seed != "" {
		cfg.Rand = newSeeded(o.seed)
	}
	gw, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := gw.NewServer(rpc.ServerConfig{Secret: testSecret, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(Handler(srv))
	t.Cleanup(func() { gw.Close(); srv.Close(); ts.Close(); hub.Close() })
	return &env{hub: hub, gw: gw, srv: srv, ts: ts, url: "ws" + strings.TrimPrefix(ts.URL, "http") + Path}
}

func signerToken(t *testing.T, tenant string) string {
	t.Helper()
	tok, err := rpc.IssueToken(testSecret, rpc.Claims{Allow: rpc.AllowList(rpc.PermSign), Role: rpc.RoleSigner,
		Tenant: tenant, RegisteredClaims: jwt.RegisteredClaims{Subject: tenant + "-wallet"}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// waitSigners waits until tenant has a venus-wallet signer holding
// exactly n proven addresses, and returns the hub's view.
func waitSigners(t *testing.T, h *signhub.Hub, tenant string, n int, within time.Duration) []signhub.SignerInfo {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ss := h.Signers(tenant)
		for _, s := range ss {
			if s.Kind == api.SignerKindVenusWallet && len(s.Addresses) == n {
				return ss
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("tenant %s: no venus-wallet signer with %d addresses within %s; signers: %+v", tenant, n, within, ss)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testMessage is a chain message from from to miner f01000 calling
// method with small opaque params.
func testMessage(t *testing.T, from address.Address, method uint64, nonce uint64) *types.Message {
	t.Helper()
	return &types.Message{To: address.NewIDAddress(1000), From: from, Nonce: nonce, Value: types.NewInt(0),
		GasLimit: 1_000_000, GasFeeCap: types.NewInt(100_000), GasPremium: types.NewInt(1_000),
		Method: types.MethodNum(method), Params: []byte{0x81, 0x01}}
}
