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
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/delivery"
)

func init() {
	var cfgPath string
	loadCfg := func() (*delivery.Config, error) {
		if cfgPath == "" {
			return nil, withExitCode(2, errors.New("--config is required (sealant receiver config prints an example)"))
		}
		return delivery.LoadConfig(cfgPath)
	}
	receiverCmd.PersistentFlags().StringVar(&cfgPath, "config", "receiver.toml", "receiver configuration file")

	example := &cobra.Command{
		Use:   "config",
		Short: "Print an example receiver.toml",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), delivery.ExampleConfig)
			return err
		},
	}

	run := &cobra.Command{
		Use:   "run",
		Short: "Receive sectors from providers, verify them and import them into the store",
		Long: `Serve the receiver API. Providers holding a token you issued ("sealant receiver
token issue") push sector metadata and upload the sealed file and the cache files
(tree-r-last, p_aux, t_aux). Each complete sector is verified — TreeR_last rebuilt
from the replica, Poseidon2(comm_c, comm_r_last) = CommR = the on-chain CommR,
p_aux, t_aux, fallback-PoSt challenges — and only then moved into the store
(sealed/s-t0MINER-N, cache/s-t0MINER-N/). Failures are quarantined with a reason.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadCfg()
			if err != nil {
				return err
			}
			secret, err := delivery.LoadOrCreateSecret(cfg.SecretFile)
			if err != nil {
				return err
			}
			if cfg.Miners.Any {
				slog.Warn(`receiver accepts sectors of ANY miner (miners = "any"): any token holder can fill the store with other miners' sectors; list your miner ids instead`)
			}
			chain, err := receiverChain(cfg)
			if err != nil {
				return err
			}
			var c delivery.Chain // stays a nil interface without a node
			if chain != nil {
				c = chain
			}
			r, err := delivery.NewReceiver(delivery.ReceiverConfig{
				Root: cfg.Root, Store: cfg.Store, Secret: secret, Revoked: cfg.RevokedTokens, Miners: cfg.Miners.IDs,
				Chain: c, BandwidthLimit: cfg.BandwidthLimit, VerifyConcurrency: cfg.VerifyConcurrency, Logger: slog.Default(),
				CommitBytes: cfg.CommitBytes, CommitInterval: cfg.CommitInterval, Quarantine: cfg.QuarantineLimits(),
			})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ln, err := net.Listen("tcp", cfg.Listen)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: r.Handler(), ReadHeaderTimeout: 30 * time.Second}
			errc := make(chan error, 2)
			go func() { errc <- r.Run(ctx) }()
			go func() {
				var err error
				if cfg.TLSCert != "" {
					err = srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
				} else {
					err = srv.Serve(ln)
				}
				if errors.Is(err, http.ErrServerClosed) {
					err = nil
				}
				errc <- err
			}()
			slog.Info("receiver listening", "addr", ln.Addr().String(), "store", cfg.Store, "root", cfg.Root)
			select {
			case <-ctx.Done():
			case err = <-errc:
				if err != nil {
					return err
				}
			}
			shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = srv.Shutdown(shut)
			// Chunks acknowledged while shutting down are committed too,
			// so a provider does not have to send them again after the
			// restart.
			return errors.Join(err, r.Flush())
		},
	}

	var provider, receiverURL string
	var ttl time.Duration
	var tokJSON bool
	issue := &cobra.Command{
		Use:   "issue",
		Short: "Issue a token that lets a provider deliver sectors to this receiver",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadCfg()
			if err != nil {
				return err
			}
			secret, err := delivery.LoadOrCreateSecret(cfg.SecretFile)
			if err != nil {
				return err
			}
			tok, err := delivery.IssueProviderToken(secret, provider, ttl)
			if err != nil {
				return withExitCode(2, err)
			}
			out := struct {
				Provider string `json:"provider"`
				Token    string `json:"token"`
				// Target is the receiver URL with the token as fragment,
				// for a tenant's delivery target.
				Target string `json:"target,omitempty"`
			}{Provider: provider, Token: tok}
			if receiverURL != "" {
				out.Target = receiverURL + "#token=" + tok
			}
			if tokJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			if out.Target != "" {
				fmt.Fprintln(cmd.OutOrStdout(), out.Target)
			}
			return nil
		},
	}
	issue.Flags().StringVar(&provider, "provider", "", "provider name (the token's subject)")
	issue.Flags().DurationVar(&ttl, "ttl", 0, "token lifetime (0: no expiry)")
	issue.Flags().StringVar(&receiverURL, "url", "", "this receiver's public URL, to also print a delivery target")
	issue.Flags().BoolVar(&tokJSON, "json", false, "print JSON")
	_ = issue.MarkFlagRequired("provider")
	token := &cobra.Command{Use: "token", Short: "Provider tokens"}
	token.AddCommand(issue)

	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List received sectors and their delivery state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadCfg()
			if err != nil {
				return err
			}
			ss, err := delivery.ListSectors(cfg.Root)
			if err != nil {
				return err
			}
			if ss == nil {
				ss = []api.ReceiverSector{}
			}
			if listJSON {
				return printJSON(cmd.OutOrStdout(), ss)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SECTOR\tPROVIDER\tSTATE\tRECEIVED\tUPDATED\tREASON")
			for _, s := range ss {
				var got, total int64
				for _, f := range s.Files {
					got, total = got+f.Received, total+f.Size
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\n", s.ID, s.Provider, s.State, got, total,
					s.Updated.Format(time.RFC3339), s.Reason)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			qs, qbytes, err := delivery.QuarantineUsage(cfg.Root)
			if err != nil {
				return err
			}
			l := cfg.QuarantineLimits()
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "quarantine: %d sectors, %d bytes (limits: %s sectors, %s bytes; oldest deleted first)\n",
				len(qs), qbytes, limitText(int64(l.MaxCount)), limitText(l.MaxBytes))
			return err
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")
	sectors := &cobra.Command{Use: "sectors", Short: "Received sectors"}
	sectors.AddCommand(list)

	var sectorArg string
	var verifyJSON bool
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Re-run the verified-import checks on a received or stored sector",
		Long: `Run every check of the verified import on a sector this receiver knows: on its
incoming files while it is being received, or on the store once accepted. Read-only.
Exit code 1 when a check fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadCfg()
			if err != nil {
				return err
			}
			id, err := api.ParseSectorID(sectorArg)
			if err != nil {
				return withExitCode(2, err)
			}
			st, md, err := delivery.LoadSector(cfg.Root, id)
			if err != nil {
				return err
			}
			dir := cfg.Store
			switch st.State {
			case api.DeliveryAccepted:
			case api.DeliveryRejected:
				dir = st.Quarantine
			default:
				dir = filepath.Join(cfg.Root, "incoming", id.String())
			}
			chain, err := receiverChain(cfg)
			if err != nil {
				return err
			}
			var c delivery.Chain
			if chain != nil {
				c = chain
			}
			res := delivery.Verify(cmd.Context(), delivery.VerifyInput{Metadata: *md, Dir: dir, Chain: c})
			if verifyJSON {
				if err := printJSON(cmd.OutOrStdout(), res); err != nil {
					return err
				}
			} else {
				for _, ch := range res.Checks {
					mark := "ok  "
					if !ch.OK {
						mark = "FAIL"
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s %-13s %s\n", mark, ch.Name, ch.Detail)
				}
			}
			if !res.OK {
				return withExitCode(1, fmt.Errorf("sector %s failed verification: %s", id, delivery.FailedChecks(res)))
			}
			return nil
		},
	}
	verify.Flags().StringVar(&sectorArg, "sector", "", "sector as MINER:N")
	verify.Flags().BoolVar(&verifyJSON, "json", false, "print JSON")
	_ = verify.MarkFlagRequired("sector")

	receiverCmd.AddCommand(example, run, token, sectors, verify)
}

// receiverChain connects to the SP's Lotus node, or returns nil when none
// is configured (sectors are then rejected: acceptance needs the chain).
func receiverChain(cfg *delivery.Config) (*lotus.Client, error) {
	info := cfg.Chain.APIInfo
	if info == "" {
		info = os.Getenv("FULLNODE_API_INFO")
	}
	if info == "" {
		slog.Warn("no chain configured ([chain] api_info or FULLNODE_API_INFO): sectors cannot be accepted")
		return nil, nil
	}
	return lotus.New(lotus.Config{APIInfo: info})
}

// limitText prints a bound; negative means none.
func limitText(n int64) string {
	if n < 0 {
		return "no limit"
	}
	return strconv.FormatInt(n, 10)
}
