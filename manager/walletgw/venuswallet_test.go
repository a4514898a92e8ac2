package walletgw

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/internal/testenv"
	"github.com/sealant/sealant/manager/signhub"
)

// VenusWalletEnv names a venus-wallet binary for the tests that run the
// real program (built from github.com/filecoin-project/venus-wallet, see
// testdata/README.md).
const VenusWalletEnv = "SEALANT_VENUS_WALLET"

// recordEnv, set to 1, makes TestVenusWalletSession rewrite
// testdata/venus-wallet-session.jsonl from the real wallet's session.
const recordEnv = "SEALANT_VENUS_WALLET_RECORD"

const sessionFile = "testdata/venus-wallet-session.jsonl"

// recordSeed seeds the gateway's randomness in the recorded session (and
// its replay).
const recordSeed = "sealant walletgw recorded session v1"

// signFilterExpr is the venus-wallet [SignFilter] Expr of the recorded
// session: the wallet runs it with the message JSON on stdin and refuses
// to sign when it exits non-zero. It refuses WithdrawBalance (method 16).
const signFilterExpr = `if grep -q '"Method": 16,'; then echo 'sign filter: WithdrawBalance is not allowed'; exit 1; fi`

// venusWallet runs the real binary with its own repository.
type venusWallet struct {
	t    *testing.T
	bin  string
	repo string
	api  string // its own API listen port
	cmd  *exec.Cmd
	log  *bytes.Buffer
	mu   sync.Mutex
}

func venusWalletBin(t *testing.T) string {
	bin := os.Getenv(VenusWalletEnv)
	if bin == "" {
		testenv.Skip(t, "manager/walletgw: venus-wallet interop skipped: set "+VenusWalletEnv+" to a venus-wallet binary (built from github.com/filecoin-project/venus-wallet; see manager/walletgw/testdata/README.md)")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s=%s: %v", VenusWalletEnv, bin, err)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func newVenusWallet(t *testing.T, bin, filter string) *venusWallet {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "venus-wallet")
	if err := os.MkdirAll(repo, 0o700); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	conf := fmt.Sprintf("[API]\nListenAddress = \"/ip4/127.0.0.1/tcp/%d/http\"\n\n[DB]\nConn = %q\nType = \"sqlite\"\nDebugMode = false\n\n[SignFilter]\nExpr = %q\n",
		port, filepath.Join(repo, "keystore.sqlit"), filter)
	if err := os.WriteFile(filepath.Join(repo, "config.toml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return &venusWallet{t: t, bin: bin, repo: repo, api: fmt.Sprint(port), log: &bytes.Buffer{}}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// start runs `venus-wallet run` connected to gateway (a multiaddr).
func (w *venusWallet) start(gateway, token string) {
	w.t.Helper()
	args := []string{"--repo", w.repo, "--nettype", "2k", "run", "--pwd", "sealant-test"}
	if gateway != "" {
		args = append(args, "--gateway-api", gateway, "--gateway-token", token)
	}
	w.cmd = exec.Command(w.bin, args...)
	out := lockedWriter{&w.mu, w.log}
	w.cmd.Stdout, w.cmd.Stderr = out, out
	if err := w.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(w.stop)
	// Ready when its own API answers.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.Dial("tcp", "127.0.0.1:"+w.api); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("venus-wallet did not start:\n%s", w.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *venusWallet) stop() {
	if w.cmd != nil && w.cmd.Process != nil {
		_ = w.cmd.Process.Kill()
		_ = w.cmd.Wait()
		w.cmd = nil
	}
}

func (w *venusWallet) output() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.log.String()
}

// cli runs a venus-wallet subcommand against the running wallet.
func (w *venusWallet) cli(args ...string) string {
	w.t.Helper()
	out, err := exec.Command(w.bin, append([]string{"--repo", w.repo, "--nettype", "2k"}, args...)...).CombinedOutput()
	if err != nil {
		w.t.Fatalf("venus-wallet %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// newKey creates a key inside the wallet and returns its address.
func (w *venusWallet) newKey(kind string) address.Address {
	w.t.Helper()
	out := w.cli("new", kind)
	lines := strings.Split(out, "\n")
	a, err := address.Parse(strings.TrimSpace(lines[len(lines)-1]))
	if err != nil {
		w.t.Fatalf("venus-wallet new %s printed %q: %v", kind, out, err)
	}
	return a
}

// recordedFrame is one line of the recording: a WebSocket message on
// connection Conn, sent by the wallet or by the gateway; Cut marks a
// gateway message the proxy did not forward but answered by cutting the
// connection (a wallet that drops mid-request).
type recordedFrame struct {
	Conn  int             `json:"conn"`
	From  string          `json:"from"` // "wallet" or "gateway"
	Cut   bool            `json:"cut,omitempty"`
	Frame json.RawMessage `json:"frame"`
}

// recordingHeader is the recording's first line.
type recordingHeader struct {
	Recorded     string   `json:"recorded"`
	VenusWallet  string   `json:"venus_wallet"`
	Seed         string   `json:"seed"`
	Tenant       string   `json:"tenant"`
	SignBytesHex string   `json:"-"`
	Notes        []string `json:"notes"`
}

// proxy sits between the wallet and the gateway, records every message
// and can cut a connection when the gateway sends a chosen message.
type proxy struct {
	target string // ws URL of the gateway

	mu     sync.Mutex
	conns  int
	frames []recordedFrame
	cut    func(frame []byte) bool // checked on gateway messages
}

func (p *proxy) setCut(f func([]byte) bool) {
	p.mu.Lock()
	p.cut = f
	p.mu.Unlock()
}

func (p *proxy) record(conn int, from string, cut bool, msg []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frames = append(p.frames, recordedFrame{Conn: conn, From: from, Cut: cut, Frame: append(json.RawMessage{}, msg...)})
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := http.Header{}
	for _, k := range []string{"Authorization", NamespaceHeader} {
		if v := r.Header.Get(k); v != "" {
			hdr.Set(k, v)
		}
	}
	gc, _, err := websocket.Dial(r.Context(), p.target, &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	wc, err := websocket.Accept(w, r, nil)
	if err != nil {
		gc.CloseNow()
		return
	}
	gc.SetReadLimit(1 << 20)
	wc.SetReadLimit(1 << 20)
	p.mu.Lock()
	p.conns++
	n := p.conns
	p.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			wc.CloseNow()
			gc.CloseNow()
			cancel()
		})
	}
	go func() {
		defer closeBoth()
		for {
			typ, msg, err := wc.Read(ctx)
			if err != nil {
				return
			}
			p.record(n, "wallet", false, msg)
			if gc.Write(ctx, typ, msg) != nil {
				return
			}
		}
	}()
	defer closeBoth()
	for {
		typ, msg, err := gc.Read(ctx)
		if err != nil {
			return
		}
		p.mu.Lock()
		cut := p.cut != nil && p.cut(msg)
		if cut {
			p.cut = nil
		}
		p.mu.Unlock()
		p.record(n, "gateway", cut, msg)
		if cut {
			return
		}
		if wc.Write(ctx, typ, msg) != nil {
			return
		}
	}
}

// isChainSignEvent reports whether msg is an xrpc.ch.val carrying a
// WalletSign event for a chain message.
func isChainSignEvent(msg []byte) bool {
	ev, ok := channelEvent(msg)
	if !ok || ev.Method != EventWalletSign {
		return false
	}
	var req WalletSignRequest
	return json.Unmarshal(ev.Payload, &req) == nil && req.Meta.Type == MetaChainMessage
}

// channelEvent decodes the RequestEvent of an xrpc.ch.val message.
func channelEvent(msg []byte) (RequestEvent, bool) {
	var f struct {
		Method string            `json:"method"`
		Params []json.RawMessage `json:"params"`
	}
	if json.Unmarshal(msg, &f) != nil || f.Method != "xrpc.ch.val" || len(f.Params) != 2 {
		return RequestEvent{}, false
	}
	var ev RequestEvent
	if json.Unmarshal(f.Params[1], &ev) != nil {
		return RequestEvent{}, false
	}
	return ev, true
}

// TestVenusWalletSession runs the real venus-wallet against the gateway:
// it connects with a tenant's signer token (no keys yet), creates a BLS
// and a secp256k1 key inside the wallet (each announced by AddNewAddress
// and proven by the gateway), signs a PreCommitSectorBatch2 message, is
// refused a WithdrawBalance by its sign filter (the refusal reaches the
// hub with the filter's text), and loses its connection while a message
// is being signed: it reconnects, proves its keys again and signs the
// same request, which the hub returns once. With SEALANT_VENUS_WALLET_RECORD=1
// the messages are written to testdata/venus-wallet-session.jsonl, which
// TestReplayVenusWalletSession replays without the binary.
func TestVenusWalletSession(t *testing.T) {
	bin := venusWalletBin(t)
	e := newEnv(t, envOpts{seed: recordSeed, waitTimeout: 60 * time.Second})
	p := &proxy{target: e.url}
	pts := httptest.NewServer(p)
	defer pts.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(pts.URL, "http://"))

	const tenant = "sp1"
	w := newVenusWallet(t, bin, signFilterExpr)
	w.start("/ip4/127.0.0.1/tcp/"+port, signerToken(t, tenant))
	defer func() {
		if t.Failed() {
			t.Logf("venus-wallet output:\n%s", w.output())
		}
	}()
	waitSigners(t, e.hub, tenant, 0, 30*time.Second)

	worker := w.newKey("bls")
	waitSigners(t, e.hub, tenant, 1, 30*time.Second)
	owner := w.newKey("secp256k1")
	ss := waitSigners(t, e.hub, tenant, 2, 30*time.Second)
	if ss[0].Kind != "venus-wallet" || ss[0].Name != tenant+"-wallet" {
		t.Fatalf("signer %+v: want kind venus-wallet named by the token subject", ss[0])
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// 1. A PreCommitSectorBatch2 from the worker key is signed.
	m1 := testMessage(t, worker, 28, 0)
	sig, err := e.hub.Sign(ctx, tenant, worker, m1)
	if err != nil {
		t.Fatalf("sign PreCommitSectorBatch2: %v", err)
	}
	if err := sigs.Verify(sig, worker, m1.Cid().Bytes()); err != nil {
		t.Fatal(err)
	}

	// 2. WithdrawBalance: the wallet's sign filter refuses, with its text.
	m2 := testMessage(t, owner, 16, 0)
	_, err = e.hub.Sign(ctx, tenant, owner, m2)
	var ref *signhub.RefusedError
	if !errors.As(err, &ref) || !strings.Contains(ref.Reason, "WithdrawBalance is not allowed") {
		t.Fatalf("WithdrawBalance: got %v, want the sign filter's refusal", err)
	}
	t.Logf("refusal as the manager sees it: %v", err)

	// 3. The connection drops while the wallet holds a ProveCommitSectors3:
	// the wallet reconnects and the same request is signed, once.
	p.setCut(isChainSignEvent)
	m3 := testMessage(t, worker, 34, 1)
	sig3, err := e.hub.Sign(ctx, tenant, worker, m3)
	if err != nil {
		t.Fatalf("sign across a reconnect: %v", err)
	}
	if err := sigs.Verify(sig3, worker, m3.Cid().Bytes()); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	conns := p.conns
	p.mu.Unlock()
	if conns != 2 {
		t.Fatalf("wallet connected %d times, want 2 (one reconnect)", conns)
	}
	if got := waitSigners(t, e.hub, tenant, 2, 10*time.Second); got[0].Signed != 1 {
		t.Fatalf("reconnected wallet: %+v, want one signature on its new connection", got[0])
	}

	if os.Getenv(recordEnv) == "1" {
		writeRecording(t, bin, tenant, p)
	}
}

// writeRecording saves the session for TestReplayVenusWalletSession.
func writeRecording(t *testing.T, bin, tenant string, p *proxy) {
	t.Helper()
	version, _ := exec.Command(bin, "--version").CombinedOutput()
	h := recordingHeader{
		Recorded:    time.Now().UTC().Format(time.RFC3339),
		VenusWallet: strings.TrimSpace(string(version)),
		Seed:        recordSeed,
		Tenant:      tenant,
		Notes: []string{
			"recorded by TestVenusWalletSession (SEALANT_VENUS_WALLET_RECORD=1) through a recording proxy",
			"frame = one WebSocket text message; from = its sender; cut = not forwarded, the proxy closed the connection instead",
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(h); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	for _, f := range p.frames {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	p.mu.Unlock()
	if err := os.WriteFile(sessionFile, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d frames, sha256 of seed input %s)", sessionFile, len(p.frames), hex.EncodeToString([]byte(recordSeed))[:8])
}
