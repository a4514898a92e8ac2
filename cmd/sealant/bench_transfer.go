package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/delivery"
	"github.com/sealant/sealant/proofs/abi"
)

func init() {
	var cfg delivery.BenchConfig
	var proof string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "transfer",
		Short: "Deliver a generated sector to an in-process receiver over loopback",
		Long: `Generate a sector-sized replica plus cache files, deliver them with the real client
and receiver (chunked upload, prefix SHA-256 once on each end, receiver commits every
--commit-bytes and at each file's end) over 127.0.0.1, and compare in the same run with:
raw loopback TCP, a plain and a SHA-256-on-both-ends file copy over loopback, the disk
written the receiver's way, and the CPU budget (cores / CPU per MB of the plain copy plus
two SHA-256 passes). Both ends share this process and its cores, so the ratio to raw
loopback cannot approach 1 with hashing on both ends; ratio_vs_ceiling compares with
min(CPU budget, disk). The receiver's proof checks are skipped (the data is not a real
sector); peak memory covers both ends.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := abi.ParseSealProof(proof)
			if err != nil {
				return withExitCode(2, err)
			}
			cfg.Proof = p
			rep, err := delivery.BenchTransfer(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s: %d bytes in %.2fs = %.0f MB/s (chunk %d, commit every %d, GOMAXPROCS %d)\n",
				rep.Proof, rep.Bytes, rep.Seconds, rep.MBps, rep.ChunkSize, rep.CommitBytes, rep.GOMAXPROCS)
			fmt.Fprintf(w, "loopback raw %.0f MB/s (ratio %.2f), file copy over loopback %.0f MB/s (ratio %.2f), hashed copy %.0f MB/s (ratio %.2f)\n",
				rep.LoopbackMBps, rep.Ratio, rep.CopyMBps, rep.RatioCopy, rep.HashedCopyMBps, rep.RatioHashed)
			fmt.Fprintf(w, "sha256 %.0f MB/s per core; CPU per MB: copy %.2f ms, transfer %.2f ms; CPU budget %.0f MB/s (ratio %.2f)\n",
				rep.SHA256MBps, rep.CopyCPUPerMB, rep.TransferCPUPerMB, rep.CPUBoundMBps, rep.RatioCPU)
			fmt.Fprintf(w, "disk written as the receiver does %.0f MB/s, with fsync per chunk %.0f MB/s; ceiling %.0f MB/s (ratio %.2f)\n",
				rep.DiskCommitMBps, rep.DiskMBps, rep.CeilingMBps, rep.RatioCeiling)
			fmt.Fprintf(w, "peak RSS %.1f MiB, peak Go heap %.1f MiB\n", rep.PeakRSSMiB, rep.PeakHeapMiB)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&proof, "proof", "StackedDrg512MiBV1_1", "seal proof (sets the sector size)")
	f.StringVar(&cfg.Dir, "dir", "", "work directory (default: a temporary one)")
	f.Int64Var(&cfg.ChunkSize, "chunk", delivery.DefaultChunkSize, "chunk size in bytes")
	f.Int64Var(&cfg.CommitBytes, "commit-bytes", delivery.DefaultCommitBytes, "receiver commit size in bytes (fsync and record every so many)")
	f.Int64Var(&cfg.BandwidthLimit, "bandwidth-limit", 0, "client bandwidth limit in bytes/s (0: none)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	benchCommand().AddCommand(cmd)
}

// benchCommand finds the top-level "bench" command another feature file
// registers, creating it if this file's init runs first (init order
// within a package follows file names, which nobody should rely on).
func benchCommand() *cobra.Command {
	for _, c := range extraRootCmds {
		if c.Name() == "bench" {
			return c
		}
	}
	b := &cobra.Command{Use: "bench", Short: "Benchmarks of Sealant services (loopback only, bounded in time)"}
	extraRootCmds = append(extraRootCmds, b)
	return b
}
