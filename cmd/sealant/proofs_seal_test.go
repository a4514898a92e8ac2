package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestVerifyC1ExitCodes pins the verify-c1 contract scripts rely on: 1 is a
// verdict (the input was read and is not a valid C1 output), 2 means nothing
// was checked (bad flags, unreadable file or sidecar).
func TestVerifyC1ExitCodes(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	if err := os.WriteFile(garbage, []byte(`{"not":"a c1 output"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	badSide := filepath.Join(dir, "side.json")
	for name, body := range map[string]string{badSide: `{}`, badSide + ".sector.json": `{`} {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"invalid output", []string{garbage}, 1},
		{"missing file", []string{filepath.Join(dir, "absent.json")}, 2},
		{"miner without sector", []string{"--miner", "1000", garbage}, 2},
		{"bad miner", []string{"--miner", "x", "--sector", "1", garbage}, 2},
		{"bad sidecar", []string{badSide}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runSignerCLI(t, append([]string{"proofs", "verify-c1"}, tc.args...)...)
			if got := exitCode(err); got != tc.code {
				t.Errorf("exit %d (%v), want %d", got, err, tc.code)
			}
		})
	}
}
