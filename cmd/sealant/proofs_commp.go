package main

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/fr32"
)

func init() {
	proofsCmd.AddCommand(newCommpCmd(), newCommdCmd())
}

// commpOutput is the --json document of "proofs commp".
type commpOutput struct {
	CID         string `json:"cid"`
	PayloadSize uint64 `json:"payload_size"`
	PieceSize   uint64 `json:"piece_size"`
}

// progressThreshold is the input size above which "proofs commp" draws a
// progress bar (when stderr is a terminal): smaller files finish in a few
// seconds.
const progressThreshold = 1 << 30

func newCommpCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "commp [--json] FILE",
		Short: "Compute the piece CID (CommP) of a file; FILE may be - for stdin",
		Long: `Compute the piece commitment (CommP) of a payload, exactly as
go-fil-commp-hashhash and lotus ClientCalcCommP do: the payload (65 bytes to
32 GiB·127/128) is zero-padded to the next 127·2^k bytes, Fr32-padded and
hashed into a binary SHA-256 (trunc254) tree on all cores.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer resetFlags(cmd)
			name := args[0]
			in, err := openInput(cmd, name)
			if err != nil {
				return err
			}
			defer in.Close()

			var r io.Reader = in
			var bar *progress
			if f, ok := in.(*os.File); ok {
				if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > progressThreshold {
					if bar = startProgress(cmd.ErrOrStderr(), st.Size()); bar != nil {
						r = bar.wrap(r)
					}
				}
			}
			res, err := commp.FromReader(cmd.Context(), r, 0)
			if bar != nil {
				bar.finish() // end the bar's line before the result or error
			}
			if err != nil {
				if name == "-" {
					name = "stdin"
				}
				return fmt.Errorf("%s: %w", name, err)
			}
			out := commpOutput{
				CID:         commp.PieceCID(res.Commitment).String(),
				PayloadSize: res.PayloadSize,
				PieceSize:   uint64(res.PieceSize),
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s  payload %d bytes  piece %d bytes (%s)\n",
				out.CID, out.PayloadSize, out.PieceSize, formatSize(out.PieceSize))
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"cid", "payload_size", "piece_size"} as JSON`)
	return cmd
}

func newCommdCmd() *cobra.Command {
	var (
		asJSON bool
		size   string
		pieces []string
	)
	cmd := &cobra.Command{
		Use:   "commd --size SIZE [--piece CID:PADDED_SIZE]... [--json]",
		Short: "Compute the unsealed sector CID (CommD) of a sector from its pieces",
		Long: `Compute CommD with the semantics of lotus GenerateUnsealedCID: the
pieces are placed in the given order, each at the next offset that is a
multiple of its padded size, and the rest of the sector is zeros. Without
--piece the sector is all zeros (a committed-capacity sector).

SIZE is a byte count or a number with a KiB, MiB or GiB suffix (2KiB, 8MiB,
512MiB, 32GiB, 64GiB). PADDED_SIZE uses the same syntax.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer resetFlags(cmd)
			if size == "" {
				return errors.New("missing --size: give the sector size, e.g. --size 32GiB")
			}
			sector, err := parseByteSize(size)
			if err != nil {
				return fmt.Errorf("bad --size: %w", err)
			}
			infos := make([]commp.PieceInfo, 0, len(pieces))
			for _, p := range pieces {
				info, err := parsePieceFlag(p)
				if err != nil {
					return err
				}
				infos = append(infos, info)
			}
			comm, err := commp.ComputeCommD(sector, infos)
			if err != nil {
				return err
			}
			c := commp.PieceCID(comm).String()
			if asJSON {
				return printJSON(cmd.OutOrStdout(), struct {
					CID string `json:"cid"`
				}{c})
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s  (%s sector, %d pieces)\n", c, formatSize(sector), len(infos))
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"cid"} as JSON`)
	cmd.Flags().StringVar(&size, "size", "", "sector size: 2KiB, 8MiB, 512MiB, 32GiB, 64GiB or a byte count")
	cmd.Flags().StringArrayVar(&pieces, "piece", nil, "a piece as PIECE_CID:PADDED_SIZE; repeat in sector order")
	return cmd
}

// parsePieceFlag parses one --piece value, CID:PADDED_SIZE.
func parsePieceFlag(s string) (commp.PieceInfo, error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return commp.PieceInfo{}, fmt.Errorf("bad --piece %q: want PIECE_CID:PADDED_SIZE", s)
	}
	comm, err := commp.ParsePieceCID(s[:i])
	if err != nil {
		return commp.PieceInfo{}, fmt.Errorf("bad --piece %q: %w", s, err)
	}
	size, err := parseByteSize(s[i+1:])
	if err != nil {
		return commp.PieceInfo{}, fmt.Errorf("bad --piece %q: %w", s, err)
	}
	return commp.PieceInfo{Size: fr32.PaddedPieceSize(size), Commitment: comm}, nil
}

// sizeUnits are the accepted binary suffixes. Decimal ones (KB, MB) are
// refused on purpose: sector sizes are powers of two and "32GB" is a common
// slip for 32 GiB.
var sizeUnits = []struct {
	suffix string
	shift  uint
}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"B", 0}}

// parseByteSize parses "2048", "2KiB", "32GiB" (suffix case-insensitive).
func parseByteSize(s string) (uint64, error) {
	num, shift := s, uint(0)
	for _, u := range sizeUnits {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			num, shift = s[:len(s)-len(u.suffix)], u.shift
			break
		}
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("size %q: want a positive byte count or a number with KiB, MiB or GiB", s)
	}
	if hi, _ := bits.Mul64(n, 1<<shift); hi != 0 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n << shift, nil
}

// formatSize renders a byte count with the largest binary unit dividing it.
func formatSize(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// resetFlags returns a command's flags to their defaults after a run. The
// command objects are package globals shared by every newRootCmd, and
// pflag's repeated flags append to the previous run's values, so without
// this a second in-process run (tests, embedding) would see stale values.
func resetFlags(cmd *cobra.Command) {
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			_ = sv.Replace(nil)
		} else {
			_ = f.Value.Set(f.DefValue)
		}
		f.Changed = false
	})
}

// progress draws a one-line bar on a terminal while a long input is read.
type progress struct {
	w     io.Writer
	total int64
	done  atomic.Int64
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

// startProgress returns nil unless w is a terminal: progress output would
// only corrupt logs and pipes.
func startProgress(w io.Writer, total int64) *progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	p := &progress{w: w, total: total, start: time.Now(), stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.draw()
			case <-p.stop:
				return
			}
		}
	}()
	return p
}

func (p *progress) wrap(r io.Reader) io.Reader { return &countingReader{r: r, n: &p.done} }

func (p *progress) draw() {
	const width = 30
	done := p.done.Load()
	frac := float64(done) / float64(p.total)
	frac = min(max(frac, 0), 1)
	filled := int(frac * width)
	rate := float64(done) / max(time.Since(p.start).Seconds(), 1e-3) / (1 << 20)
	fmt.Fprintf(p.w, "\rcommp [%s%s] %3.0f%%  %.1f/%.1f GiB  %.0f MiB/s ",
		strings.Repeat("#", filled), strings.Repeat(" ", width-filled), frac*100,
		float64(done)/(1<<30), float64(p.total)/(1<<30), rate)
}

func (p *progress) finish() {
	close(p.stop)
	p.wg.Wait()
	p.draw()
	fmt.Fprintln(p.w)
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}
