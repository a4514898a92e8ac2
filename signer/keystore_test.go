package signer

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
)

type lotusKey struct {
	Type         string `json:"type"`
	Address      string `json:"address"`
	HexLotus     string `json:"hex_lotus"`
	MessageHex   string `json:"message_hex"`
	SignatureHex string `json:"signature_hex"`
}

func loadLotusKeys(t *testing.T) []lotusKey {
	t.Helper()
	data, err := os.ReadFile("testdata/lotus_keys.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Keys []lotusKey }
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Keys) != 2 {
		t.Fatalf("%d vectors", len(v.Keys))
	}
	return v.Keys
}

func testKeystore(t *testing.T) *Keystore {
	t.Helper()
	ks, err := OpenKeystore(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	ks.KDF = testKDF
	return ks
}

// TestLotusImportExport imports `lotus wallet export` output, checks the
// sealed file, signs like Lotus after unlocking, and exports the identical
// hex-lotus string back.
func TestLotusImportExport(t *testing.T) {
	pass := []byte("correct horse battery staple")
	for _, v := range loadLotusKeys(t) {
		t.Run(v.Type, func(t *testing.T) {
			ks := testKeystore(t)
			ki, err := sigs.ParseKeyInfo([]byte(v.HexLotus + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			a, err := ks.Import(ki, pass)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := address.Parse(v.Address)
			if a != want {
				t.Fatalf("address %s, want %s", a, want)
			}
			if _, err := ks.Import(ki, pass); !errors.Is(err, ErrKeyExists) {
				t.Fatalf("second import: %v, want ErrKeyExists", err)
			}
			list, err := ks.List()
			if err != nil || len(list) != 1 || list[0].Address != a || string(list[0].Type) != v.Type {
				t.Fatalf("list = %+v, %v", list, err)
			}
			st, err := os.Stat(list[0].Path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
			}
			raw, _ := os.ReadFile(list[0].Path)
			assertNoSecrets(t, "key file", string(raw), []sigs.KeyInfo{ki})
			if !strings.Contains(string(raw), address.Format(want, address.Mainnet)) {
				t.Fatal("key file does not name its address in the clear")
			}

			w, err := ks.Unlock(pass)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			msg, _ := hex.DecodeString(v.MessageHex)
			sig, err := w.sign(a, msg)
			if err != nil {
				t.Fatal(err)
			}
			got := hex.EncodeToString(append([]byte{byte(sig.Type)}, sig.Data...))
			if got != v.SignatureHex {
				t.Fatalf("signature %s, want Lotus's %s", got, v.SignatureHex)
			}
			back, err := ks.Export(a, pass)
			if err != nil {
				t.Fatal(err)
			}
			if back.HexLotus() != v.HexLotus {
				t.Fatal("export differs from the imported hex-lotus")
			}
		})
	}
}

func TestKeystoreWrongPassphraseAndTamper(t *testing.T) {
	ks := testKeystore(t)
	a, err := ks.Generate(types.SigTypeBLS, []byte("pw-one-long-enough"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ks.Generate(types.SigTypeSecp256k1, []byte("pw-one-long-enough"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Unlock([]byte("pw-two-long-enough")); !errors.Is(err, ErrBadPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := ks.Export(a, []byte("pw-two-long-enough")); !errors.Is(err, ErrBadPassphrase) {
		t.Fatalf("wrong passphrase export: %v", err)
	}
	w, err := ks.Unlock([]byte("pw-one-long-enough"))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Addresses(); len(got) != 2 || !w.Has(a) || !w.Has(b) {
		t.Fatalf("addresses %v", got)
	}
	w.Close()

	// Move a's sealed key under b's header: the AEAD's additional data
	// (address, type) no longer matches, so it must not open.
	pa, pb := ks.pathFor(a), ks.pathFor(b)
	var fa, fb keyFile
	ra, _ := os.ReadFile(pa)
	rb, _ := os.ReadFile(pb)
	_ = json.Unmarshal(ra, &fa)
	_ = json.Unmarshal(rb, &fb)
	fb.Salt, fb.Nonce, fb.Ciphertext, fb.KDFParams = fa.Salt, fa.Nonce, fa.Ciphertext, fa.KDFParams
	out, _ := json.Marshal(fb)
	if err := os.WriteFile(pb, out, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Export(b, []byte("pw-one-long-enough")); !errors.Is(err, ErrBadPassphrase) {
		t.Fatalf("swapped ciphertext opened: %v", err)
	}
	// A crafted KDF cost is rejected before any work.
	fb.KDFParams.MemoryKiB = 1 << 30
	out, _ = json.Marshal(fb)
	_ = os.WriteFile(pb, out, 0o600)
	if _, err := ks.List(); !errors.Is(err, ErrKeyFile) {
		t.Fatalf("huge kdf memory: %v", err)
	}
}

func TestReadPassphrase(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "pass")
	_ = os.WriteFile(pf, []byte("from-file\n"), 0o600)
	env := func(v string) func(string) string { return func(string) string { return v } }
	tests := []struct {
		name string
		src  PassphraseSource
		want string
		err  bool
	}{
		{"file wins", PassphraseSource{File: pf, Getenv: env("from-env")}, "from-file", false},
		{"env", PassphraseSource{Getenv: env("from-env")}, "from-env", false},
		{"none", PassphraseSource{Getenv: env("")}, "", true},
		{"missing file", PassphraseSource{File: filepath.Join(dir, "nope")}, "", true},
	}
	for _, tc := range tests {
		got, err := ReadPassphrase(tc.src)
		if (err != nil) != tc.err || string(got) != tc.want {
			t.Errorf("%s: %q, %v", tc.name, got, err)
		}
	}
	_ = os.WriteFile(pf, []byte("\n"), 0o600)
	if _, err := ReadPassphrase(PassphraseSource{File: pf}); err == nil {
		t.Error("empty passphrase accepted")
	}
}

func TestWalletRedacts(t *testing.T) {
	keys := testKeys(t)
	w, err := NewWallet(keys...)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var buf bytes.Buffer
	for _, k := range w.keys {
		buf.WriteString(k.String())
	}
	assertNoSecrets(t, "wallet key String", buf.String(), keys)
}

func BenchmarkUnlockDefaultKDF(b *testing.B) {
	ks, err := OpenKeystore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ks.Generate(types.SigTypeSecp256k1, []byte("pw-long-enough")); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		w, err := ks.Unlock([]byte("pw-long-enough"))
		if err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
}
