package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/manager"
	"github.com/sealant/sealant/manager/commit"
	"github.com/sealant/sealant/manager/signhub"
	"github.com/sealant/sealant/manager/walletgw"
	"github.com/sealant/sealant/manager/wdpost"
	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/store"
)

func init() {
	managerCmd.AddCommand(newManagerRunCmd(), newManagerConfigCmd())
}

func newManagerRunCmd() *cobra.Command {
	var cfgPath, dataDir, listen, database string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the sealing manager (worker, tenant and admin APIs on /rpc/v0)",
		Long: `Run the sealing manager.

On first run it creates <data_dir>/jwt.secret (mode 0600) and writes an admin
token to <data_dir>/admin.token, which "sealant admin" reads by default.
Flags override the config file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := manager.DefaultConfig()
			base := ""
			if cfgPath != "" {
				var err error
				if cfg, err = loadManagerConfigRaw(cfgPath); err != nil {
					return err
				}
				base = filepath.Dir(cfgPath)
			}
			if dataDir != "" {
				cfg.DataDir = dataDir
			}
			if listen != "" {
				cfg.Listen = listen
			}
			if database != "" {
				cfg.Database = database
			}
			if err := cfg.Provision(base); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runManager(ctx, cfg, slog.Default())
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "config file (TOML; see 'sealant manager config default')")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "override data_dir")
	cmd.Flags().StringVar(&listen, "listen", "", "override listen address")
	cmd.Flags().StringVar(&database, "database", "", "override the database DSN")
	return cmd
}

func loadManagerConfigRaw(path string) (manager.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return manager.Config{}, err
	}
	cfg, err := manager.ParseConfig(data)
	if err != nil {
		return manager.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// runManager starts the service and serves until ctx ends.
func runManager(ctx context.Context, cfg manager.Config, log *slog.Logger) error {
	secret, err := manager.LoadOrCreateSecret(cfg.DataDir)
	if err != nil {
		return err
	}
	policy, err := cfg.Policy()
	if err != nil {
		return err
	}
	opts := manager.Options{
		DSN: cfg.Database, Policy: policy, BlockTime: time.Duration(cfg.Chain.BlockTime),
		LeaseTTL: time.Duration(cfg.Leases.TTL), FairShareWindow: time.Duration(cfg.Leases.FairShareWindow),
		Devnet: cfg.Chain.Devnet, Delivery: cfg.Delivery, Secret: secret, Logger: log,
	}
	var lc *lotus.Client
	if cfg.Chain.APIInfo != "" {
		if lc, err = lotus.New(lotus.Config{APIInfo: cfg.Chain.APIInfo, Logger: log}); err != nil {
			return fmt.Errorf("chain: %w", err)
		}
		opts.Chain = lc
	} else {
		log.Warn("no chain configured (chain.api_info / FULLNODE_API_INFO): tickets and seeds cannot be drawn, no messages are sent")
	}
	svc, err := manager.NewService(ctx, opts)
	if err != nil {
		return err
	}
	defer svc.Close()
	hub := wireManagerComponents(svc, cfg, lc, log)
	defer hub.Close()
	if _, err := svc.EnsureAdminToken(ctx, cfg.DataDir); err != nil {
		return err
	}
	srv, err := svc.NewRPCServer()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Issue 20 hook: SPs' venus-wallets sign through the venus-gateway
	// wallet API at /rpc/v1, routed by the same hub as `sealant signer`.
	handler, closeGateway, err := walletgw.Mount(svc.Handler(srv), walletgw.Config{Hub: hub, Logger: log},
		rpc.ServerConfig{Secret: secret, Revoked: svc.Revoked, Errors: manager.Errors, Logger: log})
	if err != nil {
		return err
	}
	defer closeGateway()
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	pctx, cancelPipeline := context.WithCancel(ctx)
	defer cancelPipeline()
	if p := svc.Pipeline(); p != nil {
		go func() {
			if err := p.Run(pctx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("commit pipeline: %w", err)
			}
		}()
	}
	if wp := newWindowPoSt(cfg, lc, hub, log); wp != nil {
		go func() {
			if err := svc.RunWindowPoSt(pctx, wp, 5*time.Second, 0); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("window post: %w", err)
			}
		}()
	}
	log.Info("manager serving", "rpc", "http://"+ln.Addr().String()+manager.RPCPath,
		"venus_wallet_gateway", walletgw.Multiaddr(ln.Addr().String()), "store", redactedDSN(cfg.Database),
		"admin_token_file", filepath.Join(cfg.DataDir, manager.AdminTokenFile))
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Close()
	hs.Shutdown(shutdownCtx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	log.Info("manager stopped")
	return err
}

// wireManagerComponents plugs the signer hub and (with a chain) the
// commitment pipeline into svc. The pipeline signs through the hub for
// tenants on the "signer" route and through the node's wallet for tenants
// on the "lotus-wallet" route.
func wireManagerComponents(svc *manager.Service, cfg manager.Config, lc *lotus.Client, log *slog.Logger) *signhub.Hub {
	hub := signhub.New(signhub.Config{
		Logger: log,
		Tenant: func(ctx context.Context, tenant string) (uint64, error) {
			t, err := svc.Store().GetTenant(ctx, tenant)
			if errors.Is(err, store.ErrNotFound) {
				return 0, fmt.Errorf("%w: tenant %s", manager.ErrNotFound, tenant)
			}
			if err != nil {
				return 0, err
			}
			return t.Miner, nil
		},
	})
	svc.SetSigners(hub)
	if lc == nil || !cfg.Commit.Enabled {
		return hub
	}
	params := commit.MainnetParams()
	if p, _ := cfg.Policy(); types.ChainEpoch(p.PreCommitChallengeDelay) != commit.MainnetParams().PreCommitChallengeDelay {
		params = commit.DevnetParams()
		params.PreCommitChallengeDelay = types.ChainEpoch(p.PreCommitChallengeDelay)
		params.MaxProveCommitDuration = types.ChainEpoch(p.MaxProveCommitDuration)
	}
	pcfg := commit.Config{
		Params:       params,
		PollInterval: time.Duration(cfg.Chain.BlockTime),
		WalletSigner: commit.LotusWallet{W: lc},
	}
	if cfg.Chain.Devnet {
		// Devnet proofs are larger than SNARKs; the devnet accepts them.
		pcfg.MaxMessageBytes = 16 << 20
	}
	p, err := commit.New(pcfg, svc.Store(), lc, hubSigner{hub}, log)
	if err != nil {
		log.Error("commit pipeline not started", "err", err)
		return hub
	}
	svc.SetPipeline(p)
	return hub
}

// newWindowPoSt builds Architecture 1's WindowPoSt service (the provider
// proves the sectors it keeps in delivery.store_path for tenants without a
// delivery target), or nil when it cannot or should not run here: no
// chain, no store, disabled, or no prover (a real network needs an
// external processor). Messages are signed by the SP's signer through the
// hub, like the pipeline's.
func newWindowPoSt(cfg manager.Config, lc *lotus.Client, hub *signhub.Hub, log *slog.Logger) *wdpost.Service {
	if lc == nil || !cfg.WindowPoSt.Enabled || cfg.Delivery.StorePath == "" {
		return nil
	}
	var prover wdpost.Prover
	switch {
	case cfg.WindowPoSt.Processor != "":
		prover = wdpost.ProcessorProver{Bin: cfg.WindowPoSt.Processor, Args: cfg.WindowPoSt.ProcessorArgs}
	case cfg.Chain.Devnet:
		prover = wdpost.DevnetProver{}
	default:
		log.Warn("window post not started: no wdpost.processor configured for a real network; architecture-1 sectors in delivery.store_path are not proven by this manager")
		return nil
	}
	wp, err := wdpost.New(wdpost.Config{Chain: lc, Signer: hub, Prover: prover, Logger: log.With("component", "wdpost")})
	if err != nil {
		log.Error("window post not started", "err", err)
		return nil
	}
	log.Info("window post enabled", "store", cfg.Delivery.StorePath, "prover", fmt.Sprintf("%T", prover))
	return wp
}

// hubSigner adapts the signer hub to the pipeline's Signer: "no signer
// connected" is the pipeline's ErrSignerUnavailable (the batch waits and
// shows "waiting for signer").
type hubSigner struct{ h *signhub.Hub }

func (s hubSigner) Sign(ctx context.Context, tenant string, from address.Address, msg *types.Message) (types.Signature, error) {
	sig, err := s.h.Sign(ctx, tenant, from, msg)
	if errors.Is(err, signhub.ErrNoSigner) || errors.Is(err, signhub.ErrSignerFailed) {
		return sig, fmt.Errorf("%w: %w", commit.ErrSignerUnavailable, err)
	}
	return sig, err
}

// redactedDSN hides the credentials of a database URL for logs.
func redactedDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if j := strings.Index(dsn[i+3:], "@"); j >= 0 {
			return dsn[:i+3] + "…@" + dsn[i+3+j+1:]
		}
	}
	return dsn
}

func newManagerConfigCmd() *cobra.Command {
	cfgCmd := &cobra.Command{Use: "config", Short: "Manager configuration helpers"}
	cfgCmd.AddCommand(&cobra.Command{
		Use:   "default",
		Short: "Print the commented default configuration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), manager.DefaultConfigTOML)
			return err
		},
	}, &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a configuration file (unknown keys, values) without starting anything",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := manager.LoadConfig(args[0]); err != nil {
				return err
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "ok")
			return err
		},
	})
	return cfgCmd
}
