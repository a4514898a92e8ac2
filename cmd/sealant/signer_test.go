package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/manager/signhub"
	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/signer"
)

// Lotus `wallet export` output (hex-lotus) for a secp256k1 key, from
// signer/testdata/lotus_keys.json.
const (
	cliLotusKeyHex  = "7b2254797065223a22736563703235366b31222c22507269766174654b6579223a226b35507976337148327349586343595a58594f5775453149326e32554539436861556b6c4e36695a5763453d227d"
	cliLotusKeyAddr = "f1fib3pv7jua2ockdugtz7viz3cyy6lkhh7rfx3sa"
	cliLotusKeyB64  = "k5Pyv3qH2sIXcCYZXYOWuE1I2n2UE9ChaUklN6iZWcE="
)

func runSignerCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(""))
	err := root.Execute()
	return out.String(), errb.String(), err
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func TestSignerKeyCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "signer")
	t.Setenv(signer.PassphraseEnv, "test passphrase")
	var all strings.Builder
	run := func(args ...string) string {
		t.Helper()
		out, errOut, err := runSignerCLI(t, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		all.WriteString(out + errOut)
		return out
	}
	run("signer", "init", "--dir", dir)
	for _, f := range []string{signer.ConfigFileName, signer.PolicyFileName} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	keyFile := filepath.Join(t.TempDir(), "key.hex")
	if err := os.WriteFile(keyFile, []byte(cliLotusKeyHex+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	imported := strings.TrimSpace(run("signer", "import", "--dir", dir, keyFile))
	want, _ := address.Parse(cliLotusKeyAddr)
	if got, err := address.Parse(imported); err != nil || got != want {
		t.Fatalf("import printed %q, want %s", imported, want)
	}
	blsAddr := strings.TrimSpace(run("signer", "new", "--dir", dir, "--type", "bls"))
	if !strings.HasPrefix(blsAddr, "t3") && !strings.HasPrefix(blsAddr, "f3") {
		t.Fatalf("new bls printed %q", blsAddr)
	}
	var rows []struct{ Address, Type string }
	if err := json.Unmarshal([]byte(run("signer", "list", "--dir", dir, "--json")), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("list: %v %v", rows, err)
	}
	// Nothing so far printed key material.
	for _, s := range []string{cliLotusKeyHex, cliLotusKeyB64} {
		if strings.Contains(all.String(), s) {
			t.Fatal("key material printed by init/import/new/list")
		}
	}

	if _, _, err := runSignerCLI(t, "signer", "export", "--dir", dir, imported); err == nil || !strings.Contains(err.Error(), "--show-private-key") {
		t.Fatalf("export without the flag: %v", err)
	}
	if out := run("signer", "export", "--dir", dir, "--show-private-key", imported); strings.TrimSpace(out) != cliLotusKeyHex {
		t.Fatalf("export = %q, want the Lotus hex back", out)
	}
	t.Setenv(signer.PassphraseEnv, "wrong")
	if _, _, err := runSignerCLI(t, "signer", "export", "--dir", dir, "--show-private-key", imported); !errors.Is(err, signer.ErrBadPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
}

func cliPolicy(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.toml")
	text := `miners = ["t01000"]
max_value_per_message = "2"
max_value_per_day = "10"
max_gas_fee_cap = "0.000000001"
max_gas_premium = "0.000000001"
max_fee_per_message = "0.1"
max_fee_per_day = "1"
[sectors]
numbers = ["100-199"]
`
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func cliPrecommit(t *testing.T, to string, sector uint64) *types.Message {
	t.Helper()
	params, err := miner.EncodeParams(&miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{{
		SealProof: miner.RegisteredSealProofStackedDrg32GiBV1_1, SectorNumber: miner.SectorNumber(sector),
		SealedCID: miner.SealedCID([32]byte{1}), SealRandEpoch: 1000, Expiration: 1000 + 540*2880}}})
	if err != nil {
		t.Fatal(err)
	}
	toA, _ := address.Parse(to)
	from, _ := address.Parse(cliLotusKeyAddr)
	return &types.Message{To: toA, From: from, Value: types.FromFil(1), GasLimit: 10_000_000,
		GasFeeCap: types.NewInt(100_000), GasPremium: types.NewInt(100), Method: 28, Params: params}
}

func TestSignerPolicyCheckCLI(t *testing.T) {
	pol := cliPolicy(t)
	ok := cliPrecommit(t, "t01000", 150)
	okCBOR, _ := ok.Serialize()
	okJSON, _ := json.Marshal(ok)
	jsonFile := filepath.Join(t.TempDir(), "msg.json")
	_ = os.WriteFile(jsonFile, okJSON, 0o600)
	binFile := filepath.Join(t.TempDir(), "msg.cbor")
	_ = os.WriteFile(binFile, okCBOR, 0o600)
	bad, _ := cliPrecommit(t, "t01001", 150).Serialize()
	outOfRange, _ := cliPrecommit(t, "t01000", 500).Serialize()

	tests := []struct {
		name   string
		msg    string
		code   int
		reason string
	}{
		{"hex allowed", hex.EncodeToString(okCBOR), 0, ""},
		{"json file allowed", jsonFile, 0, ""},
		{"binary file allowed", binFile, 0, ""},
		{"wrong miner", hex.EncodeToString(bad), 1, "recipient t01001 is not an allowed miner actor"},
		{"sector out of range", hex.EncodeToString(outOfRange), 1, "sector 500 is outside the tenant's range"},
		{"malformed", "8a00", 1, "malformed message cbor"},
		{"neither file nor hex", "not-a-message", 2, "neither a file nor hex"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runSignerCLI(t, "signer", "policy", "check", "--policy", pol, tc.msg)
			if exitCode(err) != tc.code {
				t.Fatalf("exit %d (%v), want %d", exitCode(err), err, tc.code)
			}
			if tc.code == 1 {
				if !strings.Contains(err.Error(), tc.reason) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("reason %q, want one line containing %q", err, tc.reason)
				}
			}
			if tc.code == 2 && !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("err %v", err)
			}
			if tc.code == 0 && !strings.HasPrefix(out, "allowed: PreCommitSectorBatch2") {
				t.Fatalf("output %q", out)
			}
		})
	}

	out, _, err := runSignerCLI(t, "signer", "policy", "check", "--json", "--policy", pol, hex.EncodeToString(bad))
	if exitCode(err) != 1 {
		t.Fatalf("--json refused exit %d", exitCode(err))
	}
	var doc struct {
		Allowed bool
		Reason  string
		Summary signer.Summary
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if doc.Allowed || !strings.Contains(doc.Reason, "t01001") || doc.Summary.To != "t01001" || doc.Summary.Sectors != "150" ||
		doc.Summary.Cid != cliPrecommit(t, "t01001", 150).Cid().String() {
		t.Fatalf("--json document %+v", doc)
	}

	// --keystore makes the sender check apply: an empty keystore holds no key.
	ks := t.TempDir()
	_, _, err = runSignerCLI(t, "signer", "policy", "check", "--policy", pol, "--keystore", ks, hex.EncodeToString(okCBOR))
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "not one of this signer's keys") {
		t.Fatalf("--keystore: %v", err)
	}
}

// TestSignerRunCLI runs `sealant signer run` against an in-process manager
// hub over loopback and has it sign one message.
func TestSignerRunCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "signer")
	if _, err := signer.Init(dir); err != nil {
		t.Fatal(err)
	}
	passFile := filepath.Join(dir, "passphrase")
	_ = os.WriteFile(passFile, []byte("run passphrase\n"), 0o600)
	keyFile := filepath.Join(t.TempDir(), "key.hex")
	_ = os.WriteFile(keyFile, []byte(cliLotusKeyHex), 0o600)
	if _, _, err := runSignerCLI(t, "signer", "import", "--dir", dir, "--passphrase-file", passFile, keyFile); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(dir, signer.PolicyFileName), []byte(readFile(t, cliPolicy(t))), 0o600)

	secret := []byte("cli-run-test-secret-0123456789abcdef")
	srv, err := rpc.NewServer(rpc.ServerConfig{Secret: secret, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hub := signhub.New(signhub.Config{Logger: slog.New(slog.DiscardHandler)})
	hub.Register(srv)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	tok, _ := rpc.IssueToken(secret, rpc.Claims{Allow: rpc.AllowList(rpc.PermSign), Role: rpc.RoleSigner, Tenant: "acme"})
	_ = os.WriteFile(filepath.Join(dir, "manager.token"), []byte(tok+"\n"), 0o600)
	cfg := strings.Replace(readFile(t, filepath.Join(dir, signer.ConfigFileName)),
		`url = "wss://manager.example:4100/rpc/v0"`, `url = "ws`+strings.TrimPrefix(ts.URL, "http")+`"`, 1)
	cfg = strings.Replace(cfg, `# passphrase_file = "passphrase"`, `passphrase_file = "passphrase"`, 1)
	cfgPath := filepath.Join(dir, signer.ConfigFileName)
	_ = os.WriteFile(cfgPath, []byte(cfg), 0o600)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var errb bytes.Buffer
	go func() {
		root := newRootCmd()
		root.SetArgs([]string{"signer", "run", "--config", cfgPath})
		root.SetOut(io.Discard)
		root.SetErr(&errb)
		root.SetIn(strings.NewReader(""))
		done <- root.ExecuteContext(ctx)
	}()
	from, _ := address.Parse(cliLotusKeyAddr)
	msg := cliPrecommit(t, "t01000", 150)
	sig, err := hub.Sign(context.Background(), "acme", from, msg) // waits for the signer to connect
	if err != nil {
		t.Fatal(err)
	}
	if err := sigs.VerifyMessage(&types.SignedMessage{Message: *msg, Signature: sig}); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("signer run: %v", err)
	}
	audit := readFile(t, filepath.Join(dir, signer.AuditFileName))
	if !strings.Contains(audit, `"decision":"signed"`) {
		t.Fatalf("audit log: %s", audit)
	}
	for _, s := range []string{cliLotusKeyHex, cliLotusKeyB64, "run passphrase"} {
		if strings.Contains(audit, s) || strings.Contains(errb.String(), s) {
			t.Fatal("secret in audit log or process output")
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
