package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/devnet"
)

// devnetCmd itself has no RunE: bare `sealant devnet` becomes the end-to-end
// demo in a later change; init and run serve the chain alone.
func init() {
	devnetCmd.AddCommand(newDevnetInitCmd(), newDevnetRunCmd())
}

func newDevnetInitCmd() *cobra.Command {
	var (
		dir     string
		miners  int
		genesis string
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "init --dir DIR [--miners N] [--genesis FILE]",
		Short: "Create a devnet chain in DIR (genesis, keys, database)",
		Long: `Create a local devnet in DIR.

The genesis comes from --genesis, else DIR/genesis.toml, else a generated one
with --miners demo miners (each with a secp256k1 owner and a BLS worker
account, 2KiB sectors) and a faucet account. Keys generated for genesis
accounts are written to DIR/owners/<name>/key.json (Lotus KeyInfo JSON,
mode 0600) and nowhere else. DIR/token holds an admin API token.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return withExitCode(2, errors.New("--dir is required"))
			}
			if miners < 0 {
				return withExitCode(2, errors.New("--miners must be ≥ 0"))
			}
			var g *devnet.Genesis
			var err error
			switch {
			case genesis != "":
				g, err = devnet.LoadGenesis(genesis)
			default:
				gp := filepath.Join(dir, devnet.GenesisFileName)
				if _, serr := os.Stat(gp); serr == nil {
					g, err = devnet.LoadGenesis(gp)
				} else {
					g = devnet.DefaultGenesis(miners)
				}
			}
			if err != nil {
				return err
			}
			if err := devnet.Init(cmd.Context(), dir, g); err != nil {
				return err
			}
			n, err := devnet.New(devnet.Config{Dir: dir, Logger: slog.Default()})
			if err != nil {
				return err
			}
			defer n.Close()
			summary := map[string]any{"dir": dir, "miners": n.Miners(), "accounts": n.Accounts(),
				"token_file": filepath.Join(dir, devnet.TokenFileName), "keys": filepath.Join(dir, "owners")}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), summary)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "devnet initialised in %s\n", dir)
			for name, a := range n.Miners() {
				fmt.Fprintf(cmd.OutOrStdout(), "miner   %-12s %s\n", name, a)
			}
			for name, a := range n.Accounts() {
				fmt.Fprintf(cmd.OutOrStdout(), "account %-12s %s  key: %s\n", name, a, devnet.OwnerKeyPath(dir, name))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "devnet directory")
	cmd.Flags().IntVar(&miners, "miners", 1, "number of demo miners in a generated genesis")
	cmd.Flags().StringVar(&genesis, "genesis", "", "genesis TOML file (default DIR/genesis.toml or generated)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return cmd
}

func newDevnetRunCmd() *cobra.Command {
	var (
		dir, listen string
		blockTime   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "run --dir DIR [--listen HOST:PORT] [--block-time D]",
		Short: "Run the devnet in DIR: produce blocks and serve the Lotus v1 API",
		Long: `Run the devnet chain in DIR (created by 'sealant devnet init').

Serves the Lotus v1 JSON-RPC API (HTTP and WebSocket at /rpc/v1, JWT
permissions read/write/sign/admin, ChainNotify) and prints one line
FULLNODE_API_INFO=<admin token>:/ip4/HOST/tcp/PORT/http, also written to
DIR/api-info. State is kept in DIR/chain.sqlite, so a restarted devnet
continues its chain. Stop with SIGINT/SIGTERM.

DEVNET ONLY: proofs are checked as vanilla-proof stand-ins for Groth16
SNARKs; a real Groth16 proof is rejected.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return withExitCode(2, errors.New("--dir is required"))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			n, err := devnet.New(devnet.Config{Dir: dir, Listen: listen, BlockTime: blockTime, Logger: slog.Default()})
			if err != nil {
				return err
			}
			if err := n.Start(ctx); err != nil {
				n.Close()
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "FULLNODE_API_INFO=%s\n", n.APIInfo())
			<-ctx.Done()
			return n.Close()
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "devnet directory")
	cmd.Flags().StringVar(&listen, "listen", devnet.DefaultListen, "API listen address (port 0 picks a free port)")
	cmd.Flags().DurationVar(&blockTime, "block-time", 0, "block time (default: genesis block_time, 1s)")
	return cmd
}
