package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/porep"
)

func init() {
	proofsCmd.AddCommand(newSealBatchCmd())
}

// batchSpec is the --spec document of "proofs seal-batch".
type batchSpec struct {
	Proof       string            `json:"proof"`
	ParentCache string            `json:"parent_cache,omitempty"`
	Sectors     []batchSpecSector `json:"sectors"`
}

type batchSpecSector struct {
	// Miner is a JSON number (1000) or an actor id string ("t01000").
	Miner  json.RawMessage `json:"miner"`
	Sector *uint64         `json:"sector"`
	Ticket string          `json:"ticket"`
	Pieces []string        `json:"pieces,omitempty"`
	Dir    string          `json:"dir"`
	// Proof may repeat the batch's proof; a different one is refused.
	Proof string `json:"proof,omitempty"`
}

// maxSpecBytes bounds the spec file: a batch of thousands of sectors is a
// few hundred KiB.
const maxSpecBytes = 16 << 20

// parseBatchSpec reads and checks a spec into seal requests; every error is
// one line naming the sector it is about.
func parseBatchSpec(r io.Reader) ([]porep.SealRequest, string, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxSpecBytes+1))
	if err != nil {
		return nil, "", err
	}
	if len(raw) > maxSpecBytes {
		return nil, "", fmt.Errorf("spec larger than %d bytes", maxSpecBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var spec batchSpec
	if err := dec.Decode(&spec); err != nil {
		return nil, "", fmt.Errorf("spec: %w", err)
	}
	if dec.More() {
		return nil, "", errors.New("spec: trailing data after the JSON object")
	}
	proof, err := abi.ParseSealProof(spec.Proof)
	if err != nil {
		return nil, "", fmt.Errorf("spec: proof %q: want 2KiB, 8MiB, 512MiB, 32GiB, 64GiB, a V1_1 or NI-PoRep proof name or an id 5-19", spec.Proof)
	}
	if len(spec.Sectors) == 0 {
		return nil, "", errors.New("spec: no sectors")
	}
	reqs := make([]porep.SealRequest, len(spec.Sectors))
	for i, s := range spec.Sectors {
		at := fmt.Sprintf("spec: sectors[%d]", i)
		sp := proof
		if s.Proof != "" {
			if sp, err = abi.ParseSealProof(s.Proof); err != nil {
				return nil, "", fmt.Errorf("%s: proof %q: unknown", at, s.Proof)
			}
		}
		miner, err := parseSpecMiner(s.Miner)
		if err != nil {
			return nil, "", fmt.Errorf("%s: miner: %w", at, err)
		}
		if s.Sector == nil {
			return nil, "", fmt.Errorf("%s: sector is required", at)
		}
		ticket, err := parseHex32(s.Ticket)
		if err != nil {
			return nil, "", fmt.Errorf("%s: ticket: %w", at, err)
		}
		if s.Dir == "" {
			return nil, "", fmt.Errorf("%s: dir is required", at)
		}
		reqs[i] = porep.SealRequest{Proof: sp, Miner: miner, Sector: *s.Sector, Ticket: ticket, Pieces: s.Pieces, Dir: s.Dir}
	}
	if err := porep.CheckBatch(reqs); err != nil {
		return nil, "", err
	}
	return reqs, spec.ParentCache, nil
}

func parseSpecMiner(raw json.RawMessage) (uint64, error) {
	if len(raw) == 0 {
		return 0, errors.New("required")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return parseActorID(s)
	}
	n, err := strconv.ParseUint(string(raw), 10, 63)
	if err != nil {
		return 0, fmt.Errorf("%s is not an actor id", raw)
	}
	return n, nil
}

func newSealBatchCmd() *cobra.Command {
	var (
		specPath, parentDir, memArg string
		workers                     int
		asJSON                      bool
	)
	cmd := &cobra.Command{
		Use:   "seal-batch --spec FILE [--json]",
		Short: "Seal several sectors of one size with their PC1 labelled in one batch",
		Long: `Seal every sector of a spec as "proofs seal" seals one, with PC1 run as one
batch: one pass over the parent cache per layer for all sectors, two labels
hashed at once per core. Each sector's directory ends up exactly as "proofs
seal" would leave it (so "proofs c1" works on it), with the same commitments.

FILE (or - for stdin) is JSON:
  {"proof": "2KiB", "parent_cache": "DIR",
   "sectors": [{"miner": 1000, "sector": 7, "ticket": "<64 hex>",
                "pieces": ["path", ...], "dir": "DIR"}, ...]}
"proof" takes what "proofs seal --proof" takes, NI-PoRep proofs included
(StackedDrg2KiBV1_2_Feat_NiPoRep, …_NonInteractivePoRep or 15-19).
Sectors of different sizes or proofs, a (miner, sector) or dir given twice, a bad
ticket, a missing piece or pieces that do not fit are refused before any
work, as is a batch whose PC1 needs more memory than --memory.

--json prints an array with, per sector in spec order, the object "proofs seal
--json" prints.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer resetFlags(cmd)
			if specPath == "" {
				return withExitCode(2, errors.New("--spec is required"))
			}
			in, err := openInput(cmd, specPath)
			if err != nil {
				return err
			}
			reqs, specCache, err := parseBatchSpec(in)
			in.Close()
			if err != nil {
				return err
			}
			if parentDir == "" {
				parentDir = specCache
			}
			limit, err := memoryLimit(memArg)
			if err != nil {
				return withExitCode(2, fmt.Errorf("--memory: %w", err))
			}
			stages := newStagePrinter(cmd.ErrOrStderr(), []string{porep.StagePieces, porep.StageTreeD, porep.StagePC1, porep.StagePC2})
			recs, err := porep.SealBatch(cmd.Context(), reqs, &porep.BatchOptions{
				ParentCacheDir: parentDir, Workers: workers, MemoryLimit: limit,
				OnStage: func(stage string, i int) { stages.start(stage) },
			})
			stages.finish()
			if err != nil {
				return err
			}
			outs := make([]sealOutput, len(recs))
			for i, rec := range recs {
				outs[i] = newSealOutput(rec)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), outs)
			}
			for i, o := range outs {
				r := reqs[i]
				if _, err := fmt.Fprintf(cmd.OutOrStdout(), "sealed %s sector t0%d-%d in %s\n  comm_d %s\n  comm_r %s\n",
					r.Proof, r.Miner, r.Sector, r.Dir, o.CommD, o.CommR); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&specPath, "spec", "", "batch spec JSON file, or - for stdin")
	f.StringVar(&parentDir, "parent-cache-dir", "", "SDR parent cache directory (default: the spec's parent_cache, else $FIL_PROOFS_PARENT_CACHE or /var/tmp/filecoin-parents)")
	f.IntVar(&workers, "workers", 0, "cores to use (0 = GOMAXPROCS)")
	f.StringVar(&memArg, "memory", "", "memory the batch may use, e.g. 64GiB (default: the machine's RAM; 0 = no limit)")
	f.BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

// memoryLimit parses a --memory value: "" means the machine's RAM (no limit
// where it cannot be read), "0" no limit, else a size such as 64GiB.
func memoryLimit(s string) (int64, error) {
	switch s {
	case "":
		return systemMemory(), nil
	case "0":
		return 0, nil
	}
	n, err := parseByteSize(s)
	if err != nil {
		return 0, err
	}
	if n > 1<<62 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(n), nil
}

// systemMemory is MemTotal from /proc/meminfo, or 0 (no limit) where it
// cannot be read.
func systemMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
