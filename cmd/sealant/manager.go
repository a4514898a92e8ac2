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
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/manager"
	"github.com/sealant/sealant/manager/walletgw"
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
			cfg, err := managerRunConfig(cfgPath, dataDir, listen, database)
			if err != nil {
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

// managerRunConfig is the configuration `manager run` assembles: the file
// (or the defaults), the flags over it, provisioned and validated.
func managerRunConfig(cfgPath, dataDir, listen, database string) (manager.Config, error) {
	cfg := manager.DefaultConfig()
	base := ""
	if cfgPath != "" {
		var err error
		if cfg, err = loadManagerConfigRaw(cfgPath); err != nil {
			return manager.Config{}, err
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
		return manager.Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return manager.Config{}, err
	}
	return cfg, nil
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

// runManager assembles the manager (manager.Assemble, the composition
// root the devnet demo shares) and serves until ctx ends.
func runManager(ctx context.Context, cfg manager.Config, log *slog.Logger) error {
	var lc *lotus.Client
	if cfg.Chain.APIInfo != "" {
		var err error
		if lc, err = lotus.New(lotus.Config{APIInfo: cfg.Chain.APIInfo, Logger: log}); err != nil {
			return fmt.Errorf("chain: %w", err)
		}
	} else {
		log.Warn("no chain configured (chain.api_info / FULLNODE_API_INFO): tickets and seeds cannot be drawn, no messages are sent")
	}
	asm, err := manager.Assemble(ctx, manager.AssembleOptions{Config: cfg, Chain: lc, Logger: log})
	if err != nil {
		return err
	}
	defer asm.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: asm.Handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 2)
	runCtx, stopRun := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	go func() {
		defer wg.Done()
		if err := asm.Run(runCtx); err != nil {
			errc <- err
		}
	}()
	log.Info("manager serving", "rpc", "http://"+ln.Addr().String()+manager.RPCPath,
		"venus_wallet_gateway", walletgw.Multiaddr(ln.Addr().String()), "store", redactedDSN(cfg.Database),
		"admin_token_file", filepath.Join(cfg.DataDir, manager.AdminTokenFile))
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	stopRun()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	asm.RPC.Close()
	hs.Shutdown(shutdownCtx)
	wg.Wait()
	log.Info("manager stopped")
	return err
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
