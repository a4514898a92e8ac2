package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/worker"
)

func init() {
	var o worker.BuiltinOptions
	cmd := &cobra.Command{
		Use:   "processor STAGE",
		Short: "Serve one of Sealant's stages (pc1, pc2, c2, transfer) as an external processor",
		Long: `Serve one of Sealant's sealing stages over damocles' external-processor
protocol: prints "<stage> processor ready", then reads {"id","task"} JSON
lines on stdin and answers {"id","err_msg","output"} lines on stdout, one
goroutine per task, until stdin ends. Logs go to stderr.

c2 answers with the labelled devnet proof only with --devnet: Sealant has no
Groth16 prover.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := worker.BuiltinHandler(args[0], o)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)).With("stage", args[0])
			return worker.ServeProcessor(ctx, args[0], h, cmd.InOrStdin(), cmd.OutOrStdout(), log)
		},
	}
	cmd.Flags().StringVar(&o.ParentCacheDir, "parent-cache", "", "SDR parent cache directory")
	cmd.Flags().IntVar(&o.Workers, "workers", 0, "goroutines per task (0 = all cores)")
	cmd.Flags().BoolVar(&o.Devnet, "devnet", false, "c2: answer with the devnet stand-in proof (NOT a SNARK)")
	extraRootCmds = append(extraRootCmds, cmd)
}
