package signer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealant/sealant/chain/types"
)

// TestInsecurePermissionsRefused: key files and passphrase files that
// group or others can read are refused, as Lotus refuses its keystore's,
// unless explicitly allowed.
func TestInsecurePermissionsRefused(t *testing.T) {
	ks, err := OpenKeystore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ks.KDF = testKDF
	pass := []byte("a long enough passphrase")
	a, err := ks.Generate(types.SigTypeSecp256k1, pass)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Unlock(pass); err != nil {
		t.Fatalf("0600 key: %v", err)
	}
	if err := os.Chmod(ks.pathFor(a), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Unlock(pass); !errors.Is(err, ErrInsecurePerms) || !strings.Contains(err.Error(), "0600") {
		t.Errorf("0644 key unlocked: %v", err)
	}
	if _, err := ks.Export(a, pass); !errors.Is(err, ErrInsecurePerms) {
		t.Errorf("0644 key exported: %v", err)
	}
	ks.AllowInsecurePerms = true
	if w, err := ks.Unlock(pass); err != nil {
		t.Errorf("0644 key with AllowInsecurePerms: %v", err)
	} else {
		w.Close()
	}

	pf := filepath.Join(t.TempDir(), "passphrase")
	if err := os.WriteFile(pf, []byte("from a file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPassphrase(PassphraseSource{File: pf}); !errors.Is(err, ErrInsecurePerms) {
		t.Errorf("0644 passphrase file read: %v", err)
	}
	if p, err := ReadPassphrase(PassphraseSource{File: pf, AllowInsecurePerms: true}); err != nil || string(p) != "from a file" {
		t.Errorf("0644 passphrase file with AllowInsecurePerms: %q %v", p, err)
	}
}

// TestNewKeystorePassphraseLength: the first key of a keystore needs a
// passphrase of at least MinPassphraseLen characters.
func TestNewKeystorePassphraseLength(t *testing.T) {
	ks, err := OpenKeystore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ks.KDF = testKDF
	for _, p := range []string{"x", "elevenchars", "ééééééééééé"} {
		if _, err := ks.Generate(types.SigTypeSecp256k1, []byte(p)); !errors.Is(err, ErrWeakPassphrase) {
			t.Errorf("passphrase %q (%d chars): %v", p, len([]rune(p)), err)
		}
	}
	if _, err := ks.Generate(types.SigTypeSecp256k1, []byte("twelve chars")); err != nil {
		t.Fatalf("12 characters: %v", err)
	}
}

// TestPlainWSNeedsInsecure: ws:// to a non-loopback manager is refused
// without --insecure; loopback and wss:// are fine.
func TestPlainWSNeedsInsecure(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "t"), []byte("tok\n"), 0o600)
	load := func(url string) *Config {
		p := filepath.Join(dir, "c.toml")
		_ = os.WriteFile(p, []byte("keystore='k'\nstate_dir='s'\naudit_log='a'\npolicy='p'\n[[managers]]\nurl='"+url+"'\ntoken_file='t'\n"), 0o600)
		c, err := LoadConfig(p)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, u := range []string{"ws://manager.example:4100/rpc/v0", "ws://10.0.0.10:1789/rpc/v0", "ws://[2001:db8::1]:1789/rpc/v0"} {
		c := load(u)
		if _, err := c.Endpoints(); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "--insecure") {
			t.Errorf("%s accepted: %v", u, err)
		}
		c.Insecure = true
		if _, err := c.Endpoints(); err != nil {
			t.Errorf("%s with Insecure: %v", u, err)
		}
	}
	for _, u := range []string{"ws://127.0.0.1:1789/rpc/v0", "ws://localhost:1789/rpc/v0", "ws://[::1]:1789/rpc/v0", "wss://manager.example/rpc/v0"} {
		if _, err := load(u).Endpoints(); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
}

// TestSendRefusalNamed: a refused method 0 message names it "Send".
func TestSendRefusalNamed(t *testing.T) {
	f := newFixture(t, testPolicyTOML)
	o := defaultMsg(keyAddr(t, f.keys[0]))
	o.method, o.rawParams = 0, true
	d := f.s.Evaluate(signRequest(t, o.build(t), "send"))
	if d.Allowed || !strings.Contains(d.Reason, "method 0 (Send)") {
		t.Errorf("method 0: allowed %v, reason %q", d.Allowed, d.Reason)
	}
}
