package main

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/sdr"
)

// benchPC1Output is the --json document of "bench pc1". The first eight
// fields are the contract; the rest put the figure beside its yardstick
// and the memory model.
type benchPC1Output struct {
	Proof           string  `json:"proof"`
	Sectors         int     `json:"sectors"`
	Layers          int     `json:"layers"`
	Labels          int64   `json:"labels"`
	WallS           float64 `json:"wall_s"`
	CPUS            float64 `json:"cpu_s"`
	Cores           int     `json:"cores"`
	NsPerLabelCore  float64 `json:"ns_per_label_core"`
	SHA256NsPerMsg  float64 `json:"sha256_ns_per_label_message"`
	RatioVsSHA256   float64 `json:"ratio_vs_sha256"`
	Hash            string  `json:"hash"`
	PeakRSSBytes    int64   `json:"peak_rss_bytes"`
	MemoryModelByte int64   `json:"memory_model_bytes"`
	LoadAverage     string  `json:"load_average,omitempty"`
}

func init() {
	var (
		proofName, parentDir, scratch, memArg string
		sectors, layers, cores                int
		asJSON                                bool
	)
	cmd := &cobra.Command{
		Use:   "pc1 --proof SIZE --sectors N [--layers L] [--cores C] [--json]",
		Short: "Batch PC1 labelling speed: ns per label per core, beside crypto/sha256",
		Long: `Label N sectors of random replica ids in one batch (sdr.RunPC1Batch, layer
files written to a scratch directory and removed afterwards) and report the
cost per label per core: ns_per_label_core = wall_s × cores × 1e9 / labels,
cores being GOMAXPROCS (set it with --cores). The parent cache is built or
loaded and verified first, outside the timed part.

Beside it, measured in the same run on one core: the time Go's crypto/sha256
takes for one 1,248-byte label message, and the ratio of the two, which is
what carries over between machines. peak_rss_bytes is the process's peak
resident memory; memory_model_bytes what sdr.BatchMemory says the batch needs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer resetFlags(cmd)
			proof, err := abi.ParseSealProof(proofName)
			if err != nil {
				return withExitCode(2, fmt.Errorf("--proof %q: want 2KiB, 8MiB, 512MiB, 32GiB, 64GiB or a V1_1 proof name", proofName))
			}
			if proof.IsLegacy() {
				return withExitCode(2, fmt.Errorf("--proof %s: only V1_1 proofs are sealed", proof))
			}
			if sectors < 1 {
				return withExitCode(2, errors.New("--sectors must be at least 1"))
			}
			if layers < 0 || layers > proof.Layers() {
				return withExitCode(2, fmt.Errorf("--layers must be 1…%d (0 = all)", proof.Layers()))
			}
			if layers == 0 {
				layers = proof.Layers()
			}
			if cores > 0 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cores))
			}
			cores = runtime.GOMAXPROCS(0)
			limit, err := memoryLimit(memArg)
			if err != nil {
				return withExitCode(2, fmt.Errorf("--memory: %w", err))
			}
			if err := sdr.CheckBatchMemory(proof, sectors, limit); err != nil {
				return err
			}
			need := sdr.BatchMemory(proof, sectors)
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			ctx := cmd.Context()

			pc, err := sdr.OpenParentCache(ctx, proof, parentDir, 0, log)
			if err != nil {
				return err
			}
			defer pc.Close()
			yard := sha256LabelNs()

			root, err := os.MkdirTemp(scratch, "sealant-bench-pc1-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(root)
			batch := make([]sdr.BatchSector, sectors)
			for i := range batch {
				var id [32]byte
				rand.Read(id[:])
				id[31] &= 0x3f
				batch[i] = sdr.BatchSector{CacheDir: filepath.Join(root, strconv.Itoa(i)), ReplicaID: id}
			}
			cpu0 := processCPU()
			t0 := time.Now()
			_, err = sdr.RunPC1Batch(ctx, proof, batch, &sdr.BatchOptions{Parents: pc, Workers: cores, Layers: layers, Logger: log})
			wall := time.Since(t0).Seconds()
			cpu := processCPU() - cpu0
			if err != nil {
				return err
			}
			labels := int64(proof.Nodes()) * int64(layers) * int64(sectors)
			out := benchPC1Output{
				Proof: proof.String(), Sectors: sectors, Layers: layers, Labels: labels,
				WallS: wall, CPUS: cpu, Cores: cores,
				NsPerLabelCore: wall * float64(cores) * 1e9 / float64(labels),
				SHA256NsPerMsg: yard, Hash: sdr.HashImpl(),
				PeakRSSBytes: peakRSS(), MemoryModelByte: need, LoadAverage: loadAverage(),
			}
			out.RatioVsSHA256 = out.NsPerLabelCore / yard
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(),
				"%s × %d sectors, %d layers, %d cores, %s: %.1f ns per label per core (%.2f s wall, %.2f s CPU)\n"+
					"crypto/sha256, one 1,248-byte label message on one core: %.1f ns; ratio %.3f\n"+
					"peak RSS %.1f MiB (model %.1f MiB); load average %s\n",
				out.Proof, sectors, layers, cores, out.Hash, out.NsPerLabelCore, wall, cpu, yard, out.RatioVsSHA256,
				float64(out.PeakRSSBytes)/(1<<20), float64(need)/(1<<20), out.LoadAverage)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&proofName, "proof", "", "seal proof: 2KiB, 8MiB, 512MiB, 32GiB, 64GiB")
	f.IntVar(&sectors, "sectors", 1, "sectors in the batch")
	f.IntVar(&layers, "layers", 0, "layers to label (0 = all)")
	f.IntVar(&cores, "cores", 0, "GOMAXPROCS for the run (0 = unchanged)")
	f.StringVar(&parentDir, "parent-cache-dir", "", "SDR parent cache directory (default $FIL_PROOFS_PARENT_CACHE or /var/tmp/filecoin-parents)")
	f.StringVar(&scratch, "dir", "", "scratch directory for the layer files (default: the system temp dir)")
	f.StringVar(&memArg, "memory", "", "refuse a batch needing more than this (default: the machine's RAM; 0 = no limit)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	benchCommand().AddCommand(cmd)
}

// sha256LabelNs times crypto/sha256 over one 1,248-byte SDR label message
// on the calling goroutine for about half a second, best of three.
func sha256LabelNs() float64 {
	var msg [64 + 37*32]byte
	best := 0.0
	for range 3 {
		n := 0
		t0 := time.Now()
		for time.Since(t0) < 150*time.Millisecond {
			for range 1000 {
				s := sha256.Sum256(msg[:])
				msg[0] = s[0]
			}
			n += 1000
		}
		ns := float64(time.Since(t0).Nanoseconds()) / float64(n)
		if best == 0 || ns < best {
			best = ns
		}
	}
	return best
}
