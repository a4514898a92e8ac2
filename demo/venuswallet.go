package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/devnet"
)

// venusWalletTenant is the tenant whose signer is a venus-wallet when
// Config.VenusWallet is set.
const venusWalletTenant = "sp1"

// venusWalletPassword unlocks the demo wallet's keystore (`run --pwd`); a
// demo has nobody to type it. An SP's wallet is unlocked by its operator.
const venusWalletPassword = "sealant-devnet-demo"

// venusWallet is sp1's signer when Config.VenusWallet names a venus-wallet
// binary: an unmodified venus-wallet with its repository under
// DIR/tenants/sp1/venus-wallet, whose keys are created inside it (`new
// secp256k1`, `new bls`) and funded at genesis. Sealant learns the
// addresses from the wallet's output and never reads its keys.
type venusWallet struct {
	bin    string
	repo   string
	owner  address.Address // secp256k1: the miner's owner
	worker address.Address // BLS: the miner's worker, sender of the commits
}

// addressesFile records the wallet's addresses (not its keys) so that a
// demo restarted on the same directory finds them without a second
// genesis.
const addressesFile = "sealant-addresses.json"

// prepareVenusWallet opens (or on the first run creates) the wallet's
// repository and its two keys.
func prepareVenusWallet(ctx context.Context, bin, dir string) (*venusWallet, error) {
	if _, err := exec.LookPath(bin); err != nil {
		return nil, fmt.Errorf("demo: venus-wallet binary: %w", err)
	}
	v := &venusWallet{bin: bin, repo: filepath.Join(dir, "tenants", venusWalletTenant, "venus-wallet")}
	if err := os.MkdirAll(v.repo, 0o700); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	var saved struct{ Owner, Worker string }
	if b, err := os.ReadFile(filepath.Join(v.repo, addressesFile)); err == nil {
		if err := json.Unmarshal(b, &saved); err != nil {
			return nil, fmt.Errorf("demo: %s: %w", addressesFile, err)
		}
		var err1, err2 error
		v.owner, err1 = address.Parse(saved.Owner)
		v.worker, err2 = address.Parse(saved.Worker)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("demo: %s: %w", addressesFile, err)
		}
		return v, nil
	}
	// The CLI talks to a running wallet: start one without a gateway,
	// create the keys, stop it.
	p, err := v.start(ctx, "", "", "")
	if err != nil {
		return nil, err
	}
	defer p.stop()
	if v.owner, err = v.newKey(ctx, "secp256k1"); err != nil {
		return nil, err
	}
	if v.worker, err = v.newKey(ctx, "bls"); err != nil {
		return nil, err
	}
	saved.Owner, saved.Worker = v.owner.String(), v.worker.String()
	b, _ := json.Marshal(saved)
	if err := os.WriteFile(filepath.Join(v.repo, addressesFile), b, 0o600); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return v, nil
}

// fundAtGenesis makes the wallet's addresses sp1's owner and worker
// accounts in g, in place of keys the devnet would generate.
func (v *venusWallet) fundAtGenesis(g *devnet.Genesis) {
	for i, a := range g.Accounts {
		switch a.Name {
		case venusWalletTenant + "-owner":
			g.Accounts[i].Address = v.owner.String()
		case venusWalletTenant + "-worker":
			g.Accounts[i].Address = v.worker.String()
		}
	}
}

// listenAddrRe finds the wallet's own API address in its config.toml.
var listenAddrRe = regexp.MustCompile(`(?m)^\s*ListenAddress\s*=.*$`)

// configure writes the wallet's config.toml: its own API on a free
// loopback port, and its sign filter. The wallet completes the file (JWT
// secret, database) on start.
func (v *venusWallet) configure(filter string) (port string, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("demo: venus-wallet port: %w", err)
	}
	port = fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	listen := fmt.Sprintf(`ListenAddress = "/ip4/127.0.0.1/tcp/%s/http"`, port)
	path := filepath.Join(v.repo, "config.toml")
	conf, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		conf = fmt.Appendf(nil, "[API]\n%s\n\n[DB]\nConn = %q\nType = \"sqlite\"\nDebugMode = false\n",
			listen, filepath.Join(v.repo, "keystore.sqlit"))
	case err != nil:
		return "", fmt.Errorf("demo: %w", err)
	default:
		conf = listenAddrRe.ReplaceAll(conf, []byte(listen))
	}
	// The [SignFilter] table is ours: drop the wallet's copy and append it.
	if i := strings.Index(string(conf), "[SignFilter]"); i >= 0 {
		rest := string(conf[i+len("[SignFilter]"):])
		end := len(rest)
		if j := strings.Index(rest, "\n["); j >= 0 {
			end = j + 1
		}
		conf = append(conf[:i:i], rest[end:]...)
	}
	conf = fmt.Appendf(conf, "\n[SignFilter]\nExpr = %q\n", filter)
	if err := os.WriteFile(path, conf, 0o600); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	return port, nil
}

// signFilter is the demo wallet's [SignFilter] Expr: venus-wallet runs it
// with {"SignType":…,"Data":<message JSON>} on stdin for everything but
// its address proofs, and refuses to sign (with this output) unless it
// exits 0. It allows only the sealing methods Sealant sends for the
// tenant's miner: PreCommitSectorBatch2 (28), ProveCommitSectors3 (34)
// and ProveCommitSectorsNI (36). docs/storage-providers.md explains it.
func signFilter(minerID uint64) string {
	to := fmt.Sprintf(`"To": "t0%d",`, minerID)
	return fmt.Sprintf(`m=$(cat); printf '%%s' "$m" | grep -q '"SignType": "message"' && printf '%%s' "$m" | grep -q '%s' && printf '%%s' "$m" | grep -Eq '"Method": (28|34|36),' || { echo 'sealant sign filter: only PreCommitSectorBatch2, ProveCommitSectors3 and ProveCommitSectorsNI to miner t0%d'; exit 1; }`,
		to, minerID)
}

// process is a running venus-wallet.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// stop kills the wallet and waits for it to exit. Idempotent.
func (p *process) stop() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// start runs `venus-wallet run` (connected to gateway with token unless
// gateway is ""); it returns once the wallet's own API answers.
func (v *venusWallet) start(ctx context.Context, gateway, token, filter string) (*process, error) {
	port, err := v.configure(filter)
	if err != nil {
		return nil, err
	}
	args := []string{"--repo", v.repo, "--nettype", "2k", "run", "--pwd", venusWalletPassword}
	if gateway != "" {
		args = append(args, "--gateway-api", gateway, "--gateway-token", token)
	}
	logf, err := os.OpenFile(filepath.Join(v.repo, "..", "venus-wallet.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	cmd := exec.Command(v.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	err = cmd.Start()
	logf.Close()
	if err != nil {
		return nil, fmt.Errorf("demo: start venus-wallet: %w", err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	deadline := time.Now().Add(time.Minute)
	for {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			return p, nil
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("demo: venus-wallet exited at start (see %s)", filepath.Join(v.repo, "..", "venus-wallet.log"))
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, errors.New("demo: venus-wallet did not open its API within a minute")
		}
	}
}

// newKey creates a key of kind inside the running wallet and returns its
// address (the last line the CLI prints).
func (v *venusWallet) newKey(ctx context.Context, kind string) (address.Address, error) {
	out, err := exec.CommandContext(ctx, v.bin, "--repo", v.repo, "--nettype", "2k", "new", kind).CombinedOutput()
	if err != nil {
		return address.Address{}, fmt.Errorf("demo: venus-wallet new %s: %v: %s", kind, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	a, err := address.Parse(strings.TrimSpace(lines[len(lines)-1]))
	if err != nil {
		return address.Address{}, fmt.Errorf("demo: venus-wallet new %s printed %q: %w", kind, out, err)
	}
	return a, nil
}

// startVenusWallet connects the tenant's venus-wallet to the manager with
// a signer token and waits until the hub holds both its proven keys.
func (c *cluster) startVenusWallet(ctx context.Context, t *tenant) error {
	tok, err := c.svc.IssueToken(ctx, api.TokenRequest{Role: "signer", Tenant: t.Name, Subject: t.Name + "-venus-wallet", Note: "devnet demo venus-wallet"})
	if err != nil {
		return fmt.Errorf("demo: signer token %s: %w", t.Name, err)
	}
	p, err := c.vw.start(ctx, c.gatewayAddr, tok.Token, signFilter(t.MinerID))
	if err != nil {
		return err
	}
	c.closers = append(c.closers, p.stop)
	c.goRun(ctx, t.Name+" venus-wallet", func(ctx context.Context) error {
		select {
		case <-p.exited:
			return fmt.Errorf("exited (see %s)", filepath.Join(t.Dir, "venus-wallet.log"))
		case <-ctx.Done():
			return nil
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		for _, s := range c.asm.Hub.Signers(t.Name) {
			if s.Kind == api.SignerKindVenusWallet && len(s.Addresses) == 2 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("demo: %s's venus-wallet did not connect and prove its keys within a minute (see %s)",
				t.Name, filepath.Join(t.Dir, "venus-wallet.log"))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
