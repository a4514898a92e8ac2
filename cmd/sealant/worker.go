package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/delivery"
	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/worker"
)

func init() {
	cfgCmd := &cobra.Command{Use: "config", Short: "Worker configuration"}
	cfgCmd.AddCommand(&cobra.Command{
		Use:   "default",
		Short: "Print a commented worker.toml template",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), worker.DefaultTemplate)
			return err
		},
	}, &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a worker.toml without starting anything",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := worker.LoadConfig(args[0]); err != nil {
				return err
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "ok")
			return err
		},
	})
	workerCmd.AddCommand(newWorkerRunCmd(), cfgCmd, newWorkerThreadsCmd(),
		newWorkerControlCmd("pause", "Pause a sealing thread (interrupts its current step)"),
		newWorkerControlCmd("resume", "Resume a paused sealing thread"))
}

func newWorkerRunCmd() *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a sealing worker",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := worker.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("worker: locate own binary: %w", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
			// Architecture 2 deliveries upload to the SP's receiver with the
			// delivery client; its rejections match worker.ErrDeliveryRejected.
			tr := &delivery.Client{RejectedError: worker.ErrDeliveryRejected, Logger: log.With("component", "delivery")}
			w, err := worker.New(ctx, cfg, worker.Options{Self: self, Logger: log, Transferer: tr})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "admin api: %s\n", w.AdminURL())
			if err := w.Run(ctx); err != nil && ctx.Err() == nil {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "worker.toml", "worker config file (see 'sealant worker config default')")
	return cmd
}

func dialWorkerAdmin(ctx context.Context, url string) (*rpc.Client, error) {
	return rpc.Dial(ctx, url, rpc.WithCallTimeout(2*time.Minute))
}

func newWorkerThreadsCmd() *cobra.Command {
	var url string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "threads",
		Short: "List a worker's sealing threads: state, stage, sector, age",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := dialWorkerAdmin(cmd.Context(), url)
			if err != nil {
				return err
			}
			var threads []api.ThreadInfo
			if err := c.Call(cmd.Context(), worker.MethodWorkerList, &threads); err != nil {
				return fmt.Errorf("worker threads: %w", err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), threads)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "THREAD\tSTATE\tSTAGE\tSECTOR\tAGE\tMANAGER\tERROR")
			for _, t := range threads {
				sector := "-"
				if t.Sector != nil {
					sector = t.Sector.String()
				}
				age := "-"
				if !t.Since.IsZero() {
					age = time.Since(t.Since).Round(time.Second).String()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.State, orDash(t.Stage), sector, age, t.Manager, orDash(t.Error))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&url, "api", "http://127.0.0.1:17890/rpc/v0", "worker admin API URL")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newWorkerControlCmd(verb, short string) *cobra.Command {
	var url, state string
	cmd := &cobra.Command{
		Use:   verb + " THREAD",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dialWorkerAdmin(cmd.Context(), url)
			if err != nil {
				return err
			}
			if verb == "pause" {
				err = c.Call(cmd.Context(), worker.MethodWorkerPause, nil, args[0])
			} else {
				err = c.Call(cmd.Context(), worker.MethodWorkerResume, nil, args[0], state)
			}
			if err != nil {
				return fmt.Errorf("worker %s %s: %w", verb, args[0], err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "api", "http://127.0.0.1:17890/rpc/v0", "worker admin API URL")
	if verb == "resume" {
		cmd.Flags().StringVar(&state, "state", "", "force an earlier main-line state (e.g. PC2Done)")
	}
	return cmd
}
