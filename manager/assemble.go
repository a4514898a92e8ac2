package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/manager/commit"
	"github.com/sealant/sealant/manager/signhub"
	"github.com/sealant/sealant/manager/walletgw"
	"github.com/sealant/sealant/manager/wdpost"
	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/store"
)

// DevnetNIMessageBytes bounds a ProveCommitSectorsNI message on Sealant's
// devnet, whose NI aggregate is the stand-in made of every sector's
// vanilla proofs (~230 KiB per 2KiB sector): the SP's signer must allow
// as much (policy max_message_bytes) for an NI tenant there. Every other
// message keeps Lotus's 64 KiB (types.MaxMessageSize), the limit an SP's
// signer applies by default, so the pipeline splits batches to fit rather
// than build messages the signer refuses.
const DevnetNIMessageBytes = 8 << 20

// AssembleOptions are the inputs of Assemble.
type AssembleOptions struct {
	// Config is a provisioned and validated manager configuration.
	Config Config
	// Chain is the Lotus node (FULLNODE API); nil runs without a chain:
	// no tickets or seeds, no commitment pipeline, no WindowPoSt.
	Chain *lotus.Client
	// Logger receives every component's logs (default slog.Default()).
	Logger *slog.Logger
	// Registrars serve more methods on the manager's RPC server (for
	// example a wallet gateway): each is called once the manager's own
	// methods are registered.
	Registrars []RPCRegistrar
}

// Assembly is a manager with its components wired: the service, the SP
// signer hub, the commitment pipeline and Architecture 1's WindowPoSt
// (when a chain is configured and they are enabled), and the RPC server.
// Assemble builds it; Run runs its background components; Close releases
// it. `sealant manager run` and the devnet demo both build their manager
// with Assemble, so they cannot drift apart.
type Assembly struct {
	Service    *Service
	Hub        *signhub.Hub
	Pipeline   *commit.Pipeline // nil without a chain or with commit disabled
	WindowPoSt *wdpost.Service  // nil when it does not run here
	RPC        *rpc.Server
	// Handler serves JSON-RPC, the dashboard, /metrics and /healthz, and
	// the venus-gateway wallet API at walletgw.Path for SPs' venus-wallets.
	Handler http.Handler
	// closeGateway disconnects the venus-wallets and closes their server.
	closeGateway func()

	// CommitConfig, WindowPoStTick and WindowPoStConfidence are the knobs
	// chosen for the pipeline and WindowPoSt (see Assemble), kept for
	// logs and for tests that compare two assemblies.
	CommitConfig         commit.Config
	WindowPoStTick       time.Duration
	WindowPoStConfidence int64

	log *slog.Logger
	// mu guards runs and closing; idle signals runs reaching zero.
	mu      sync.Mutex
	idle    *sync.Cond
	runs    int
	closing bool
}

// Assemble builds a manager from its configuration; it is the one
// composition root. Knobs that differ between a real network and
// Sealant's devnet (chain.devnet) are chosen here:
//   - commit message size: 64 KiB (Lotus's limit, which SP signers
//     enforce by default) everywhere; NI aggregates on the devnet
//     DevnetNIMessageBytes;
//   - receipt and challenge confidence: 1 epoch on the devnet (one node,
//     no reorgs), the packages' defaults (5 and 2) elsewhere;
//   - batch retry backoff and re-push: 5 s and 30 s on the devnet (blocks
//     every few hundred ms), the pipeline's defaults (10 and 15 min)
//     elsewhere;
//   - chain parameters: the config's timing policy (challenge delay and
//     prove-commit window), with the devnet's smaller slack there;
//   - WindowPoSt tick: every epoch, at most every 5 s.
//
// The pipeline signs through the hub for tenants on the "signer" route
// and through the node's wallet for "lotus-wallet" tenants.
func Assemble(ctx context.Context, o AssembleOptions) (*Assembly, error) {
	cfg := o.Config
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	secret, err := LoadOrCreateSecret(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	policy, err := cfg.Policy()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	opts := Options{
		DSN: cfg.Database, Policy: policy, BlockTime: time.Duration(cfg.Chain.BlockTime),
		LeaseTTL: time.Duration(cfg.Leases.TTL), FairShareWindow: time.Duration(cfg.Leases.FairShareWindow),
		Devnet: cfg.Chain.Devnet, Delivery: cfg.Delivery, Secret: secret, Logger: log,
	}
	if o.Chain != nil {
		opts.Chain = o.Chain
	}
	svc, err := NewService(ctx, opts)
	if err != nil {
		return nil, err
	}
	a := &Assembly{Service: svc, log: log}
	a.idle = sync.NewCond(&a.mu)
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	a.Hub = signhub.New(signhub.Config{Logger: log.With("component", "signhub"), Tenant: svc.tenantMiner})
	svc.SetSigners(a.Hub)
	if _, err := svc.EnsureAdminToken(ctx, cfg.DataDir); err != nil {
		return nil, err
	}
	a.CommitConfig = commitConfig(cfg, policy)
	a.WindowPoStTick = min(time.Duration(cfg.Chain.BlockTime), 5*time.Second)
	if cfg.Chain.Devnet {
		a.WindowPoStConfidence = 1
	}
	if o.Chain != nil && cfg.Commit.Enabled {
		pc := a.CommitConfig
		pc.WalletSigner = commit.LotusWallet{W: o.Chain}
		if a.Pipeline, err = commit.New(pc, svc.Store(), o.Chain, signhub.CommitSigner{Hub: a.Hub}, log.With("component", "commit")); err != nil {
			return nil, fmt.Errorf("manager: commit pipeline: %w", err)
		}
		svc.SetPipeline(a.Pipeline)
	}
	if a.WindowPoSt, err = newWindowPoSt(cfg, o.Chain, a.Hub, a.WindowPoStConfidence, log); err != nil {
		return nil, err
	}
	if a.RPC, err = svc.NewRPCServer(); err != nil {
		return nil, err
	}
	for _, r := range o.Registrars {
		r.RegisterRPC(a.RPC)
	}
	// SPs' venus-wallets sign through the venus-gateway wallet API, routed
	// by the same hub as `sealant signer` and authorised by the same tokens.
	a.Handler, a.closeGateway, err = walletgw.Mount(svc.Handler(a.RPC),
		walletgw.Config{Hub: a.Hub, Logger: log.With("component", "walletgw")},
		svc.RPCServerConfig())
	if err != nil {
		return nil, fmt.Errorf("manager: wallet gateway: %w", err)
	}
	ok = true
	return a, nil
}

// commitConfig is the pipeline's configuration for cfg (see Assemble).
func commitConfig(cfg Config, policy rand.Policy) commit.Config {
	params := commit.MainnetParams()
	params.PreCommitChallengeDelay = types.ChainEpoch(policy.PreCommitChallengeDelay)
	params.MaxProveCommitDuration = types.ChainEpoch(policy.MaxProveCommitDuration)
	pc := commit.Config{Params: params, PollInterval: time.Duration(cfg.Chain.BlockTime), MaxMessageBytes: types.MaxMessageSize}
	if cfg.Chain.Devnet {
		pc.Params.Slack = commit.DevnetParams().Slack
		pc.Confidence = 1
		pc.RetryBackoff, pc.RepushAfter = 5*time.Second, 30*time.Second
		pc.MaxNIMessageBytes = DevnetNIMessageBytes
	}
	return pc
}

// tenantMiner is the signer hub's tenant lookup.
func (s *Service) tenantMiner(ctx context.Context, tenant string) (uint64, error) {
	t, err := s.st.GetTenant(ctx, tenant)
	if errors.Is(err, store.ErrNotFound) {
		return 0, fmt.Errorf("%w: tenant %s", ErrNotFound, tenant)
	}
	if err != nil {
		return 0, err
	}
	return t.Miner, nil
}

// newWindowPoSt builds Architecture 1's WindowPoSt service (the provider
// proves the sectors it keeps in delivery.store_path for tenants without a
// delivery target), or nil when it should not run here: no chain, no
// store, disabled, or no prover (a real network needs an external
// processor). Messages are signed by the SP's signer through the hub.
func newWindowPoSt(cfg Config, chain *lotus.Client, hub *signhub.Hub, confidence int64, log *slog.Logger) (*wdpost.Service, error) {
	if chain == nil || !cfg.WindowPoSt.Enabled || cfg.Delivery.StorePath == "" {
		return nil, nil
	}
	var prover wdpost.Prover
	switch {
	case cfg.WindowPoSt.Processor != "":
		prover = wdpost.ProcessorProver{Bin: cfg.WindowPoSt.Processor, Args: cfg.WindowPoSt.ProcessorArgs}
	case cfg.Chain.Devnet:
		prover = wdpost.DevnetProver{}
	default:
		log.Warn("window post not started: no wdpost.processor configured for a real network; architecture-1 sectors in delivery.store_path are not proven by this manager")
		return nil, nil
	}
	wp, err := wdpost.New(wdpost.Config{Chain: chain, Signer: hub, Prover: prover,
		ChallengeConfidence: confidence, Logger: log.With("component", "wdpost")})
	if err != nil {
		return nil, fmt.Errorf("manager: window post: %w", err)
	}
	log.Info("window post enabled", "store", cfg.Delivery.StorePath, "prover", fmt.Sprintf("%T", prover))
	return wp, nil
}

// Run runs the commitment pipeline and WindowPoSt (those assembled) until
// ctx ends, and returns once both have stopped: nil after ctx ended, or
// the first component's failure (the others are then stopped too). After
// Close it returns at once.
func (a *Assembly) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.closing {
		a.mu.Unlock()
		return nil
	}
	a.runs++
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.runs--
		a.idle.Broadcast()
		a.mu.Unlock()
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	run := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
				once.Do(func() { first = fmt.Errorf("%s: %w", name, err) })
				cancel()
			}
		}()
	}
	if a.Pipeline != nil {
		run("commit pipeline", a.Pipeline.Run)
	}
	if a.WindowPoSt != nil {
		run("window post", func(ctx context.Context) error {
			return a.Service.RunWindowPoSt(ctx, a.WindowPoSt, a.WindowPoStTick, 0)
		})
	}
	wg.Wait()
	return first
}

// Close releases what Assemble built, in reverse order: the RPC server's
// connections, the hub (failing waiting signs), then — once a Run in
// progress has returned — the service. Cancel Run's context first.
func (a *Assembly) Close() {
	if a.idle != nil {
		a.mu.Lock()
		a.closing = true
		for a.runs > 0 {
			a.idle.Wait()
		}
		a.mu.Unlock()
	}
	if a.closeGateway != nil {
		a.closeGateway()
	}
	if a.RPC != nil {
		a.RPC.Close()
	}
	if a.Hub != nil {
		a.Hub.Close()
	}
	if a.Service != nil {
		a.Service.Close()
	}
}
