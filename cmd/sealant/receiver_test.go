package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealant/sealant/delivery"
	"github.com/sealant/sealant/rpc"
)

func runReceiverCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetArgs(append([]string{"receiver"}, args...))
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.Execute()
	return out.String(), err
}

func TestReceiverCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "receiver.toml")
	if err := os.WriteFile(cfg, []byte("root = \""+dir+"/root\"\nstore = \""+dir+"/store\"\nminers = [1000]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runReceiverCLI(t, "token", "issue", "--config", cfg, "--provider", "acme", "--url", "https://sp.example:2345", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Provider, Token, Target string }
	if err := json.Unmarshal([]byte(out), &tok); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	secret, err := delivery.LoadOrCreateSecret(filepath.Join(dir, "root", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := rpc.VerifyToken(secret, tok.Token)
	if err != nil || c.Role != rpc.RoleProvider || c.Subject != "acme" || c.ID == "" {
		t.Fatalf("token claims %+v %v", c, err)
	}
	if tok.Target != "https://sp.example:2345#token="+tok.Token {
		t.Fatalf("target %q", tok.Target)
	}
	if st, _ := os.Stat(filepath.Join(dir, "root", "secret")); st.Mode().Perm() != 0o600 {
		t.Fatalf("secret mode %v", st.Mode())
	}

	out, err = runReceiverCLI(t, "sectors", "list", "--config", cfg, "--json")
	if err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("list: %q %v", out, err)
	}
	// The table ends with the quarantine's use and bounds.
	q := filepath.Join(dir, "root", "quarantine", "s-t01000-9-1700000000000000000")
	_ = os.MkdirAll(q, 0o755)
	_ = os.WriteFile(filepath.Join(q, "reason.json"), []byte("{}"), 0o600)
	out, err = runReceiverCLI(t, "sectors", "list", "--config", cfg, "--json=false")
	if err != nil || !strings.Contains(out, "quarantine: 1 sectors, 2 bytes (limits: 8 sectors, 137438953472 bytes") {
		t.Fatalf("list: %q %v", out, err)
	}
	_, err = runReceiverCLI(t, "verify", "--config", cfg, "--sector", "1000:1", "--json")
	if !errors.Is(err, delivery.ErrNotFound) {
		t.Fatalf("verify unknown sector: %v", err)
	}
	_, err = runReceiverCLI(t, "verify", "--config", cfg, "--sector", "nonsense")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("bad sector id: %v, want exit 2", err)
	}
	if _, err := runReceiverCLI(t, "token", "issue", "--config", filepath.Join(dir, "missing.toml"), "--provider", "x"); err == nil {
		t.Fatal("missing config accepted")
	}
	out, err = runReceiverCLI(t, "config")
	if err != nil || !strings.Contains(out, "store =") {
		t.Fatalf("config: %q %v", out, err)
	}
}
