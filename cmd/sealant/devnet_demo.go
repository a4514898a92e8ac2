package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sealant/sealant/demo"
)

// Bare `sealant devnet` is the end-to-end demo (package demo); its `init`
// and `run` subcommands (devnet.go) serve the chain alone.
func init() {
	var (
		sectors     int
		keepRunning bool
		asJSON      bool
		dir         string
		timeout     time.Duration
		verbose     bool
		windowPoSt  bool
		batchSize   int
		venusWallet string
	)
	devnetCmd.Long = `Without a subcommand: run the end-to-end demo on this machine, with no
external service. One process starts the embedded devnet chain, a manager
(SQLite), two sealing workers from a template and, for each of three
tenants, its own signer (keys imported from the devnet's owner key files into
the tenant's own keystore); sp1 (Architecture 2) also gets its own receiver.

sp1's and sp2's sectors (CC and data, 2KiB) are sealed with interactive
PoRep (PreCommit, seed wait, ProveCommit); sp3's (CC only) with NI-PoRep
(FIP-0092: no PreCommit, no seed, one ProveCommitSectorsNI per batch). All
are committed on chain in batches and delivered: sp1's to its receiver,
which verifies them against the chain; sp2's and sp3's into the provider's
store (Architecture 1), where the provider proves them with WindowPoSt
(--windowpost waits for the first one) and the demo runs the same verified
import. --json tenant objects say "porep": "ni" or "interactive", and
"signer": "sealant" or "venus-wallet".

With --venus-wallet BIN, sp1's signer is an unmodified venus-wallet at BIN
instead: its repository is DIR/tenants/sp1/venus-wallet, sp1's owner and
worker keys are created inside it (BIN new secp256k1, BIN new bls) and
funded at genesis, and it connects to the manager's venus-gateway wallet
API (/rpc/v1) with sp1's signer token. Give it on a directory's first run.

Progress goes to stderr, one line per tenant; the summary table (or, with
--json, one JSON object) goes to stdout, last. Exit status 0 only if every
sector was proven and verified. 'sealant devnet init' and 'sealant devnet
run' serve the chain alone.

DEVNET ONLY: proofs are the devnet's labelled vanilla-proof stand-ins.`
	devnetCmd.Args = cobra.NoArgs
	devnetCmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if sectors < 1 || sectors > 64 {
			return withExitCode(2, errors.New("--sectors must be between 1 and 64"))
		}
		if batchSize != 0 && (batchSize < 2 || batchSize > 16) {
			return withExitCode(2, errors.New("--batch must be 0 (lone threads) or between 2 and 16"))
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		workDir := dir
		stderr := cmd.ErrOrStderr()
		if workDir == "" {
			d, err := os.MkdirTemp("", "sealant-devnet-demo-")
			if err != nil {
				return err
			}
			workDir = d
			if !keepRunning {
				defer func() {
					os.RemoveAll(d)
					fmt.Fprintf(stderr, "sealant devnet demo: removed %s (run with --dir DIR to keep the logs and data)\n", d)
				}()
			}
		}
		tty := false
		if f, ok := stderr.(*os.File); ok {
			tty = term.IsTerminal(int(f.Fd()))
		}
		// Components retry through transient conditions (a batch not
		// landed yet, a delivery waiting for its metadata) and warn about
		// each; on the console only errors are shown unless --verbose. The
		// full log at warning level goes to DIR/demo.log.
		level := slog.LevelWarn
		if verbose {
			level = slog.LevelInfo
		}
		if err := os.MkdirAll(workDir, 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(filepath.Join(workDir, "demo.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		var console slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})
		if verbose {
			console = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
		}
		if tty && !verbose {
			// Log lines would tear the redrawn status lines.
			console = nil
		}
		logger := slog.New(teeHandler{slog.NewTextHandler(f, &slog.HandlerOptions{Level: level}), console})
		fmt.Fprintf(stderr, "sealant devnet demo: %d sectors per tenant, directory %s%s\n", sectors, workDir, workDirNote(dir == "", keepRunning))
		out := cmd.OutOrStdout()
		printed := false
		report := func(sum *demo.Summary) {
			printed = true
			if asJSON {
				printJSON(out, sum)
				return
			}
			printDemoTable(out, sum)
		}
		sum, err := demo.Run(ctx, demo.Config{
			Dir: workDir, Sectors: sectors, Timeout: timeout, KeepRunning: keepRunning, Self: selfPath(), WaitWindowPoSt: windowPoSt,
			BatchSize: batchSize, VenusWallet: venusWallet,
			Logger:   logger,
			Progress: stderr, Redraw: tty && !verbose,
			// With --keep-running the summary is printed when the run is
			// decided, not after the interrupt.
			OnSummary: func(sum *demo.Summary, _ error) {
				if keepRunning {
					report(sum)
				}
			},
			Ready: func(e demo.Endpoints) {
				if keepRunning {
					fmt.Fprintf(stderr, "FULLNODE_API_INFO=%s\nSEALANT_API_INFO=$(cat %s):%s\n", e.FullNodeAPIInfo, e.AdminTokenFile, e.ManagerURL)
				}
			},
		})
		if sum == nil {
			return err
		}
		if !printed {
			report(sum)
		}
		if err != nil {
			return withExitCode(1, err)
		}
		return nil
	}
	f := devnetCmd.Flags()
	f.IntVar(&sectors, "sectors", 4, "sectors per tenant")
	f.IntVar(&batchSize, "batch", 0, "run the workers' threads as batch threads of this many sectors (batch PC1; 0 = lone threads)")
	f.BoolVar(&keepRunning, "keep-running", false, "keep every component running after the summary (until interrupted)")
	f.BoolVar(&asJSON, "json", false, "print the summary as one JSON object (last on stdout)")
	f.StringVar(&dir, "dir", "", "demo directory (default: a temporary one, removed at the end unless --keep-running)")
	f.DurationVar(&timeout, "timeout", 3*time.Minute, "give up after this long")
	f.BoolVar(&verbose, "verbose", false, "component logs at info level on stderr")
	f.StringVar(&venusWallet, "venus-wallet", "", "sp1 signs with this venus-wallet binary (keys created inside it, funded at genesis, connected to the manager's gateway wallet API) instead of `sealant signer`")
	f.BoolVar(&windowPoSt, "windowpost", true, "also wait until sp2's and sp3's (Architecture 1) sectors were proven in a WindowPoSt (up to a proving period, about a minute)")
}

// teeHandler sends records to a file handler and, when set, a console one.
type teeHandler struct{ file, console slog.Handler }

func (h teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.file.Enabled(ctx, l) || h.console != nil && h.console.Enabled(ctx, l)
}

func (h teeHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.file.Handle(ctx, r.Clone())
	if h.console != nil && h.console.Enabled(ctx, r.Level) {
		if cerr := h.console.Handle(ctx, r); err == nil {
			err = cerr
		}
	}
	return err
}

func (h teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	t := teeHandler{file: h.file.WithAttrs(as)}
	if h.console != nil {
		t.console = h.console.WithAttrs(as)
	}
	return t
}

func (h teeHandler) WithGroup(name string) slog.Handler {
	t := teeHandler{file: h.file.WithGroup(name)}
	if h.console != nil {
		t.console = h.console.WithGroup(name)
	}
	return t
}

// selfPath is this binary (workers use it for external processors).
func selfPath() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	return p
}

// printDemoTable prints the per-tenant summary.
func printDemoTable(w io.Writer, s *demo.Summary) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tMINER\tARCH\tPOREP\tSIGNER\tSECTORS\tDATA\tPROVEN\tDELIVERED\tVERIFIED\tWINDOWPOST\tFAILED\tMESSAGES\tFEES (attoFIL)")
	for _, t := range s.Tenants {
		wp := "-"
		if t.Architecture == 1 {
			wp = fmt.Sprint(t.WindowPoSt)
		}
		porep := t.PoRep
		if porep == "" {
			porep = "interactive"
		}
		signer := t.Signer
		if signer == "" {
			signer = "sealant"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%d\t%s\n", t.Tenant, t.Miner, t.Architecture, porep, signer, t.Sectors, t.DataSectors,
			t.Proven, t.Delivered, t.Verified, wp, t.Failed, t.Messages, t.FeesAttoFIL)
	}
	tw.Flush()
	for _, t := range s.Tenants {
		if t.SealedS > 0 && t.Verified > 0 {
			fmt.Fprintf(w, "%s (%s): %d sectors verified after %.1fs, %.1f sectors/minute, %.2f messages per sector\n",
				t.Tenant, t.PoRep, t.Verified, t.SealedS, t.SectorsPerMinute, float64(t.Messages)/float64(t.Verified))
		}
	}
	for _, t := range s.Tenants {
		fmt.Fprintf(w, "\n%s time per stage (median / max, seconds):\n", t.Tenant)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, st := range t.Stages {
			fmt.Fprintf(tw, "  %s\t%.2f\t%.2f\n", st.Stage, st.MedianS, st.MaxS)
		}
		tw.Flush()
		for _, f := range t.Failures {
			fmt.Fprintf(w, "  failed %s\n", f)
		}
	}
	status := "OK: every sector proven and verified"
	if !s.OK {
		status = "NOT OK: " + s.Error
	}
	fmt.Fprintf(w, "\nall sectors verified after %.1fs (%.1f sectors/minute on %d cores); elapsed %.1fs — %s\n",
		s.SealedS, s.SectorsPerMinute, s.Cores, s.ElapsedS, status)
}

// workDirNote says what becomes of the demo directory: a temporary one is
// deleted at exit (unless --keep-running), so its path is only useful
// while the demo runs.
func workDirNote(temporary, keepRunning bool) string {
	switch {
	case !temporary:
		return " (kept)"
	case keepRunning:
		return " (temporary; kept after exit because of --keep-running)"
	}
	return " (temporary: deleted at exit; use --dir DIR to keep it)"
}
