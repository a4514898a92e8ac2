package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/internal/testenv"
)

// TestDemoVenusWallet seals devnet sectors end to end with sp1 signing
// through a real, unmodified venus-wallet (SEALANT_VENUS_WALLET names the
// binary; see manager/walletgw/testdata/README.md for how it was built):
// its keys are created inside the wallet, funded at genesis, and every
// sp1 message is signed by it through the manager's gateway wallet API.
func TestDemoVenusWallet(t *testing.T) {
	bin := os.Getenv("SEALANT_VENUS_WALLET")
	if bin == "" {
		testenv.Skip(t, "demo: venus-wallet devnet interop skipped: set SEALANT_VENUS_WALLET to a venus-wallet binary (see manager/walletgw/testdata/README.md)")
	}
	if testing.Short() {
		t.Skip("runs the whole demo with a venus-wallet: about a minute")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	var logs, progress bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sum, err := Run(ctx, Config{Dir: dir, Sectors: 2, Timeout: 200 * time.Second, VenusWallet: bin, Logger: log, Progress: &progress})
	if err != nil {
		t.Logf("progress:\n%s", progress.String())
		t.Logf("component warnings:\n%s", tail(logs.String(), 4000))
		if b, rerr := os.ReadFile(filepath.Join(dir, "tenants", "sp1", "venus-wallet.log")); rerr == nil {
			t.Logf("venus-wallet log:\n%s", tail(string(b), 4000))
		}
		t.Fatalf("demo: %v", err)
	}
	for _, tn := range sum.Tenants {
		want := "sealant"
		if tn.Tenant == "sp1" {
			want = "venus-wallet"
		}
		if tn.Signer != want {
			t.Errorf("%s: signer %q, want %q", tn.Tenant, tn.Signer, want)
		}
		if tn.Proven != 2 || tn.Verified != 2 {
			t.Errorf("%s: proven %d verified %d, want 2", tn.Tenant, tn.Proven, tn.Verified)
		}
	}
	// The devnet generated no keys for sp1, and sp1 has no sealant signer:
	// its keys exist only inside the wallet's repository.
	for _, p := range []string{"chain/owners/sp1-owner", "chain/owners/sp1-worker", "tenants/sp1/signer"} {
		matches, _ := filepath.Glob(filepath.Join(dir, p+"*"))
		if len(matches) > 0 {
			t.Errorf("%s exists: sp1's keys must live only in its venus-wallet", matches)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tenants", "sp1", "venus-wallet", "keystore.sqlit")); err != nil {
		t.Errorf("the wallet's keystore: %v", err)
	}
}

// TestVenusWalletSignFilter runs the demo wallet's sign filter as
// venus-wallet does (sh -c EXPR, the SignMsg JSON on stdin, exit 0 =
// sign) on the JSON venus-wallet 1.20.0 produces (captured from the real
// binary: json.MarshalIndent of {SignType, Data: *types.Message}).
func TestVenusWalletSignFilter(t *testing.T) {
	msg := func(signType, to string, method int) string {
		return `{
  "SignType": "` + signType + `",
  "Data": {
    "CID": {
      "/": "bafy2bzaceaobmgyeijpieosl3w4q3ibpfd4oub76s66m35m3nkql57p5xiw3m"
    },
    "Version": 0,
    "To": "` + to + `",
    "From": "t3udjwper6lqk34dhpjnkjiciqrwviuxtm7ggybsdsnqkgaqwcvt722anmc2h5qvf7nmghhgxyg7psxstqsanq",
    "Nonce": 0,
    "Value": "0",
    "GasLimit": 1000000,
    "GasFeeCap": "100000",
    "GasPremium": "1000",
    "Method": ` + fmt.Sprint(method) + `,
    "Params": "gQE="
  }
}`
	}
	for _, tc := range []struct {
		name  string
		input string
		allow bool
	}{
		{"PreCommitSectorBatch2 to the miner", msg("message", "t01000", 28), true},
		{"ProveCommitSectors3 to the miner", msg("message", "t01000", 34), true},
		{"ProveCommitSectorsNI to the miner", msg("message", "t01000", 36), true},
		{"WithdrawBalance", msg("message", "t01000", 16), false},
		{"a send", msg("message", "t01000", 0), false},
		{"method 280", msg("message", "t01000", 280), false},
		{"PreCommit to another miner", msg("message", "t010001", 28), false},
		{"not a chain message", msg("unknown", "t01000", 28), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", signFilter(1000))
			cmd.Stdin = strings.NewReader(tc.input)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			switch {
			case err == nil && !tc.allow:
				t.Fatalf("allowed:\n%s", tc.input)
			case err != nil && !errors.As(err, &exit):
				t.Fatal(err)
			case err != nil && tc.allow:
				t.Fatalf("refused (%s):\n%s", out, tc.input)
			case err != nil && !strings.Contains(string(out), "only PreCommitSectorBatch2"):
				t.Fatalf("refusal text %q does not say what is allowed", out)
			}
		})
	}
}
