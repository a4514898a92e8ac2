package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/rand"
)

func init() {
	chainCmd.AddCommand(newChainRandCmd())
}

// chainRandTagNames maps case-insensitive tag names to tags, so operators
// can write --tag SealRandomness instead of remembering 5.
var chainRandTagNames = func() map[string]rand.DomainSeparationTag {
	m := map[string]rand.DomainSeparationTag{}
	for t := rand.DomainSeparationTag(1); t.Known(); t++ {
		m[strings.ToLower(t.String())] = t
	}
	return m
}()

func parseChainRandTag(s string) (rand.DomainSeparationTag, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return rand.DomainSeparationTag(n), nil
	}
	if t, ok := chainRandTagNames[strings.ToLower(s)]; ok {
		return t, nil
	}
	return 0, fmt.Errorf("bad --tag %q: want an integer or a tag name such as SealRandomness", s)
}

func newChainRandCmd() *cobra.Command {
	var (
		tag, digest, base, entropy, miner string
		epoch                             int64
		asJSON                            bool
	)
	cmd := &cobra.Command{
		Use:   "rand --tag N --epoch E (--digest HEX32 | --base HEX) [--entropy HEX | --miner f0…]",
		Short: "Derive chain randomness (PoRep ticket/seed) from a randomness digest",
		Long: `Derive Filecoin chain randomness offline, as a Lotus node does:

  randomness = blake2b-256( i64be(tag) || digest || i64be(epoch) || entropy )

--digest is the 32-byte randomness digest: blake2b-256 of the min-ticket
VRF proof ("from tickets") or of the drand beacon signature ("from
beacon"), i.e. what StateGetRandomnessDigestFromTickets/FromBeacon return.
It is used as is, not hashed again. --base takes the raw VRF proof or
beacon data instead and hashes it first.

For PoRep, --tag is 5 (SealRandomness, the ticket) or 6
(InteractiveSealChallengeSeed, the seed), and the entropy is the CBOR of
the miner's ID address, which --miner f01234 computes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer resetChainRandFlags(cmd.Flags())
			if !cmd.Flags().Changed("tag") || !cmd.Flags().Changed("epoch") {
				return errors.New("chain rand: --tag and --epoch are required")
			}
			t, err := parseChainRandTag(tag)
			if err != nil {
				return fmt.Errorf("chain rand: %w", err)
			}
			var d rand.Digest
			switch {
			case digest != "" && base != "":
				return errors.New("chain rand: give --digest or --base, not both")
			case digest != "":
				if d, err = rand.ParseDigest(strings.TrimPrefix(digest, "0x")); err != nil {
					return fmt.Errorf("chain rand: --digest: %w", err)
				}
			case base != "":
				raw, err := hex.DecodeString(strings.TrimPrefix(base, "0x"))
				if err != nil {
					return fmt.Errorf("chain rand: --base: %w", err)
				}
				d = rand.DigestOf(raw)
			default:
				return errors.New("chain rand: --digest (or --base) is required")
			}
			var ent []byte
			switch {
			case entropy != "" && miner != "":
				return errors.New("chain rand: give --entropy or --miner, not both")
			case miner != "":
				a, err := address.Parse(miner)
				if err != nil {
					return fmt.Errorf("chain rand: --miner: %w", err)
				}
				id, err := address.IDOf(a)
				if err != nil {
					return fmt.Errorf("chain rand: --miner must be an ID address (f0…), the form the miner actor uses: %w", err)
				}
				if ent, err = rand.SealEntropyForID(id); err != nil {
					return fmt.Errorf("chain rand: --miner: %w", err)
				}
			case entropy != "":
				if ent, err = hex.DecodeString(strings.TrimPrefix(entropy, "0x")); err != nil {
					return fmt.Errorf("chain rand: --entropy: %w", err)
				}
			}
			r := rand.DrawRandomnessFromDigest(d, t, epoch, ent)
			if asJSON {
				return printJSON(cmd.OutOrStdout(), struct {
					Randomness string `json:"randomness"`
				}{r.String()})
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), r.String())
			return err
		},
	}
	cmd.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		resetChainRandFlags(cmd.Flags())
		return err
	})
	f := cmd.Flags()
	f.StringVar(&tag, "tag", "", "domain separation tag: integer (5 ticket, 6 seed) or name")
	f.Int64Var(&epoch, "epoch", 0, "epoch the randomness is drawn for")
	f.StringVar(&digest, "digest", "", "32-byte randomness digest, hex (not hashed again)")
	f.StringVar(&base, "base", "", "raw randomness base (VRF proof or beacon data), hex; hashed to the digest")
	f.StringVar(&entropy, "entropy", "", "entropy bytes, hex (default empty)")
	f.StringVar(&miner, "miner", "", "miner ID address; sets entropy to its CBOR encoding")
	f.BoolVar(&asJSON, "json", false, `print {"randomness": HEX}`)
	return cmd
}

// resetChainRandFlags restores defaults after a run, so in-process reuse
// of the command (tests, a REPL) never sees stale values.
func resetChainRandFlags(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		_ = f.Value.Set(f.DefValue)
		f.Changed = false
	})
}
