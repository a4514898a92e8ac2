package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/porep"
)

func init() {
	proofsCmd.AddCommand(newSealCmd(), newC1Cmd(), newVerifyC1Cmd())
}

// sealOutput is the --json document of "proofs seal".
type sealOutput struct {
	CommD     string `json:"comm_d"`
	CommR     string `json:"comm_r"`
	CommC     string `json:"comm_c"`
	CommRLast string `json:"comm_r_last"`
	ReplicaID string `json:"replica_id"`
}

// newSealOutput is the --json document of a sealed sector's record.
func newSealOutput(rec *porep.Record) sealOutput {
	return sealOutput{
		CommD:     commp.PieceCID(rec.CommD).String(),
		CommR:     commp.SealedCID(rec.CommR).String(),
		CommC:     rec.CommC.String(),
		CommRLast: rec.CommRLast.String(),
		ReplicaID: rec.ReplicaID.String(),
	}
}

func newSealCmd() *cobra.Command {
	var (
		proofName, minerArg, ticketArg, dir, parentDir string
		sector                                         uint64
		pieces                                         []string
		asJSON                                         bool
	)
	cmd := &cobra.Command{
		Use:   "seal --proof SIZE --miner ACTOR_ID --sector N --ticket HEX32 [--piece FILE]... --dir DIR [--json]",
		Short: "Seal a sector (AddPiece, TreeD, PC1, PC2) with the pure-Go proof engine",
		Long: `Seal a sector with Stacked DRG PoRep V1_1, bit-exact with rust-fil-proofs.
A size selects the V1_1 proof of that size; an NI-PoRep proof (FIP-0092) is
named as the chain names it (StackedDrg2KiBV1_2_Feat_NiPoRep), as
filecoin-proofs-api does (StackedDrg2KiBV1_2_Feat_NonInteractivePoRep) or by
its id (15-19). Its porep id differs from V1_1's, so the replica id, the SDR
graph and CommR do too.

Each --piece is an unpadded payload, zero-padded to the next 127·2^k bytes and
placed in order at an offset aligned to its own padded size; the rest of the
sector is zero (a CC sector if there are no pieces). Writes DIR/unsealed,
DIR/sealed and DIR/cache/ in the lotus/Curio layout. Rerunning the same
command resumes an interrupted seal; a DIR holding another sector is refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer resetFlags(cmd)
			proof, err := abi.ParseSealProof(proofName)
			if err != nil {
				return fmt.Errorf("--proof %q: want 2KiB, 8MiB, 512MiB, 32GiB, 64GiB, a V1_1 or NI-PoRep proof name or an id 5-19", proofName)
			}
			miner, err := parseActorID(minerArg)
			if err != nil {
				return fmt.Errorf("--miner: %w", err)
			}
			if !cmd.Flags().Changed("sector") {
				return errors.New("--sector is required")
			}
			ticket, err := parseHex32(ticketArg)
			if err != nil {
				return fmt.Errorf("--ticket: %w", err)
			}
			if dir == "" {
				return errors.New("--dir is required")
			}
			for _, p := range pieces {
				if _, err := os.Stat(p); err != nil {
					return fmt.Errorf("--piece: %w", err)
				}
			}
			stages := newStagePrinter(cmd.ErrOrStderr(), []string{porep.StagePieces, porep.StageTreeD, porep.StagePC1, porep.StagePC2})
			rec, err := porep.Seal(cmd.Context(), porep.SealRequest{
				Proof: proof, Miner: miner, Sector: sector, Ticket: ticket,
				Pieces: pieces, Dir: dir, ParentCacheDir: parentDir, OnStage: stages.start,
			})
			stages.finish()
			if err != nil {
				return err
			}
			out := newSealOutput(rec)
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "sealed %s sector t0%d-%d in %s\n  comm_d %s\n  comm_r %s\n", proof, miner, sector, dir, out.CommD, out.CommR)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&proofName, "proof", "", "seal proof: 2KiB, 8MiB, 512MiB, 32GiB, 64GiB (V1_1), a proof name or id (NI-PoRep: StackedDrg2KiBV1_2_Feat_NiPoRep, 15-19)")
	f.StringVar(&minerArg, "miner", "", "miner actor id (1000, t01000 or f01000)")
	f.Uint64Var(&sector, "sector", 0, "sector number")
	f.StringVar(&ticketArg, "ticket", "", "sealing ticket: 32 bytes as hex")
	f.StringArrayVar(&pieces, "piece", nil, "piece payload file (repeatable, in sector order)")
	f.StringVar(&dir, "dir", "", "sector directory")
	f.StringVar(&parentDir, "parent-cache-dir", "", "SDR parent cache directory (default $FIL_PROOFS_PARENT_CACHE or /var/tmp/filecoin-parents)")
	f.BoolVar(&asJSON, "json", false, "print a JSON object")
	return cmd
}

func newC1Cmd() *cobra.Command {
	var (
		dir, seedArg, outPath string
		ni                    bool
	)
	cmd := &cobra.Command{
		Use:   "c1 --dir DIR (--seed HEX32 | --ni) --out FILE",
		Short: "Generate the C1 vanilla proofs (SealCommitPhase1Output JSON) of a sealed sector",
		Long: `Derive the interactive challenges from the seed and write every challenge's
vanilla proof as the SealCommitPhase1Output JSON that lotus hands to C2.
For a sector sealed with an NI-PoRep proof, --ni replaces --seed: the
challenges (13 partitions of 2 for test sizes, 126 of 18 for 32/64GiB)
derive from the replica id and CommR, and the output's seed is zero.
The proofs are verified before the file is written. FILE.sector.json records
the miner and sector number beside it (C2 takes them separately), so that
"verify-c1 FILE" can bind the ticket.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer resetFlags(cmd)
			if dir == "" || outPath == "" {
				return errors.New("--dir and --out are required")
			}
			if ni == (seedArg != "") {
				return errors.New("give exactly one of --seed (interactive) and --ni")
			}
			var seed [32]byte
			if !ni {
				var err error
				if seed, err = parseHex32(seedArg); err != nil {
					return fmt.Errorf("--seed: %w", err)
				}
			}
			rec, err := porep.LoadRecord(dir)
			if err != nil {
				return err
			}
			switch {
			case ni && !rec.Proof.IsNI():
				return fmt.Errorf("--ni: sector in %s was sealed with %s, not an NI-PoRep proof", dir, rec.Proof)
			case !ni && rec.Proof.IsNI():
				return fmt.Errorf("--seed: sector in %s was sealed with %s, which takes no seed: use --ni", dir, rec.Proof)
			}
			out, err := porep.C1(cmd.Context(), dir, seed)
			if err != nil {
				return err
			}
			raw, err := json.Marshal(out)
			if err != nil {
				return err
			}
			if err := os.WriteFile(outPath, raw, 0o644); err != nil {
				return err
			}
			side, _ := json.Marshal(c1Sidecar{Miner: rec.Miner, Sector: rec.Sector})
			if err := os.WriteFile(outPath+".sector.json", side, 0o644); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%d bytes, %d challenges)\n", outPath, len(raw), rec.Proof.TotalChallenges())
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "sector directory written by 'proofs seal'")
	cmd.Flags().StringVar(&seedArg, "seed", "", "interactive seal seed: 32 bytes as hex")
	cmd.Flags().BoolVar(&ni, "ni", false, "non-interactive PoRep: challenges from replica id and CommR, no seed")
	cmd.Flags().StringVar(&outPath, "out", "", "output file")
	return cmd
}

// c1Sidecar is FILE.sector.json: what C2 receives beside the C1 output.
type c1Sidecar struct {
	Miner  uint64 `json:"miner"`
	Sector uint64 `json:"sector"`
}

// verifyOutput is the --json document of "proofs verify-c1".
type verifyOutput struct {
	OK          bool     `json:"ok"`
	Proof       string   `json:"proof,omitempty"`
	Challenges  int      `json:"challenges,omitempty"`
	TicketBound bool     `json:"ticket_bound"`
	Checks      []string `json:"checks,omitempty"`
	Reason      string   `json:"reason,omitempty"`
}

func newVerifyC1Cmd() *cobra.Command {
	var (
		minerArg string
		sector   uint64
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "verify-c1 [--miner ID --sector N] [--json] FILE",
		Short: "Verify a SealCommitPhase1Output: exit 0 if valid, 1 with the reason if not, 2 if it could not be checked",
		Long: `Verify every vanilla proof of a C1 output as rust-fil-proofs does, plus the
link between labeling proofs and parent columns that the SNARK would check.
The ticket enters the proofs only through the replica id, which also depends on
the miner and sector number: they come from --miner/--sector, else from the
FILE.sector.json that "proofs c1" writes; without either the ticket is
reported as not bound.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer resetFlags(cmd)
			opts := &porep.VerifyOptions{}
			if minerArg != "" || cmd.Flags().Changed("sector") {
				if minerArg == "" || !cmd.Flags().Changed("sector") {
					return withExitCode(2, errors.New("--miner and --sector go together"))
				}
				m, err := parseActorID(minerArg)
				if err != nil {
					return withExitCode(2, fmt.Errorf("--miner: %w", err))
				}
				opts.Miner, opts.Sector = &m, &sector
			} else if raw, err := os.ReadFile(args[0] + ".sector.json"); err == nil {
				var side c1Sidecar
				if err := json.Unmarshal(raw, &side); err != nil {
					return withExitCode(2, fmt.Errorf("%s.sector.json: %w", args[0], err))
				}
				opts.Miner, opts.Sector = &side.Miner, &side.Sector
			}
			// Exit 1 means "checked and invalid"; a file that cannot be read
			// was not checked, so scripts must not mistake it for a verdict.
			in, err := openInput(cmd, args[0])
			if err != nil {
				return withExitCode(2, err)
			}
			raw, err := io.ReadAll(in)
			in.Close()
			if err != nil {
				return withExitCode(2, err)
			}
			res := verifyOutput{}
			out, err := porep.ParseC1(raw)
			var rep *porep.VerifyReport
			if err == nil {
				rep, err = porep.VerifyC1(out, opts)
			}
			if err != nil {
				res.Reason = err.Error()
				if asJSON {
					_ = printJSON(cmd.OutOrStdout(), res)
				}
				return withExitCode(1, err)
			}
			res = verifyOutput{OK: true, Proof: rep.Proof.String(), Challenges: rep.Challenges, TicketBound: rep.TicketBound, Checks: rep.Checks}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), res)
			}
			note := ""
			if !rep.TicketBound {
				note = " (ticket not bound: pass --miner and --sector)"
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "valid: %s, %d challenges%s\n", rep.Proof, rep.Challenges, note)
			return err
		},
	}
	cmd.Flags().StringVar(&minerArg, "miner", "", "miner actor id the sector belongs to")
	cmd.Flags().Uint64Var(&sector, "sector", 0, "sector number")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object")
	return cmd
}

// parseHex32 parses exactly 32 bytes of hex (an optional 0x prefix allowed).
func parseHex32(s string) ([32]byte, error) {
	var out [32]byte
	s = strings.TrimPrefix(strings.TrimSpace(s), "0x")
	b, err := hex.DecodeString(s)
	if err != nil {
		return out, fmt.Errorf("not hex: %w", err)
	}
	if len(b) != 32 {
		return out, fmt.Errorf("want 32 bytes (64 hex digits), got %d bytes", len(b))
	}
	return [32]byte(b), nil
}

// parseActorID accepts 1000, t01000 or f01000.
func parseActorID(s string) (uint64, error) {
	if s == "" {
		return 0, errors.New("required")
	}
	t := s
	if len(t) > 2 && (t[0] == 'f' || t[0] == 't') && t[1] == '0' {
		t = t[2:]
	}
	id, err := strconv.ParseUint(t, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("%q is not an actor id (want 1000, t01000 or f01000)", s)
	}
	return id, nil
}

// stagePrinter shows "[2/4] tree-d  3.1s" lines on a terminal while a seal
// runs; it prints nothing when stderr is not a terminal.
type stagePrinter struct {
	w      io.Writer
	stages []string
	cur    string
	began  time.Time
	on     bool
}

func newStagePrinter(w io.Writer, stages []string) *stagePrinter {
	f, ok := w.(*os.File)
	return &stagePrinter{w: w, stages: stages, on: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *stagePrinter) start(stage string) {
	p.done()
	p.cur, p.began = stage, time.Now()
	if p.on {
		idx := 0
		for i, s := range p.stages {
			if s == stage {
				idx = i + 1
			}
		}
		fmt.Fprintf(p.w, "[%d/%d] %s …", idx, len(p.stages), stage)
	}
}

func (p *stagePrinter) done() {
	if p.on && p.cur != "" {
		fmt.Fprintf(p.w, " %.1fs\n", time.Since(p.began).Seconds())
	}
	p.cur = ""
}

func (p *stagePrinter) finish() { p.done() }
