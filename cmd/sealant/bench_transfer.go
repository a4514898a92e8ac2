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
and receiver (chunked upload, chunk and whole-file SHA-256, fsync per chunk) over
127.0.0.1, and compare with the raw loopback TCP throughput measured in the same
run. The receiver's proof checks are skipped (the data is not a real sector); peak
memory covers both ends, which share this process.`,
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
			fmt.Fprintf(w, "%s: %d bytes in %.2fs = %.0f MB/s (chunk %d, GOMAXPROCS %d)\n",
				rep.Proof, rep.Bytes, rep.Seconds, rep.MBps, rep.ChunkSize, rep.GOMAXPROCS)
			fmt.Fprintf(w, "loopback raw %.0f MB/s (ratio %.2f), file copy over loopback %.0f MB/s (ratio %.2f)\n",
				rep.LoopbackMBps, rep.Ratio, rep.CopyMBps, rep.RatioCopy)
			fmt.Fprintf(w, "disk write with fsync per chunk %.0f MB/s (ratio %.2f), sha256 %.0f MB/s per core\n",
				rep.DiskMBps, rep.RatioDisk, rep.SHA256MBps)
			fmt.Fprintf(w, "peak RSS %.1f MiB, peak Go heap %.1f MiB\n", rep.PeakRSSMiB, rep.PeakHeapMiB)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&proof, "proof", "StackedDrg512MiBV1_1", "seal proof (sets the sector size)")
	f.StringVar(&cfg.Dir, "dir", "", "work directory (default: a temporary one)")
	f.Int64Var(&cfg.ChunkSize, "chunk", delivery.DefaultChunkSize, "chunk size in bytes")
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
