package delivery

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/porep"
	"github.com/sealant/sealant/rpc"
)

const testMiner = 1000

// One real 2KiB sector per test process, sealed on first use.
var (
	sealOnce sync.Once
	sealDir  string
	sealRec  *porep.Record
	sealErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sealDir != "" {
		os.RemoveAll(sealDir)
	}
	os.Exit(code)
}

func sealed(t testing.TB) (string, *porep.Record) {
	t.Helper()
	sealOnce.Do(func() {
		sealDir, sealErr = os.MkdirTemp("", "delivery-seal-")
		if sealErr != nil {
			return
		}
		ticket, _ := hex.DecodeString("c3a1ca12b981a8a59f9a4764edf3398edd239b2afa8ca2bbd57e0091ec193aa0")
		sealRec, sealErr = porep.Seal(context.Background(), porep.SealRequest{
			Proof: abi.StackedDrg2KiBV1_1, Miner: testMiner, Sector: 1, Ticket: [32]byte(ticket),
			Dir: filepath.Join(sealDir, "sector"), ParentCacheDir: filepath.Join(sealDir, "parents"), Workers: 1,
		})
	})
	if sealErr != nil {
		t.Fatalf("seal: %v", sealErr)
	}
	return filepath.Join(sealDir, "sector"), sealRec
}

// sectorCopy copies the sealed sector's deliverable files to a fresh
// directory, so a test can damage them.
func sectorCopy(t testing.TB) (sealedPath, cacheDir string) {
	t.Helper()
	src, _ := sealed(t)
	dir := t.TempDir()
	cacheDir = filepath.Join(dir, "cache")
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cp := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cp(porep.SealedPath(src), filepath.Join(dir, "sealed"))
	for _, n := range []string{"p_aux", "t_aux", "sc-02-data-tree-r-last.dat"} {
		cp(filepath.Join(porep.CachePath(src), n), filepath.Join(cacheDir, n))
	}
	return filepath.Join(dir, "sealed"), cacheDir
}

// testSector is a deliverable sector: files on disk and its metadata.
type testSector struct {
	id    api.SectorID
	files []api.LocalFile
	md    api.SectorMetadata
}

func newTestSector(t testing.TB, number uint64) *testSector {
	t.Helper()
	_, rec := sealed(t)
	sp, cd := sectorCopy(t)
	id := api.SectorID{Miner: testMiner, Number: number}
	files, err := DescribeFiles(context.Background(), id, rec.Proof, sp, cd)
	if err != nil {
		t.Fatal(err)
	}
	md := api.SectorMetadata{
		ID: id, ProofType: int64(rec.Proof), CommR: commp.SealedCID(rec.CommR).String(), CommD: commp.PieceCID(rec.CommD).String(),
		CommC: api.Hex32(rec.CommC), CommRLast: api.Hex32(rec.CommRLast),
		Ticket: api.Ticket{Ticket: api.Hex32(rec.Ticket), Epoch: 10}, Seed: api.Seed{Epoch: 30},
		PreCommitMessage: "bafy2bzaceprecommit", ProveCommitMessage: "bafy2bzaceprove", Expiration: 600000,
		Files: SectorFiles(files),
	}
	return &testSector{id: id, files: files, md: md}
}

func (s *testSector) path(t testing.TB, suffix string) string {
	t.Helper()
	for _, f := range s.files {
		if filepath.Base(f.Name) == suffix || (suffix == "sealed" && f.Name == SealedName(s.id)) {
			return f.Path
		}
	}
	t.Fatalf("no file %s", suffix)
	return ""
}

// rehash recomputes the metadata's checksums from the files (a provider
// that describes whatever it has).
func (s *testSector) rehash(t testing.TB) {
	t.Helper()
	_, rec := sealed(t)
	files, err := DescribeFiles(context.Background(), s.id, rec.Proof, s.path(t, "sealed"), filepath.Dir(s.path(t, "p_aux")))
	if err != nil {
		t.Fatal(err)
	}
	s.files, s.md.Files = files, SectorFiles(files)
}

// fakeChain knows sealed CIDs of proven sectors.
type fakeChain struct {
	mu     sync.Mutex
	sealed map[uint64]lotus.SectorOnChainInfo
}

func newFakeChain() *fakeChain { return &fakeChain{sealed: map[uint64]lotus.SectorOnChainInfo{}} }

func (c *fakeChain) prove(n uint64, commR [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sealed[n] = lotus.SectorOnChainInfo{SectorNumber: n, SealProof: int64(abi.StackedDrg2KiBV1_1), SealedCID: miner.SealedCID(commR)}
}

func (c *fakeChain) StateSectorGetInfo(_ context.Context, maddr address.Address, n uint64, _ types.TipSetKey) (*lotus.SectorOnChainInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, _ := address.IDOf(maddr); id != testMiner {
		return nil, nil
	}
	if si, ok := c.sealed[n]; ok {
		return &si, nil
	}
	return nil, nil
}

func (c *fakeChain) StateSectorPreCommitInfo(context.Context, address.Address, uint64, types.TipSetKey) (*lotus.SectorPreCommitOnChainInfo, error) {
	return nil, nil
}

var testSecret = []byte("0123456789abcdef0123456789abcdef-receiver")

func providerToken(t testing.TB, name string) string {
	t.Helper()
	tok, err := IssueProviderToken(testSecret, name, 0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type env struct {
	r     *Receiver
	srv   *httptest.Server
	chain *fakeChain
	root  string
	store string
	tok   string
}

func newEnv(t testing.TB, mod func(*ReceiverConfig)) *env {
	t.Helper()
	e := &env{chain: newFakeChain(), root: t.TempDir(), store: t.TempDir()}
	cfg := ReceiverConfig{Root: e.root, Store: e.store, Secret: testSecret, Miners: []uint64{testMiner}, Chain: e.chain}
	if mod != nil {
		mod(&cfg)
	}
	r, err := NewReceiver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.r = r
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	e.srv = httptest.NewServer(r.Handler())
	t.Cleanup(func() { e.srv.Close(); cancel(); <-done })
	e.tok = providerToken(t, "acme")
	return e
}

func (e *env) target() api.DeliveryTarget {
	return api.DeliveryTarget{Architecture: api.ArchSPProves, ReceiverURL: e.srv.URL, Token: e.tok}
}

func (e *env) endpoint() Endpoint { return Endpoint{URL: e.srv.URL, Token: e.tok} }

func testClient() *Client {
	return &Client{RetryDelay: time.Millisecond, PollInterval: 5 * time.Millisecond, MaxRetries: 20}
}

// onChain proves s on the fake chain with the real CommR.
func (e *env) onChain(t testing.TB, s *testSector) {
	t.Helper()
	_, rec := sealed(t)
	e.chain.prove(s.id.Number, rec.CommR)
}

// deliver pushes metadata (chain knows the CommR) and transfers.
func (e *env) deliver(t testing.TB, s *testSector, c *Client) error {
	t.Helper()
	_, rec := sealed(t)
	e.chain.prove(s.id.Number, rec.CommR)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.PushMetadata(ctx, e.endpoint(), s.md); err != nil {
		return fmt.Errorf("push: %w", err)
	}
	return c.Transfer(ctx, e.target(), s.id, s.files)
}

func readAll(t testing.TB, p string) []byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var _ = rpc.RoleProvider

func decodeSegment(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(s)
}

func sectorID(m, n uint64) api.SectorID { return api.SectorID{Miner: m, Number: n} }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func dirOf(p string) string { return filepath.Dir(p) }
