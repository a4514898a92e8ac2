package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/manager/bench"
)

func init() {
	benchCmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmarks of Sealant services (loopback only, bounded in time)",
	}
	var cfg bench.Config
	var asJSON bool
	var cpuProfile, memProfile string
	var clientProcess, timeline bool
	mgr := &cobra.Command{
		Use:   "manager",
		Short: "Simulate N sealing threads against an in-process manager over loopback",
		Long: `Start a manager on 127.0.0.1 (SQLite in a temp dir, or --database), with a fake
chain and a store-driven stand-in for the commit pipeline, and run N simulated
sealing threads, each making one worker-API call per --interval in a real
thread's order. Reports req/s and p50/p99 per method. The threads run in the
manager's process, or in a child process of their own with --client-process (as
real workers do: the manager's garbage collector then sees only its own work);
either way they share this machine's cores with the manager, so figures are a
floor for the server alone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Only failures: per-sector info logs would drown the figures.
			cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelError}))
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			if clientProcess {
				exe, err := os.Executable()
				if err != nil {
					return fmt.Errorf("bench: find this program to run the simulated workers: %w", err)
				}
				cfg.ClientProcess = func(ctx context.Context) *exec.Cmd {
					return exec.CommandContext(ctx, exe, "bench", "manager-client", "--log-level", "error")
				}
			}
			rep, err := bench.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if memProfile != "" {
				if err := writeHeapProfile(memProfile); err != nil {
					return err
				}
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "threads %d  store %s  transport %s  measured %s after %s warm-up  requests %d  errors %d  %.0f req/s  p50 %s  p99 %s\n",
				rep.Threads, rep.Store, rep.Transport, rep.Duration.Round(time.Millisecond), rep.Warmup, rep.Requests, rep.Errors, rep.ReqPerSec, ms(rep.P50), ms(rep.P99))
			fmt.Fprintf(w, "sectors allocated %d, finalized %d; calls unanswered at the end %d (of them started in the window %d); threads that never got a sector %d; calls an interval or more behind schedule %d; max in flight %d\n",
				rep.Sectors, rep.Finalized, rep.UnansweredAtEnd, rep.Unfinished, rep.ThreadsWithoutSector, rep.Lagging, rep.MaxInflight)
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "METHOD\tCALLS\tERRORS\tP50\tP99\tMAX\t")
			for _, m := range rep.Methods {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t\n", m.Method, m.Calls, m.Errors, ms(m.P50), ms(m.P99), ms(m.Max))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if rep.PG != nil {
				fmt.Fprintf(w, "postgresql: write transactions (xid advance, whole cluster) %d = %.2f per allocated sector; committed transactions (xact_commit, this database) %d = %.2f per allocated sector\n",
					rep.PG.WriteTx, rep.PG.WriteTxPerSector, rep.PG.Commits, rep.PG.CommitsPerSector)
			}
			if timeline {
				if err := printTimeline(w, rep.Seconds); err != nil {
					return err
				}
			}
			for _, m := range rep.Methods {
				if m.FirstError != "" {
					fmt.Fprintf(w, "first error of %s: %s\n", m.Method, m.FirstError)
				}
			}
			return nil
		},
	}
	f := mgr.Flags()
	f.IntVar(&cfg.Threads, "threads", 1000, fmt.Sprintf("simulated sealing threads (max %d)", bench.MaxThreads))
	f.DurationVar(&cfg.Duration, "duration", 30*time.Second, fmt.Sprintf("load duration (max %s)", bench.MaxDuration))
	f.DurationVar(&cfg.Interval, "interval", time.Second, "pause between a thread's calls")
	f.DurationVar(&cfg.Ramp, "ramp", 0, "spread the threads' first calls over this (default min(10s, duration))")
	f.DurationVar(&cfg.Warmup, "warmup", 0, "run unmeasured first (default: the ramp)")
	f.IntVar(&cfg.ThreadsPerWorker, "threads-per-worker", 64, "threads per worker token")
	f.StringVar(&cfg.Database, "database", "", "store DSN (default: SQLite in a temp dir; postgres://… for PostgreSQL)")
	f.IntVar(&cfg.Tenants, "tenants", 3, "tenants (weights 1..n)")
	f.IntVar(&cfg.PollsPerStage, "polls", 20, "mean polls per on-chain wait (each thread varies it ±50%)")
	f.IntVar(&cfg.MaxConns, "max-conns", 512, "client connections to the server (http transport)")
	f.StringVar(&cfg.Transport, "transport", "http", "worker transport: http (a POST per call) or ws (one WebSocket per worker)")
	f.Int64Var(&cfg.MaxRequests, "max-requests", 0, "stop after this many calls (0 = duration only)")
	f.BoolVar(&cfg.PGStats, "pg-stats", false, "PostgreSQL only: count the run's transactions from PostgreSQL's statistics (xid advance: whole cluster; xact_commit: this database), per allocated sector")
	f.BoolVar(&cfg.ReportSteps, "report-steps", false, "each thread also reports every state change of its sector (ReportState), as a real worker thread does")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&timeline, "timeline", false, "also print the run second by second (warm-up included): calls, writes, unanswered, p50, p99, max (--json always has it)")
	f.BoolVar(&clientProcess, "client-process", false, "run the simulated workers in a child process of their own instead of the manager's process")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of this process (the manager, and the simulated workers unless --client-process) to this file")
	f.StringVar(&memProfile, "memprofile", "", "write a heap profile of this process at the end of the run (the manager, and the simulated workers unless --client-process; see its alloc_space view) to this file")
	benchCmd.AddCommand(mgr)
	benchCmd.AddCommand(&cobra.Command{
		Use:    "manager-client",
		Short:  "The simulated workers of \"bench manager\" (its child process: the run on stdin, the result on stdout)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return bench.ServeClient(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout())
		},
	})
	extraRootCmds = append(extraRootCmds, benchCmd)
}

// printTimeline prints a run second by second.
func printTimeline(w io.Writer, secs []bench.SecondStats) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SECOND\t\tCALLS\tWRITES\tUNANSWERED\tP50\tP99\tMAX\t")
	for _, s := range secs {
		phase := ""
		if s.Warmup {
			phase = "warm-up"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t\n", s.Second, phase, s.Calls, s.Writes, s.Unanswered, ms(s.P50), ms(s.P99), ms(s.Max))
	}
	return tw.Flush()
}

// startCPUProfile starts a pprof CPU profile into path; the returned
// function stops it and closes the file.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeHeapProfile writes the heap profile, whose alloc_* samples cover
// the whole run, to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	runtime.GC() // the in-use figures as of now, not the last collection
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	return f.Close()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
