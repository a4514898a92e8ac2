package worker

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
)

// Child process modes: the kill -9 and processor tests re-execute the test
// binary instead of building cmd/sealant, so they test exactly this code.
const (
	envChildWorker    = "SEALANT_TEST_WORKER_CONFIG" // run a worker from this config
	envChildProcessor = "SEALANT_TEST_PROCESSOR"     // serve this built-in stage
)

func TestMain(m *testing.M) {
	if path := os.Getenv(envChildWorker); path != "" {
		os.Exit(childWorker(path))
	}
	if stage := os.Getenv(envChildProcessor); stage != "" {
		h, err := BuiltinHandler(stage, BuiltinOptions{Devnet: true, Workers: 1})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := ServeProcessor(context.Background(), stage, h, os.Stdin, os.Stdout, nil); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if extprocBin != "" {
		os.RemoveAll(filepath.Dir(extprocBin))
	}
	os.Exit(code)
}

func childWorker(path string) int {
	cfg, err := LoadConfig(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	self, _ := os.Executable()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	w, err := New(ctx, cfg, Options{Self: self, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := w.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
