package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/manager/wdpost"
	"github.com/sealant/sealant/worker"
)

func init() {
	var o worker.BuiltinOptions
	cmd := &cobra.Command{
		Use:   "processor STAGE",
		Short: "Serve one of Sealant's stages (tree_d, pc1, pc2, c2, window_post, transfer) as an external processor",
		Long: `Serve one of Sealant's sealing stages over damocles' external-processor
protocol: prints "<stage> processor ready", then reads {"id","task"} JSON
lines on stdin and answers {"id","err_msg","output"} lines on stdout, one
goroutine per task, until stdin ends. Logs go to stderr.

Tasks and outputs have damocles' shapes (docs/processors.md). tree_d, pc1 and
pc2 work from the task content alone, on any directories a damocles worker
names: pc1 answers the full SealPreCommitPhase1Output, pc2 takes it back.

c2 and window_post answer with the labelled devnet stand-ins only with
--devnet: Sealant has no Groth16 prover.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := processorHandler(args[0], o)
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
	cmd.Flags().BoolVar(&o.Devnet, "devnet", false, "c2, window_post: answer with the devnet stand-in proofs (NOT SNARKs)")
	extraRootCmds = append(extraRootCmds, cmd)
}

// processorHandler is worker.BuiltinHandler plus window_post, which lives
// with the manager's WindowPoSt code.
func processorHandler(stage string, o worker.BuiltinOptions) (worker.TaskHandler, error) {
	if stage != "window_post" {
		return worker.BuiltinHandler(stage, o)
	}
	if !o.Devnet {
		return func(context.Context, json.RawMessage) (any, error) {
			return nil, errors.New("window_post: Sealant has no Groth16 prover; run with --devnet for the devnet stand-in, or use a filecoin-proofs processor")
		}, nil
	}
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		return wdpost.HandleTask(ctx, wdpost.DevnetProver{}, raw)
	}, nil
}
