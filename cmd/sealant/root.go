package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Subcommand groups. Each feature file in this package attaches its commands
// to one of these in an init function, so features never edit this file.
var (
	proofsCmd = &cobra.Command{
		Use:   "proofs",
		Short: "Proof engine tools: CommP/CommD, sealing, C1, verification, parent caches",
	}
	chainCmd = &cobra.Command{
		Use:   "chain",
		Short: "Filecoin chain tools: addresses, messages, randomness",
	}
	devnetCmd = &cobra.Command{
		Use:   "devnet",
		Short: "Embedded local Filecoin chain serving the Lotus API",
	}
	managerCmd = &cobra.Command{
		Use:   "manager",
		Short: "Multi-tenant sealing manager",
	}
	workerCmd = &cobra.Command{
		Use:   "worker",
		Short: "Sealing worker: sealing threads that pull sectors from managers",
	}
	signerCmd = &cobra.Command{
		Use:   "signer",
		Short: "SP-side signer: local keys, outbound connection, signing policy",
	}
	receiverCmd = &cobra.Command{
		Use:   "receiver",
		Short: "SP-side receiver: verified import of delivered sectors",
	}
)

// rootFlags are the persistent flags every subcommand sees.
type rootFlags struct {
	logLevel  string
	logFormat string
}

func newRootCmd() *cobra.Command {
	var rf rootFlags
	root := &cobra.Command{
		Use:           "sealant",
		Short:         "Sealant: Filecoin sealing-as-a-service",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(cmd.ErrOrStderr(), rf.logLevel, rf.logFormat)
			if err != nil {
				return err
			}
			slog.SetDefault(logger)
			return nil
		},
	}
	// Usage errors (unknown flag, bad flag value) exit 2, so scripts can tell
	// "you called it wrong" from a command's own verdict (exit 1).
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withExitCode(2, err) })
	root.PersistentFlags().StringVar(&rf.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&rf.logFormat, "log-format", "text", "log format: text or json")
	for _, g := range []*cobra.Command{proofsCmd, chainCmd, devnetCmd, managerCmd, workerCmd, signerCmd, receiverCmd} {
		root.AddCommand(g)
	}
	for _, c := range extraRootCmds {
		root.AddCommand(c)
	}
	return root
}

// extraRootCmds holds top-level commands registered by feature files
// (for example "admin", "sectors", "bench", "processor").
var extraRootCmds []*cobra.Command

// newLogger builds the process logger; logs go to stderr so that stdout stays
// machine-readable for --json output.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("bad --log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("bad --log-format %q: want text or json", format)
	}
}

// exitError carries a specific process exit code (for example 1 for "proof
// invalid" as opposed to 2 for a usage error) through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExitCode wraps err so that main exits with code.
func withExitCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// printJSON writes v as one JSON document followed by a newline.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// openInput opens a file argument, where "-" means standard input.
func openInput(cmd *cobra.Command, name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(cmd.InOrStdin()), nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return f, nil
}
