package main

import (
	"encoding/hex"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/sdr"
)

func init() {
	proofsCmd.AddCommand(newParentCacheCmd())
}

// parentCacheOutput is the --json document of "proofs parent-cache".
type parentCacheOutput struct {
	SHA256 string `json:"sha256"`
}

func newParentCacheCmd() *cobra.Command {
	var (
		proofArg, out string
		workers       int
		asJSON        bool
	)
	cmd := &cobra.Command{
		Use:   "parent-cache --proof SIZE [--out FILE]",
		Short: "Compute the SDR parent cache of a seal proof and its SHA-256",
		Long: `Generates the SDR parent cache (14 little-endian u32 parents per node, the
rust-fil-proofs file format) of a seal proof and prints its SHA-256. --proof takes
a size (2KiB, 8MiB, 512MiB, 32GiB, 64GiB: the V1_1 proof), a proof name
(StackedDrg32GiBV1) or an id. Without --out the cache is only streamed through
the hash. A digest that differs from the rust-fil-proofs production digest is an
error. Generation uses every core; a 32GiB cache is 56 GiB and takes hours.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			proof, err := abi.ParseSealProof(proofArg)
			if err != nil {
				return fmt.Errorf("--proof: %w", err)
			}
			g, err := sdr.NewGraph(proof)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var sum [32]byte
			if out != "" {
				sum, err = sdr.GenerateParentCacheFile(ctx, g, out, workers)
			} else {
				sum, err = sdr.ParentCacheDigest(ctx, g, workers)
			}
			if err != nil {
				return err
			}
			digest := hex.EncodeToString(sum[:])
			if want, ok := sdr.ProductionParentCacheDigest(proof); ok && want != digest {
				return fmt.Errorf("parent cache of %v has digest %s, production digest is %s", proof, digest, want)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), parentCacheOutput{SHA256: digest})
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s  %v\n", digest, proof)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&proofArg, "proof", "", "sector size (2KiB|8MiB|512MiB|32GiB|64GiB), proof name or id (required)")
	f.StringVar(&out, "out", "", "write the cache file here (atomically); default: only hash it")
	f.IntVar(&workers, "workers", 0, "parent generation goroutines (0: all cores)")
	f.BoolVar(&asJSON, "json", false, `print {"sha256": HEX}`)
	_ = cmd.MarkFlagRequired("proof")
	return cmd
}
