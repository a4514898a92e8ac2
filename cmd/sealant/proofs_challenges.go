package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/porep"
)

func init() {
	proofsCmd.AddCommand(newChallengesCmd())
}

// challengesOutput is the --json document of "proofs challenges": one list
// of node indices per partition.
type challengesOutput struct {
	Proof      string     `json:"proof"`
	Challenges [][]uint64 `json:"challenges"`
}

func newChallengesCmd() *cobra.Command {
	var (
		proofName, replicaArg, commRArg, seedArg string
		ni, asJSON                               bool
	)
	cmd := &cobra.Command{
		Use:   "challenges --proof SIZE --replica-id HEX32 --comm-r CID (--ni | --seed HEX32) [--json]",
		Short: "Print a sector's PoRep challenges, one list per partition",
		Long: `Derive the PoRep challenges of a sector as rust-fil-proofs does, so that a
challenge set can be checked on its own.

With --ni: the NI-PoRep (FIP-0092) challenges, SHA-256 of
"filecoin.io|PoRep|1|NonInteractive|1", the replica id, CommR and the
challenge number (13 partitions of 2 for 2KiB-512MiB, 126 of 18 for
32/64GiB). With --seed: the interactive challenges from the replica id and
seed (1 partition of 2, or 10 of 18). --proof is a size or a proof name; a
size selects the NI-PoRep or V1_1 proof of that size. --comm-r is the sealed
CID (bagboea4b5abc…) or 32 bytes of hex; --replica-id is 32 bytes of hex as
"proofs seal --json" prints it.

--json prints {"proof": NAME, "challenges": [[…], …]}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer resetFlags(cmd)
			if ni == (seedArg != "") {
				return withExitCode(2, errors.New("give exactly one of --ni and --seed"))
			}
			proof, err := abi.ParseSealProof(proofName)
			if err != nil {
				return withExitCode(2, fmt.Errorf("--proof: %w", err))
			}
			if _, sizeErr := abi.ParseSectorSize(proofName); sizeErr == nil && ni {
				proof = proof.NI()
			}
			switch {
			case proof.IsLegacy():
				return withExitCode(2, fmt.Errorf("--proof: %s is a V1 proof; only V1_1 and NI-PoRep are supported", proof))
			case ni && !proof.IsNI():
				return withExitCode(2, fmt.Errorf("--ni: %s is not an NI-PoRep proof", proof))
			case !ni && proof.IsNI():
				return withExitCode(2, fmt.Errorf("--seed: %s takes no seed: use --ni", proof))
			}
			replicaID, err := parseHex32(replicaArg)
			if err != nil {
				return withExitCode(2, fmt.Errorf("--replica-id: %w", err))
			}
			commR, err := parseCommR(commRArg)
			if err != nil {
				return withExitCode(2, fmt.Errorf("--comm-r: %w", err))
			}
			var seed [32]byte
			if !ni {
				if seed, err = parseHex32(seedArg); err != nil {
					return withExitCode(2, fmt.Errorf("--seed: %w", err))
				}
			}
			out := challengesOutput{Proof: proof.String(), Challenges: porep.Challenges(proof, replicaID, commR, seed)}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			if _, err := fmt.Fprintf(w, "%s: %d partitions × %d challenges\n", proof, len(out.Challenges), proof.ChallengesPerPartition()); err != nil {
				return err
			}
			for k, part := range out.Challenges {
				if _, err := fmt.Fprintf(w, "  partition %d: %s\n", k, strings.Trim(fmt.Sprint(part), "[]")); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&proofName, "proof", "", "sector size (2KiB … 64GiB) or seal proof name/id")
	f.StringVar(&replicaArg, "replica-id", "", "replica id: 32 bytes as hex")
	f.StringVar(&commRArg, "comm-r", "", "CommR: sealed CID or 32 bytes as hex")
	f.BoolVar(&ni, "ni", false, "NI-PoRep challenges (from replica id and CommR)")
	f.StringVar(&seedArg, "seed", "", "interactive seal seed: 32 bytes as hex")
	f.BoolVar(&asJSON, "json", false, "print a JSON object")
	return cmd
}

// parseCommR accepts a sealed CID or 32 bytes of hex.
func parseCommR(s string) ([32]byte, error) {
	s = strings.TrimSpace(s)
	if len(strings.TrimPrefix(s, "0x")) == 64 {
		if _, err := hex.DecodeString(strings.TrimPrefix(s, "0x")); err == nil {
			return parseHex32(s)
		}
	}
	return commp.ParseSealedCID(s)
}
