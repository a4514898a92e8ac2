package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/signer"
)

var signerPolicyCmd = &cobra.Command{
	Use:   "policy",
	Short: "Signing policy tools",
}

func init() {
	signerPolicyCmd.AddCommand(newSignerPolicyCheckCmd())
	signerCmd.AddCommand(newSignerInitCmd(), newSignerNewCmd(), newSignerImportCmd(), newSignerExportCmd(),
		newSignerListCmd(), newSignerRunCmd(), signerPolicyCmd)
}

// resetSignerFlags restores cmd's flags after a run so in-process callers
// (tests) do not see values leak between executions of the singleton
// commands.
func resetSignerFlags(cmd *cobra.Command) {
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		_ = f.Value.Set(f.DefValue)
		f.Changed = false
	})
}

// signerKeystoreDir is the keystore of a signer directory: the one named
// by DIR/signer.toml if present, else DIR/keys.
func signerKeystoreDir(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("--dir is required")
	}
	cfgPath := filepath.Join(dir, signer.ConfigFileName)
	if _, err := os.Stat(cfgPath); err == nil {
		c, err := signer.LoadConfig(cfgPath)
		if err != nil {
			return "", err
		}
		return c.Path(c.Keystore), nil
	}
	return filepath.Join(dir, signer.KeysDirName), nil
}

// openSignerKeystore opens (creating if needed) the keystore of a signer
// directory, as located by signerKeystoreDir.
func openSignerKeystore(dir string) (*signer.Keystore, error) {
	ksDir, err := signerKeystoreDir(dir)
	if err != nil {
		return nil, err
	}
	return signer.OpenKeystore(ksDir)
}

// insecurePermsFlag names the flag that lets key and passphrase files be
// readable by group or others.
const insecurePermsFlag = "allow-insecure-permissions"

func insecurePerms(cmd *cobra.Command) bool {
	v, _ := cmd.Flags().GetBool(insecurePermsFlag)
	return v
}

// signerPassphrase reads the passphrase from --passphrase-file, the
// environment or the terminal on stdin.
func signerPassphrase(cmd *cobra.Command, file string, confirm bool) ([]byte, error) {
	src := signer.PassphraseSource{File: file, Prompt: cmd.ErrOrStderr(), Confirm: confirm, AllowInsecurePerms: insecurePerms(cmd)}
	if f, ok := cmd.InOrStdin().(*os.File); ok {
		src.TTY = f
	}
	return signer.ReadPassphrase(src)
}

func newSignerInitCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "init --dir DIR",
		Short: "Create a signer directory: keys/, state/, signer.toml and policy.toml templates",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer resetSignerFlags(cmd)
			if dir == "" {
				return errors.New("--dir is required")
			}
			made, err := signer.Init(dir)
			if err != nil {
				return err
			}
			for _, p := range made {
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", p)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "edit %s and %s, then add keys with `sealant signer new` or `sealant signer import`\n",
				filepath.Join(dir, signer.PolicyFileName), filepath.Join(dir, signer.ConfigFileName))
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "signer directory")
	return cmd
}

func newSignerNewCmd() *cobra.Command {
	var dir, kind, passFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "new --dir DIR --type secp256k1|bls",
		Short: "Generate a key in the keystore and print its address",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer resetSignerFlags(cmd)
			var st types.SigType
			switch kind {
			case "secp256k1":
				st = types.SigTypeSecp256k1
			case "bls":
				st = types.SigTypeBLS
			default:
				return fmt.Errorf("--type %q: want secp256k1 or bls", kind)
			}
			ks, err := openSignerKeystore(dir)
			if err != nil {
				return err
			}
			pass, err := signerPassphrase(cmd, passFile, true)
			if err != nil {
				return err
			}
			a, err := ks.Generate(st, pass)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]string{"address": a.String(), "type": kind})
			}
			fmt.Fprintln(cmd.OutOrStdout(), a)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "signer directory")
	cmd.Flags().StringVar(&kind, "type", "secp256k1", "key type: secp256k1 or bls")
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "file holding the keystore passphrase (else $"+signer.PassphraseEnv+" or a prompt)")
	cmd.Flags().Bool(insecurePermsFlag, false, "use key and passphrase files that group or others can read (refused by default, as Lotus does)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newSignerImportCmd() *cobra.Command {
	var dir, passFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "import --dir DIR KEYFILE",
		Short: "Import a key exported by `lotus wallet export` (hex-lotus or json-lotus; - for stdin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer resetSignerFlags(cmd)
			ksDir, err := signerKeystoreDir(dir)
			if err != nil {
				return err
			}
			if args[0] == "-" && passFile == "" && os.Getenv(signer.PassphraseEnv) == "" {
				return errors.New("reading the key from stdin needs --passphrase-file or $" + signer.PassphraseEnv)
			}
			in, err := openInput(cmd, args[0])
			if err != nil {
				return fmt.Errorf("key file: %w", err)
			}
			data, err := io.ReadAll(io.LimitReader(in, 64<<10))
			in.Close()
			if err != nil {
				return fmt.Errorf("key file: %w", err)
			}
			ki, err := sigs.ParseKeyInfo(data)
			clear(data)
			if err != nil {
				// ParseKeyInfo's errors never quote the input.
				return fmt.Errorf("key file %s: %w", args[0], err)
			}
			defer clear(ki.PrivateKey)
			ks, err := signer.OpenKeystore(ksDir)
			if err != nil {
				return err
			}
			pass, err := signerPassphrase(cmd, passFile, true)
			if err != nil {
				return err
			}
			a, err := ks.Import(ki, pass)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]string{"address": a.String(), "type": string(ki.Type)})
			}
			fmt.Fprintln(cmd.OutOrStdout(), a)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "signer directory")
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "file holding the keystore passphrase (else $"+signer.PassphraseEnv+" or a prompt)")
	cmd.Flags().Bool(insecurePermsFlag, false, "use key and passphrase files that group or others can read (refused by default, as Lotus does)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newSignerExportCmd() *cobra.Command {
	var dir, passFile, format string
	var show bool
	cmd := &cobra.Command{
		Use:   "export --dir DIR --show-private-key ADDRESS",
		Short: "Print a key in Lotus format (needs --show-private-key)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer resetSignerFlags(cmd)
			if !show {
				return errors.New("export prints the PRIVATE KEY: pass --show-private-key to confirm")
			}
			a, err := address.Parse(strings.TrimSpace(args[0]))
			if err != nil {
				return fmt.Errorf("address: %w", err)
			}
			ks, err := openSignerKeystore(dir)
			if err != nil {
				return err
			}
			pass, err := signerPassphrase(cmd, passFile, false)
			if err != nil {
				return err
			}
			ks.AllowInsecurePerms = insecurePerms(cmd)
			ki, err := ks.Export(a, pass)
			if err != nil {
				return err
			}
			defer clear(ki.PrivateKey)
			switch format {
			case "hex-lotus":
				fmt.Fprintln(cmd.OutOrStdout(), ki.HexLotus())
			case "json-lotus":
				b, err := json.Marshal(ki)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				clear(b)
			default:
				return fmt.Errorf("--format %q: want hex-lotus or json-lotus", format)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "signer directory")
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "file holding the keystore passphrase (else $"+signer.PassphraseEnv+" or a prompt)")
	cmd.Flags().Bool(insecurePermsFlag, false, "use key and passphrase files that group or others can read (refused by default, as Lotus does)")
	cmd.Flags().StringVar(&format, "format", "hex-lotus", "hex-lotus (lotus wallet import default) or json-lotus")
	cmd.Flags().BoolVar(&show, "show-private-key", false, "really print the private key")
	return cmd
}

func newSignerListCmd() *cobra.Command {
	var dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --dir DIR",
		Short: "List the keystore's addresses (no passphrase needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer resetSignerFlags(cmd)
			ks, err := openSignerKeystore(dir)
			if err != nil {
				return err
			}
			list, err := ks.List()
			if err != nil {
				return err
			}
			if asJSON {
				type row struct {
					Address string `json:"address"`
					Type    string `json:"type"`
				}
				rows := make([]row, 0, len(list))
				for _, e := range list {
					rows = append(rows, row{e.Address.String(), string(e.Type)})
				}
				return printJSON(cmd.OutOrStdout(), rows)
			}
			for _, e := range list {
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", e.Address, e.Type)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "signer directory")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newSignerRunCmd() *cobra.Command {
	var cfgPath, passFile string
	var insecure bool
	cmd := &cobra.Command{
		Use:   "run --config signer.toml",
		Short: "Connect out to the managers and sign what the policy allows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer resetSignerFlags(cmd)
			if cfgPath == "" {
				return errors.New("--config is required")
			}
			cfg, err := signer.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			cfg.Insecure = insecure
			cfg.AllowInsecurePerms = insecurePerms(cmd)
			eps, err := cfg.Endpoints()
			if err != nil {
				return err
			}
			if passFile == "" {
				passFile = cfg.Path(cfg.PassphraseFile)
			}
			pass, err := signerPassphrase(cmd, passFile, false)
			if err != nil {
				return err
			}
			s, closeFn, err := cfg.Open(pass, slog.Default())
			clear(pass)
			if err != nil {
				return err
			}
			defer closeFn()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			slog.Info("signer running", "name", s.Name(), "addresses", s.Addresses(), "managers", len(eps))
			err = signer.NewRunner(s, signer.Backoff{}).Run(ctx, eps)
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "signer.toml")
	cmd.Flags().BoolVar(&insecure, "insecure", false, "allow plain ws:// to a manager that is not on loopback (token and messages in clear)")
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "file holding the keystore passphrase (overrides the config; else $"+signer.PassphraseEnv+" or a prompt)")
	cmd.Flags().Bool(insecurePermsFlag, false, "use key and passphrase files that group or others can read (refused by default, as Lotus does)")
	return cmd
}

// policyCheckOutput is the --json document of "signer policy check".
type policyCheckOutput struct {
	Allowed bool           `json:"allowed"`
	Reason  string         `json:"reason"`
	Summary signer.Summary `json:"summary"`
}

// maxPolicyMsgInput bounds the message read by policy check (the mpool
// limit is 64 KiB; hex or JSON at most roughly doubles it).
const maxPolicyMsgInput = 1 << 20

// readPolicyMessage reads MESSAGE: a file or an inline hex string, holding
// unsigned message CBOR (binary or hex) or a Lotus-JSON Message. It
// returns the CBOR bytes.
func readPolicyMessage(arg string) ([]byte, error) {
	var data []byte
	if f, err := os.Open(arg); err == nil {
		data, err = io.ReadAll(io.LimitReader(f, maxPolicyMsgInput+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("message file: %w", err)
		}
		if len(data) > maxPolicyMsgInput {
			return nil, fmt.Errorf("message file larger than %d bytes", maxPolicyMsgInput)
		}
	} else {
		data = []byte(arg)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var m types.Message
		if err := json.Unmarshal(trimmed, &m); err != nil {
			return nil, fmt.Errorf("message json: %w", err)
		}
		b, err := m.Serialize()
		if err != nil {
			return nil, fmt.Errorf("message json: %w", err)
		}
		return b, nil
	}
	s := strings.TrimPrefix(string(trimmed), "0x")
	if b, err := hex.DecodeString(s); err == nil && len(b) > 0 {
		return b, nil
	}
	if _, err := os.Stat(arg); err != nil {
		return nil, fmt.Errorf("message %q is neither a file nor hex", clipArg(arg))
	}
	return data, nil // binary CBOR file
}

func clipArg(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func newSignerPolicyCheckCmd() *cobra.Command {
	var policyPath, keystore, stateDir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check --policy FILE MESSAGE",
		Short: "Evaluate a message against a policy offline (exit 0 allowed, 1 refused)",
		Long: `MESSAGE is a file or a hex string holding the unsigned message CBOR, or a
file holding a Lotus-JSON Message. The refusal reason is printed on one line.
With --keystore the sender must be one of its keys (no passphrase needed);
with --state today's counters of a signer are included in the daily caps.
Exit status: 0 allowed, 1 refused (reason on one line; malformed message
bytes are a refusal), 2 unusable input (policy, message or keystore file).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer resetSignerFlags(cmd)
			if policyPath == "" {
				return errors.New("--policy is required")
			}
			pol, err := signer.LoadPolicy(policyPath)
			if err != nil {
				return withExitCode(2, err)
			}
			raw, err := readPolicyMessage(args[0])
			if err != nil {
				return withExitCode(2, err)
			}
			var keys signer.KeySet
			if keystore != "" {
				ks, err := signer.OpenKeystore(keystore)
				if err != nil {
					return withExitCode(2, err)
				}
				list, err := ks.List()
				if err != nil {
					return withExitCode(2, err)
				}
				keys = listKeySet(list)
			}
			var usage *signer.Usage
			if stateDir != "" {
				st, err := signer.OpenState(stateDir)
				if err != nil {
					return withExitCode(2, err)
				}
				u := st.Usage(time.Now())
				usage = &u
			}
			cidStr := ""
			if m, err := types.DecodeMessage(raw); err == nil {
				cidStr = m.Cid().String()
			}
			d := pol.Evaluate(signer.Request{Message: raw, Cid: cidStr}, keys, usage)
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), policyCheckOutput{Allowed: d.Allowed, Reason: d.Reason, Summary: d.Summary}); err != nil {
					return err
				}
			} else if d.Allowed {
				fmt.Fprintf(cmd.OutOrStdout(), "allowed: %s %s to %s from %s\n", d.Summary.MethodName, d.Summary.Cid, d.Summary.To, d.Summary.From)
			}
			if !d.Allowed {
				return withExitCode(1, fmt.Errorf("refused: %s", d.Reason))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&policyPath, "policy", "", "policy TOML file")
	cmd.Flags().StringVar(&keystore, "keystore", "", "keystore directory whose addresses are the allowed senders")
	cmd.Flags().StringVar(&stateDir, "state", "", "signer state directory (include today's counters)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {allowed, reason, summary}")
	return cmd
}

// listKeySet is a keystore listing used as the policy's sender set.
type listKeySet []signer.KeyEntry

// Has reports whether a is listed.
func (l listKeySet) Has(a address.Address) bool {
	for _, e := range l {
		if e.Address == a {
			return true
		}
	}
	return false
}
