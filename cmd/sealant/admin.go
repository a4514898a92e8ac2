package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/api/rpcapi"
	"github.com/sealant/sealant/manager"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/rpc"
)

// managerAPIFlags locate a manager and a token: --api/--token, else
// SEALANT_API_INFO ("TOKEN:URL"), else the bootstrap admin token in
// --data-dir on the local default address.
type managerAPIFlags struct {
	api, token, dataDir string
}

func (f *managerAPIFlags) bind(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.api, "api", "", "manager RPC URL (default from SEALANT_API_INFO, else http://127.0.0.1:1789/rpc/v0)")
	cmd.PersistentFlags().StringVar(&f.token, "token", "", "API token (default from SEALANT_API_INFO, else <data-dir>/admin.token)")
	cmd.PersistentFlags().StringVar(&f.dataDir, "data-dir", "./sealant-manager", "manager data dir holding admin.token (fallback)")
}

// resolve returns the endpoint and token to use.
func (f *managerAPIFlags) resolve() (url, token string, err error) {
	url, token = f.api, f.token
	if info := os.Getenv("SEALANT_API_INFO"); info != "" && (url == "" || token == "") {
		i := strings.IndexByte(info, ':')
		if i <= 0 {
			return "", "", fmt.Errorf("SEALANT_API_INFO: want TOKEN:URL")
		}
		if token == "" {
			token = info[:i]
		}
		if url == "" {
			url = info[i+1:]
		}
	}
	if url == "" {
		url = "http://127.0.0.1:1789" + manager.RPCPath
	}
	if !strings.Contains(url, "/rpc/") {
		url = strings.TrimRight(url, "/") + manager.RPCPath
	}
	if token == "" {
		raw, rerr := os.ReadFile(filepath.Join(f.dataDir, manager.AdminTokenFile))
		if rerr != nil {
			return "", "", fmt.Errorf("no token: pass --token, set SEALANT_API_INFO=TOKEN:URL, or point --data-dir at the manager's data dir (%w)", rerr)
		}
		token = strings.TrimSpace(string(raw))
	}
	return url, token, nil
}

// dial connects to the manager (one command, one connection).
func (f *managerAPIFlags) dial(ctx context.Context) (*rpc.Client, error) {
	url, token, err := f.resolve()
	if err != nil {
		return nil, err
	}
	return rpc.Dial(ctx, url, rpc.WithToken(token), rpc.WithErrorRegistry(manager.Errors), rpc.WithCallTimeout(60*time.Second))
}

// admin runs fn against the manager's typed admin API.
func (f *managerAPIFlags) admin(ctx context.Context, fn func(api.AdminAPI) error) error {
	c, err := f.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(&rpcapi.AdminClient{C: c})
}

// tenant runs fn against the manager's typed tenant API.
func (f *managerAPIFlags) tenant(ctx context.Context, fn func(api.TenantAPI) error) error {
	c, err := f.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(&rpcapi.TenantClient{C: c})
}

func init() {
	var f managerAPIFlags
	admin := &cobra.Command{Use: "admin", Short: "Administer a sealing manager: tenants, tokens, workers, usage"}
	f.bind(admin)

	tenant := &cobra.Command{Use: "tenant", Short: "Manage tenants (storage providers)"}
	admin.AddCommand(tenant, newAdminUsageCmd(&f), newAdminWorkersCmd(&f), newAdminTokenCmd(&f), newAdminExpiredCmd(&f), newAdminSignersCmd(&f))
	tenant.AddCommand(newTenantAddCmd(&f), newTenantListCmd(&f), newTenantPauseCmd(&f, true), newTenantPauseCmd(&f, false),
		newTenantTokenCmd(&f), newTenantDeleteCmd(&f))
	extraRootCmds = append(extraRootCmds, admin)
}

func newTenantAddCmd(f *managerAPIFlags) *cobra.Command {
	var tc api.TenantConfig
	var proof, preWait, proveWait string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "add ID --miner N --proof 32GiB",
		Short: "Create a tenant",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tc.ID = args[0]
			p, err := abi.ParseSealProof(proof)
			if err != nil {
				return err
			}
			tc.ProofType = int64(p)
			for _, d := range []struct {
				s   string
				dst *api.Duration
			}{{preWait, &tc.PreCommitMaxWait}, {proveWait, &tc.ProveCommitMaxWait}} {
				if d.s == "" {
					continue
				}
				if err := d.dst.UnmarshalText([]byte(d.s)); err != nil {
					return fmt.Errorf("bad duration %q: %w", d.s, err)
				}
			}
			var out api.TenantConfig
			if err := f.admin(cmd.Context(), func(a api.AdminAPI) (err error) { out, err = a.CreateTenant(cmd.Context(), tc); return err }); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "tenant %s created (miner f0%d, %s)\n", out.ID, out.Miner, abi.RegisteredSealProof(out.ProofType))
			return err
		},
	}
	fl := cmd.Flags()
	fl.Uint64Var(&tc.Miner, "miner", 0, "miner actor ID (required)")
	fl.StringVar(&proof, "proof", "32GiB", "seal proof: a size (2KiB, 32GiB…), a name or a number; an NI-PoRep proof (StackedDrg32GiBV1_2_Feat_NiPoRep, 18) makes the tenant seal CC sectors with ProveCommitSectorsNI")
	fl.StringSliceVar(&tc.Senders, "sender", nil, "sender address (repeatable)")
	fl.StringVar(&tc.SigningRoute, "signing-route", "signer", "signer (the SP's sealant signer) or lotus-wallet")
	fl.IntVar(&tc.Weight, "weight", 1, "fair-share weight")
	fl.IntVar(&tc.QuotaPerDay, "quota-per-day", 0, "max sectors allocated per rolling 24 h (0 = unlimited)")
	fl.IntVar(&tc.QuotaConcurrent, "quota-concurrent", 0, "max sectors in flight (0 = unlimited)")
	fl.IntVar(&tc.PreCommitBatchSize, "precommit-batch", 1, "PreCommit batch size")
	fl.StringVar(&preWait, "precommit-max-wait", "", "max wait before a partial PreCommit batch is sent (e.g. 1h)")
	fl.StringVar(&tc.ProveCommitMode, "provecommit-mode", "per-sector", "per-sector or aggregate")
	fl.IntVar(&tc.ProveCommitBatchSize, "provecommit-batch", 1, "ProveCommit batch size")
	fl.StringVar(&proveWait, "provecommit-max-wait", "", "max wait before a partial ProveCommit batch is sent")
	fl.StringVar(&tc.MaxPreCommitFee, "max-precommit-fee", "", "fee cap in attoFIL")
	fl.StringVar(&tc.MaxProveCommitFee, "max-provecommit-fee", "", "fee cap in attoFIL")
	fl.IntVar(&tc.ExpirationDays, "expiration-days", 540, "committed sector lifetime in days")
	fl.StringVar(&tc.DeliveryTarget, "delivery-target", "", "SP receiver URL (empty: the provider keeps the sectors)")
	fl.BoolVar(&tc.Paused, "paused", false, "create paused")
	fl.BoolVar(&tc.SkipChainCheck, "skip-chain-check", false, "create even if the chain cannot be asked about the miner now (no sector is allocated for it until the chain confirms it)")
	fl.BoolVar(&asJSON, "json", false, "print the tenant as JSON")
	cmd.MarkFlagRequired("miner")
	return cmd
}

func newTenantListCmd(f *managerAPIFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List tenants",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ts []api.TenantConfig
			if err := f.admin(cmd.Context(), func(a api.AdminAPI) (err error) { ts, err = a.ListTenants(cmd.Context()); return err }); err != nil {
				return err
			}
			if asJSON {
				if ts == nil {
					ts = []api.TenantConfig{}
				}
				return printJSON(cmd.OutOrStdout(), ts)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tMINER\tPROOF\tWEIGHT\tQUOTA/DAY\tCONCURRENT\tPAUSED\tSIGNING")
			for _, t := range ts {
				fmt.Fprintf(tw, "%s\tf0%d\t%s\t%d\t%d\t%d\t%v\t%s\n", t.ID, t.Miner, abi.RegisteredSealProof(t.ProofType), t.Weight, t.QuotaPerDay, t.QuotaConcurrent, t.Paused, t.SigningRoute)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newTenantPauseCmd(f *managerAPIFlags, pause bool) *cobra.Command {
	use, short := "pause ID", "Stop allocating new sectors for a tenant (sectors in flight continue)"
	if !pause {
		use, short = "resume ID", "Resume allocations for a tenant"
	}
	return &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.admin(cmd.Context(), func(a api.AdminAPI) (err error) { _, err = a.PauseTenant(cmd.Context(), args[0], pause); return err }); err != nil {
				return err
			}
			state := "paused"
			if !pause {
				state = "resumed"
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "tenant %s %s\n", args[0], state)
			return err
		},
	}
}

func newTenantDeleteCmd(f *managerAPIFlags) *cobra.Command {
	return &cobra.Command{
		Use: "delete ID", Short: "Delete a tenant without active sectors (revokes its tokens)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.admin(cmd.Context(), func(a api.AdminAPI) (err error) { _, err = a.DeleteTenant(cmd.Context(), args[0]); return err }); err != nil {
				return err
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "tenant %s deleted\n", args[0])
			return err
		},
	}
}

// issueTokenCmd issues a token for req (role preset by the caller).
func issueToken(cmd *cobra.Command, f *managerAPIFlags, req api.TokenRequest, ttl string, asJSON bool) error {
	if ttl != "" {
		if err := req.TTL.UnmarshalText([]byte(ttl)); err != nil {
			return fmt.Errorf("bad --ttl %q: %w", ttl, err)
		}
	}
	var it api.IssuedToken
	if err := f.admin(cmd.Context(), func(a api.AdminAPI) (err error) { it, err = a.IssueToken(cmd.Context(), req); return err }); err != nil {
		return err
	}
	if asJSON {
		return printJSON(cmd.OutOrStdout(), it)
	}
	_, err := fmt.Fprintln(cmd.OutOrStdout(), it.Token)
	return err
}

func newTenantTokenCmd(f *managerAPIFlags) *cobra.Command {
	var role, ttl, note string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "token ID",
		Short: "Issue a token for a tenant (role tenant, or signer for its sealant signer)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if role != "tenant" && role != "signer" {
				return fmt.Errorf("--role must be tenant or signer")
			}
			return issueToken(cmd, f, api.TokenRequest{Role: role, Tenant: args[0], Note: note}, ttl, asJSON)
		},
	}
	cmd.Flags().StringVar(&role, "role", "tenant", "tenant or signer")
	cmd.Flags().StringVar(&ttl, "ttl", "", "lifetime (e.g. 720h; empty = no expiry)")
	cmd.Flags().StringVar(&note, "note", "", "note kept with the token record")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (id, token, expiry)")
	return cmd
}

func newAdminTokenCmd(f *managerAPIFlags) *cobra.Command {
	tok := &cobra.Command{Use: "token", Short: "Issue, list and revoke tokens"}
	var req api.TokenRequest
	var ttl string
	var asJSON bool
	issue := &cobra.Command{
		Use:   "issue --role worker --subject NAME",
		Short: "Issue a token (worker tokens need --subject, the worker name)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return issueToken(cmd, f, req, ttl, asJSON)
		},
	}
	issue.Flags().StringVar(&req.Role, "role", "worker", "admin, tenant, worker, signer or metrics (scrapes /metrics only)")
	issue.Flags().StringVar(&req.Tenant, "tenant", "", "tenant (required for tenant and signer; confines a worker)")
	issue.Flags().StringVar(&req.Subject, "subject", "", "principal name (the worker name for worker tokens)")
	issue.Flags().StringVar(&ttl, "ttl", "", "lifetime (empty = no expiry)")
	issue.Flags().StringVar(&req.Note, "note", "", "note kept with the token record")
	issue.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	revoke := &cobra.Command{
		Use: "revoke ID", Short: "Revoke a token by id (jti)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.admin(cmd.Context(), func(a api.AdminAPI) error { return a.RevokeToken(cmd.Context(), args[0]) }); err != nil {
				return err
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "token %s revoked\n", args[0])
			return err
		},
	}
	var listJSON bool
	list := &cobra.Command{
		Use: "list [TENANT]", Short: "List tokens of a tenant (none: admin and worker tokens)", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tenant := ""
			if len(args) == 1 {
				tenant = args[0]
			}
			var ts []api.TokenInfo
			if err := f.admin(cmd.Context(), func(a api.AdminAPI) (err error) { ts, err = a.ListTokens(cmd.Context(), tenant); return err }); err != nil {
				return err
			}
			if listJSON {
				if ts == nil {
					ts = []api.TokenInfo{}
				}
				return printJSON(cmd.OutOrStdout(), ts)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tROLE\tTENANT\tISSUED\tEXPIRES\tREVOKED\tNOTE")
			for _, t := range ts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, t.Tenant, fmtTime(t.IssuedAt), fmtTime(t.ExpiresAt), fmtTime(t.RevokedAt), t.Note)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")
	tok.AddCommand(issue, revoke, list)
	return tok
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func newAdminUsageCmd(f *managerAPIFlags) *cobra.Command {
	var req api.UsageRequest
	var from, to string
	var asJSON, asCSV bool
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Usage per tenant: sectors, bytes, CPU-seconds per stage (default: last 30 days)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, p := range []struct {
				s   string
				dst *time.Time
			}{{from, &req.From}, {to, &req.To}} {
				if p.s == "" {
					continue
				}
				t, err := time.Parse(time.RFC3339, p.s)
				if err != nil {
					return fmt.Errorf("bad time %q: want RFC 3339", p.s)
				}
				*p.dst = t
			}
			if asCSV {
				var csv string
				if err := f.admin(cmd.Context(), func(a api.AdminAPI) (err error) { csv, err = a.UsageCSV(cmd.Context(), req); return err }); err != nil {
					return err
				}
				_, err := io.WriteString(cmd.OutOrStdout(), csv)
				return err
			}
			var us []api.TenantUsage
			if err := f.tenant(cmd.Context(), func(t api.TenantAPI) (err error) { us, err = t.Usage(cmd.Context(), req); return err }); err != nil {
				return err
			}
			if asJSON {
				if us == nil {
					us = []api.TenantUsage{}
				}
				return printJSON(cmd.OutOrStdout(), us)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TENANT\tALLOCATED\tFINALIZED\tBYTES\tCPU-SECONDS")
			for _, u := range us {
				var cpu float64
				for _, v := range u.CPUSeconds {
					cpu += v
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\n", u.Tenant, u.SectorsAllocated, u.SectorsFinalized, u.BytesFinalized, cpu)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&req.Tenant, "tenant", "", "only this tenant")
	cmd.Flags().StringVar(&from, "from", "", "period start (RFC 3339)")
	cmd.Flags().StringVar(&to, "to", "", "period end (RFC 3339, exclusive)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&asCSV, "csv", false, "print CSV")
	return cmd
}

func newAdminWorkersCmd(f *managerAPIFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "workers",
		Short: "List workers and their sealing threads (from their heartbeats)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ws []api.WorkerInfo
			if err := f.admin(cmd.Context(), func(a api.AdminAPI) (err error) { ws, err = a.Workers(cmd.Context()); return err }); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), ws)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "WORKER\tTHREAD\tSTATE\tSTAGE\tSECTOR\tPAUSED\tLAST SEEN")
			for _, w := range ws {
				for _, t := range w.Threads {
					sec := "-"
					if t.Sector != nil {
						sec = t.Sector.String()
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\t%s\n", w.Name, t.Name, t.State, t.Stage, sec, t.Paused, fmtTime(w.LastSeen))
				}
				if len(w.Threads) == 0 {
					fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t%s\n", w.Name, fmtTime(w.LastSeen))
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newAdminExpiredCmd(f *managerAPIFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "expired-leases",
		Short: "List active sectors whose worker stopped renewing the lease",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ss []api.SectorInfo
			if err := f.admin(cmd.Context(), func(a api.AdminAPI) (err error) { ss, err = a.ExpiredLeases(cmd.Context()); return err }); err != nil {
				return err
			}
			return printSectors(cmd, ss, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
