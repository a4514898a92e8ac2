package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/delivery"
	"github.com/sealant/sealant/devnet"
	"github.com/sealant/sealant/manager"
	"github.com/sealant/sealant/manager/walletgw"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/signer"
	"github.com/sealant/sealant/store"
	"github.com/sealant/sealant/worker"
)

// cluster is the running set of components. Every field is set by start
// and torn down by close in reverse order.
type cluster struct {
	cfg Config
	log *slog.Logger

	node  *devnet.Node
	chain *lotus.Client

	asm        *manager.Assembly
	svc        *manager.Service
	managerURL string
	storePath  string // Architecture 1: the provider's long-term store

	// gatewayAddr is the manager's venus-gateway wallet API as
	// venus-wallet's --gateway-api takes it; vw is sp1's venus-wallet
	// (Config.VenusWallet), nil when sp1 runs `sealant signer`.
	gatewayAddr string
	vw          *venusWallet

	tenants []*tenant

	wg      sync.WaitGroup
	errMu   sync.Mutex
	errs    []error
	closers []func()
}

// tenant is one SP of the demo.
type tenant struct {
	Name         string
	Miner        address.Address
	MinerID      uint64
	Architecture api.Architecture
	Dir          string
	Worker       address.Address // the miner's worker key (BLS): sender of PreCommits and ProveCommits
	Owner        address.Address // the miner's owner key (secp256k1): sender of WindowPoSts

	receiver  *delivery.Receiver // Architecture 2
	storePath string             // where its delivered sectors end up
	ni        bool               // seals with NI-PoRep (CC only)
	signer    string             // api.SignerKindSealant or api.SignerKindVenusWallet
}

// porep is the tenant's PoRep kind as the summary spells it.
func (t *tenant) porep() string {
	if t.ni {
		return "ni"
	}
	return "interactive"
}

// fail records a component's unexpected exit; Run reports the first.
func (c *cluster) fail(err error) {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	c.errs = append(c.errs, err)
}

func (c *cluster) firstErr() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	if len(c.errs) == 0 {
		return nil
	}
	return c.errs[0]
}

// goRun runs f until ctx ends; an error other than the context's is a
// component failure.
func (c *cluster) goRun(ctx context.Context, name string, f func(context.Context) error) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := f(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, http.ErrServerClosed) {
			c.fail(fmt.Errorf("%s: %w", name, err))
		}
	}()
}

func (c *cluster) close() {
	for i := len(c.closers) - 1; i >= 0; i-- {
		c.closers[i]()
	}
}

// Genesis is the demo chain: three miners (sp1, sp2, sp3), the given block time,
// a 10-epoch challenge delay and deadlines of wpostWindow epochs (a short
// proving period, so that the Architecture 1 tenant's sectors reach their
// WindowPoSt deadline within a demo; ≤ 0 keeps the default 20).
func Genesis(blockTime time.Duration, wpostWindow int64) *devnet.Genesis {
	g := devnet.DefaultGenesis(demoTenants)
	g.BlockTime = devnet.Duration{Duration: blockTime}
	g.Policy.PreCommitChallengeDelay = 10
	if wpostWindow > 0 {
		g.Policy.WPoStChallengeWindow = wpostWindow
		g.Policy.WPoStChallengeLookback = min(g.Policy.WPoStChallengeLookback, wpostWindow/2)
		g.Policy.FaultDeclarationCutoff = min(g.Policy.FaultDeclarationCutoff, wpostWindow-1)
	}
	return g
}

// startChain initialises (first run) and starts the devnet.
func (c *cluster) startChain(ctx context.Context) error {
	dir := filepath.Join(c.cfg.Dir, "chain")
	if _, err := os.Stat(filepath.Join(dir, devnet.GenesisFileName)); errors.Is(err, os.ErrNotExist) {
		g := Genesis(c.cfg.BlockTime, c.cfg.WPoStChallengeWindow)
		if c.vw != nil {
			c.vw.fundAtGenesis(g)
		}
		if err := devnet.Init(ctx, dir, g); err != nil {
			return fmt.Errorf("demo: devnet init: %w", err)
		}
	}
	n, err := devnet.New(devnet.Config{Dir: dir, Listen: "127.0.0.1:0", BlockTime: c.cfg.BlockTime, Logger: c.log.With("component", "devnet")})
	if err != nil {
		return fmt.Errorf("demo: devnet: %w", err)
	}
	if err := n.Start(ctx); err != nil {
		n.Close()
		return fmt.Errorf("demo: devnet start: %w", err)
	}
	c.node = n
	c.closers = append(c.closers, func() { n.Close() })
	lc, err := lotus.New(lotus.Config{APIInfo: n.APIInfo(), Logger: c.log.With("component", "lotus-client")})
	if err != nil {
		return fmt.Errorf("demo: chain client: %w", err)
	}
	c.chain = lc
	return nil
}

// startManager runs the manager service with its signer hub, commitment
// pipeline and WindowPoSt service, serving /rpc/v0 on a loopback port.
func (c *cluster) startManager(ctx context.Context) error {
	dataDir := filepath.Join(c.cfg.Dir, "manager")
	c.storePath = filepath.Join(c.cfg.Dir, "provider-store")
	for _, d := range []string{dataDir, c.storePath} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	mcfg, err := ManagerConfig(dataDir, c.storePath, c.cfg.BlockTime)
	if err != nil {
		return err
	}
	// The same composition root as `sealant manager run`; it also writes
	// the operator's bootstrap token (DIR/manager/admin.token, mode 0600)
	// for `sealant admin …`, the dashboard and --keep-running users.
	asm, err := manager.Assemble(ctx, manager.AssembleOptions{Config: mcfg, Chain: c.chain, Logger: c.log.With("component", "manager")})
	if err != nil {
		return fmt.Errorf("demo: manager: %w", err)
	}
	c.asm, c.svc = asm, asm.Service
	c.closers = append(c.closers, asm.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: manager listen: %w", err)
	}
	hs := &http.Server{Handler: asm.Handler, ReadHeaderTimeout: 10 * time.Second}
	c.managerURL = "http://" + ln.Addr().String() + manager.RPCPath
	c.gatewayAddr = walletgw.Multiaddr(ln.Addr().String())
	c.goRun(ctx, "manager http", func(context.Context) error { return hs.Serve(ln) })
	c.closers = append(c.closers, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		asm.RPC.Close()
		hs.Shutdown(sctx)
	})
	return nil
}

// ManagerConfig is the demo manager's configuration, as an operator would
// write it for `sealant manager run` on the devnet: the defaults with the
// devnet's timing, SQLite in dataDir and the provider's store at
// storePath; provisioned and validated.
func ManagerConfig(dataDir, storePath string, blockTime time.Duration) (manager.Config, error) {
	mcfg := manager.DefaultConfig()
	mcfg.DataDir = dataDir
	mcfg.Chain.Network = "devnet"
	mcfg.Chain.Devnet = true
	mcfg.Chain.BlockTime = manager.Duration(blockTime)
	mcfg.Chain.PreCommitChallengeDelay = 10
	mcfg.Delivery.StorePath = storePath
	if err := mcfg.Provision(""); err != nil {
		return manager.Config{}, fmt.Errorf("demo: manager config: %w", err)
	}
	if err := mcfg.Validate(); err != nil {
		return manager.Config{}, fmt.Errorf("demo: manager config: %w", err)
	}
	return mcfg, nil
}

// startManagerRun runs the manager's commitment pipeline and WindowPoSt
// once the tenants exist (WindowPoSt reads its tenants from the store).
func (c *cluster) startManagerRun(ctx context.Context) {
	c.goRun(ctx, "manager", c.asm.Run)
}

// addTenant creates tenant i (sp1, sp2, …): its directory, its signer
// (keys imported from the devnet's owner key files), for Architecture 2 its
// receiver, and its record in the manager.
func (c *cluster) addTenant(ctx context.Context, i int, arch api.Architecture, ni bool) (*tenant, error) {
	name := fmt.Sprintf("sp%d", i)
	maddrStr, ok := c.node.Miners()[name]
	if !ok {
		return nil, fmt.Errorf("demo: devnet has no miner %s", name)
	}
	maddr, err := address.Parse(maddrStr)
	if err != nil {
		return nil, fmt.Errorf("demo: miner %s: %w", name, err)
	}
	mid, err := address.IDOf(maddr)
	if err != nil {
		return nil, fmt.Errorf("demo: miner %s: %w", name, err)
	}
	t := &tenant{Name: name, Miner: maddr, MinerID: mid, Architecture: arch, Dir: filepath.Join(c.cfg.Dir, "tenants", name), ni: ni}
	if err := os.MkdirAll(t.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}

	// Architecture 2: the SP's receiver, with a provider token for us.
	target := ""
	t.storePath = c.storePath
	if arch == api.ArchSPProves {
		url, err := c.startReceiver(ctx, t)
		if err != nil {
			return nil, err
		}
		target = url
	}

	// The miner's worker address, from the devnet's key files (the keys
	// themselves go to the tenant's signer below), or from its
	// venus-wallet, whose keys stay inside it.
	var keys []ownerKey
	if c.vw != nil && name == venusWalletTenant {
		if _, err := devnet.LoadOwnerKey(filepath.Join(c.cfg.Dir, "chain"), name+"-worker"); err == nil {
			return nil, fmt.Errorf("demo: %s was created without a venus-wallet (its genesis has devnet keys for %s); use a new directory", c.cfg.Dir, name)
		}
		t.Owner, t.Worker, t.signer = c.vw.owner, c.vw.worker, api.SignerKindVenusWallet
	} else {
		keys, err = readOwnerKeys(filepath.Join(c.cfg.Dir, "chain"), t.Name)
		if err != nil {
			return nil, err
		}
		t.Owner, t.Worker, t.signer = keys[0].addr, keys[1].addr, api.SignerKindSealant
	}

	// Batches sized so that each tenant's sectors go in a few messages;
	// the wait bounds the latency of a partial batch.
	batch := max(1, min(c.cfg.Sectors, 4))
	proof := abi.StackedDrg2KiBV1_1
	if ni {
		proof = abi.StackedDrg2KiBV1_2_Feat_NiPoRep
	}
	tc := api.TenantConfig{
		// Two senders: the pipeline sends from the first (the worker
		// key), WindowPoSt (Architecture 1) from the last (the owner
		// key). The pipeline reserves its nonces in the manager's store
		// while WindowPoSt takes the next nonce from the node, so two
		// senders on one key would race for a nonce; the actor accepts
		// SubmitWindowedPoSt from the owner, worker or control addresses.
		ID: name, Miner: mid, ProofType: int64(proof), Senders: []string{t.Worker.String(), t.Owner.String()},
		SigningRoute:       "signer",
		PreCommitBatchSize: batch, PreCommitMaxWait: api.Duration(c.cfg.BatchWait),
		ProveCommitMode: string(store.ProveAggregate), ProveCommitBatchSize: batch, ProveCommitMaxWait: api.Duration(c.cfg.BatchWait),
		ExpirationDays: 540, QuotaPerDay: c.cfg.Sectors, Weight: 1, DeliveryTarget: target,
	}
	if _, err := c.svc.GetTenant(ctx, name); err != nil {
		if _, err := c.svc.CreateTenant(ctx, tc); err != nil {
			return nil, fmt.Errorf("demo: create tenant %s: %w", name, err)
		}
	} else if _, err := c.svc.UpdateTenant(ctx, tc); err != nil {
		return nil, fmt.Errorf("demo: update tenant %s: %w", name, err)
	}
	// The SP's signer: keys out of the devnet's owners/ into the tenant's
	// own keystore, or its venus-wallet; the manager learns addresses only.
	if t.signer == api.SignerKindVenusWallet {
		err = c.startVenusWallet(ctx, t)
	} else {
		err = c.startSigner(ctx, t, keys)
	}
	if err != nil {
		return nil, err
	}
	c.tenants = append(c.tenants, t)
	return t, nil
}

// demoPassphrase is the keystore passphrase of the demo signers, written
// next to the keystore (mode 0600): a demo has nobody to type it. A real
// signer reads it from a prompt, a file or the environment.
const demoPassphrase = "sealant-devnet-demo"

// startSigner prepares DIR/tenants/<name>/signer (keystore, policy,
// config, signer token) and runs the signer's outbound connection.
func (c *cluster) startSigner(ctx context.Context, t *tenant, keys []ownerKey) error {
	tok, err := c.svc.IssueToken(ctx, api.TokenRequest{Role: "signer", Tenant: t.Name, Subject: t.Name + "-signer", Note: "devnet demo signer"})
	if err != nil {
		return fmt.Errorf("demo: signer token %s: %w", t.Name, err)
	}
	maxMsg := 0
	if t.ni {
		maxMsg = niMessageBytes
	}
	cfgPath, err := WriteSignerDir(SignerSetup{Dir: filepath.Join(t.Dir, "signer"), Tenant: t.Name, MinerID: t.MinerID,
		ChainDir: filepath.Join(c.cfg.Dir, "chain"), ManagerURL: c.managerURL, Token: tok.Token, MaxMessageBytes: maxMsg})
	if err != nil {
		return err
	}
	scfg, err := signer.LoadConfig(cfgPath)
	if err != nil {
		return fmt.Errorf("demo: signer config %s: %w", t.Name, err)
	}
	eps, err := scfg.Endpoints()
	if err != nil {
		return fmt.Errorf("demo: signer endpoints %s: %w", t.Name, err)
	}
	s, closeFn, err := scfg.Open([]byte(demoPassphrase), c.log.With("component", "signer", "tenant", t.Name))
	if err != nil {
		return fmt.Errorf("demo: open signer %s: %w", t.Name, err)
	}
	c.closers = append(c.closers, func() { closeFn() })
	c.goRun(ctx, t.Name+" signer", func(ctx context.Context) error {
		return signer.NewRunner(s, signer.Backoff{}).Run(ctx, eps)
	})
	return nil
}

// SignerSetup describes a tenant's signer directory.
type SignerSetup struct {
	// Dir is the signer directory (created).
	Dir    string
	Tenant string
	// MinerID is the tenant's miner: the policy allows only it.
	MinerID uint64
	// ChainDir is the devnet directory whose owners/<tenant>-owner and
	// owners/<tenant>-worker keys are imported.
	ChainDir string
	// ManagerURL is the manager's /rpc/v0 URL (http or ws).
	ManagerURL string
	// Token is the tenant's signer-role token.
	Token string
	// MaxMessageBytes raises the policy's message size cap above the
	// mainnet 64 KiB (0 keeps it): the NI tenant's devnet aggregates.
	MaxMessageBytes int
}

// niMessageBytes is the size cap of the NI tenant's messages: its devnet
// aggregate carries every sector's vanilla proofs.
const niMessageBytes = manager.DevnetNIMessageBytes

// WriteSignerDir creates (or completes) a signer directory as an SP would
// with `sealant signer init` and `sealant signer import`: the tenant's
// owner and worker keys imported from the devnet's key files into its own
// keystore (sealed under a passphrase in DIR/passphrase, mode 0600), a
// policy limited to the tenant's miner and the sealing and proving methods,
// and signer.toml pointing at the manager. It returns signer.toml's path,
// which `sealant signer run --config` takes. Repeating it is harmless.
func WriteSignerDir(su SignerSetup) (string, error) {
	dir := su.Dir
	if _, err := signer.Init(dir); err != nil {
		return "", fmt.Errorf("demo: signer init %s: %w", su.Tenant, err)
	}
	pass := []byte(demoPassphrase)
	if err := os.WriteFile(filepath.Join(dir, "passphrase"), pass, 0o600); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	keys, err := readOwnerKeys(su.ChainDir, su.Tenant)
	if err != nil {
		return "", err
	}
	ks, err := signer.OpenKeystore(filepath.Join(dir, "keys"))
	if err != nil {
		return "", fmt.Errorf("demo: signer keystore %s: %w", su.Tenant, err)
	}
	have := map[string]bool{}
	if list, err := ks.List(); err == nil {
		for _, e := range list {
			have[e.Address.String()] = true
		}
	}
	var senders []string
	for _, k := range keys {
		if !have[k.addr.String()] {
			if _, err := ks.Import(k.ki, pass); err != nil {
				return "", fmt.Errorf("demo: import %s key of %s: %w", k.role, su.Tenant, err)
			}
		}
		senders = append(senders, k.addr.String())
	}
	policy := fmt.Sprintf(`# Policy of %[1]s's signer (devnet demo): only %[1]s's miner, the sealing
# and proving methods, bounded value and fees.
miners = ["%[2]s"]
methods = [28, 34, 36, 5, 11]
senders = ["%[3]s"]
max_value_per_message = "100"
max_value_per_day     = "10000"
max_gas_fee_cap       = "0.0001"
max_gas_premium       = "0.0001"
max_fee_per_message   = "10"
max_fee_per_day       = "1000"

[sectors]
numbers = ["0-999999"]
max_per_message = 256
`, su.Tenant, maddrMainnet(su.MinerID), strings.Join(senders, `", "`))
	if su.MaxMessageBytes > 0 {
		// Top-level key: it must come before the [sectors] table.
		policy = fmt.Sprintf("max_message_bytes = %d\n", su.MaxMessageBytes) + policy
	}
	if err := os.WriteFile(filepath.Join(dir, "policy.toml"), []byte(policy), 0o600); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manager.token"), []byte(su.Token), 0o600); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	wsURL := su.ManagerURL
	if strings.HasPrefix(wsURL, "http") {
		wsURL = "ws" + strings.TrimPrefix(wsURL, "http")
	}
	conf := fmt.Sprintf(`name = "%s-signer"
keystore = "keys"
state_dir = "state"
audit_log = "audit.jsonl"
policy = "policy.toml"
passphrase_file = "passphrase"

[[managers]]
url = "%s"
token_file = "manager.token"
tenant = "%s"
`, su.Tenant, wsURL, su.Tenant)
	cfgPath := filepath.Join(dir, signer.ConfigFileName)
	if err := os.WriteFile(cfgPath, []byte(conf), 0o600); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	return cfgPath, nil
}

// ownerKey is one of a tenant's devnet keys, on its way to the signer.
type ownerKey struct {
	role string
	ki   sigs.KeyInfo
	addr address.Address
}

// readOwnerKeys reads a tenant's owner and worker keys from the devnet's
// owners/ directory (owner first).
func readOwnerKeys(chainDir, name string) ([]ownerKey, error) {
	var out []ownerKey
	for _, role := range []string{"owner", "worker"} {
		ki, err := devnet.LoadOwnerKey(chainDir, name+"-"+role)
		if err != nil {
			return nil, fmt.Errorf("demo: %s key of %s: %w", role, name, err)
		}
		a, err := ki.Address()
		if err != nil {
			return nil, fmt.Errorf("demo: %s key of %s: %w", role, name, err)
		}
		out = append(out, ownerKey{role: role, ki: ki, addr: a})
	}
	return out, nil
}

// maddrMainnet formats a miner ID as the signer policy expects ("f01000").
func maddrMainnet(id uint64) string { return fmt.Sprintf("f0%d", id) }

// startReceiver runs the SP's receiver (Architecture 2) and returns the
// delivery target for the tenant: its URL with a provider token.
func (c *cluster) startReceiver(ctx context.Context, t *tenant) (string, error) {
	root := filepath.Join(t.Dir, "receiver")
	st := filepath.Join(t.Dir, "store")
	for _, d := range []string{root, st} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", fmt.Errorf("demo: %w", err)
		}
	}
	secret, err := delivery.LoadOrCreateSecret(filepath.Join(root, "secret"))
	if err != nil {
		return "", fmt.Errorf("demo: receiver secret %s: %w", t.Name, err)
	}
	// The SP's receiver reads the chain through its own (read-only) client.
	rc, err := lotus.New(lotus.Config{APIInfo: c.node.APIInfo(), Logger: c.log.With("component", "receiver-chain")})
	if err != nil {
		return "", fmt.Errorf("demo: receiver chain %s: %w", t.Name, err)
	}
	r, err := delivery.NewReceiver(delivery.ReceiverConfig{
		Root: root, Store: st, Secret: secret, Miners: []uint64{t.MinerID}, Chain: rc,
		Logger: c.log.With("component", "receiver", "tenant", t.Name),
	})
	if err != nil {
		return "", fmt.Errorf("demo: receiver %s: %w", t.Name, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("demo: receiver listen: %w", err)
	}
	hs := &http.Server{Handler: r.Handler(), ReadHeaderTimeout: 10 * time.Second}
	c.goRun(ctx, t.Name+" receiver http", func(context.Context) error { return hs.Serve(ln) })
	c.goRun(ctx, t.Name+" receiver", r.Run)
	c.closers = append(c.closers, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	})
	tok, err := delivery.IssueProviderToken(secret, "sealant-demo-provider", 0)
	if err != nil {
		return "", fmt.Errorf("demo: provider token: %w", err)
	}
	t.receiver = r
	t.storePath = st
	return "http://" + ln.Addr().String() + "#token=" + tok, nil
}

// workerTemplate is the worker config the demo starts its workers from,
// as an operator would from `sealant worker config default`: one worker
// identity, its manager, 2KiB sealing with short polling intervals (the
// devnet's blocks come every few hundred milliseconds), N threads.
const workerTemplate = `[worker]
name = %q
admin_listen = "127.0.0.1:0"
ping_interval = "2s"
parent_cache_dir = %q
local_pieces_dirs = [%q]

[[manager]]
name = "demo"
url = %q
token_file = %q

[sealing]
allowed_sizes = ["2KiB"]
seal_interval = "500ms"
rpc_polling_interval = "500ms"
resubmit_delay = "2s"
retry_backoff = "1s"
retry_backoff_max = "10s"
max_retries = 20
workers = 1
%s
[[attached]]
name = "persist"
location = %q
`

// WorkerSetup describes one worker made from the template.
type WorkerSetup struct {
	Name string
	// Dir holds the threads' stores and the persist store.
	Dir        string
	ManagerURL string
	TokenFile  string
	Threads    int
	// ParentCacheDir is shared by the workers of a machine.
	ParentCacheDir string
	// PiecesDir is searched for piece payloads before downloading.
	PiecesDir string
	// BatchSize, if ≥ 2, makes the threads batch threads of that many
	// members each (Threads counts members).
	BatchSize int
}

// WorkerConfig renders worker.toml from the template: the threads'
// stores are Dir/t1…tN, the persist store Dir/persist.
func WorkerConfig(ws WorkerSetup) string {
	var threads strings.Builder
	if ws.BatchSize >= 2 {
		for j := 1; j <= max(ws.Threads/ws.BatchSize, 1); j++ {
			fmt.Fprintf(&threads, "\n[[sealing_thread]]\nname = \"b%d\"\nlocation = %q\nplan = \"batch\"\nbatch_size = %d\nbatch_wait = \"20s\"\n",
				j, filepath.Join(ws.Dir, fmt.Sprintf("b%d", j)), ws.BatchSize)
		}
	} else {
		for j := 1; j <= ws.Threads; j++ {
			fmt.Fprintf(&threads, "\n[[sealing_thread]]\nname = \"t%d\"\nlocation = %q\n", j, filepath.Join(ws.Dir, fmt.Sprintf("t%d", j)))
		}
	}
	return fmt.Sprintf(workerTemplate, ws.Name, ws.ParentCacheDir, ws.PiecesDir, ws.ManagerURL, ws.TokenFile,
		threads.String(), filepath.Join(ws.Dir, "persist"))
}

// startWorker writes worker i's config from the template and runs it.
func (c *cluster) startWorker(ctx context.Context, i int, piecesDir string) error {
	name := fmt.Sprintf("worker-%d", i)
	dir := filepath.Join(c.cfg.Dir, "workers", name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	tok, err := c.svc.IssueToken(ctx, api.TokenRequest{Role: "worker", Subject: name, Note: "devnet demo worker"})
	if err != nil {
		return fmt.Errorf("demo: worker token: %w", err)
	}
	tokFile := filepath.Join(dir, "worker.token")
	if err := os.WriteFile(tokFile, []byte(tok.Token), 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	doc := WorkerConfig(WorkerSetup{Name: name, Dir: dir, ManagerURL: c.managerURL, TokenFile: tokFile,
		Threads: c.cfg.ThreadsPerWorker, ParentCacheDir: filepath.Join(c.cfg.Dir, "parents"), PiecesDir: piecesDir,
		BatchSize: c.cfg.BatchSize})
	cfgPath := filepath.Join(dir, "worker.toml")
	if err := os.WriteFile(cfgPath, []byte(doc+c.cfg.WorkerExtra), 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	wcfg, err := worker.LoadConfig(cfgPath)
	if err != nil {
		return fmt.Errorf("demo: worker config: %w", err)
	}
	log := c.log.With("component", "worker", "worker", name)
	tr := &delivery.Client{RejectedError: worker.ErrDeliveryRejected, Logger: log.With("component", "delivery")}
	w, err := worker.New(ctx, wcfg, worker.Options{Self: c.cfg.Self, Logger: log, Transferer: tr})
	if err != nil {
		return fmt.Errorf("demo: worker %s: %w", name, err)
	}
	c.goRun(ctx, name, w.Run)
	return nil
}
