package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// goldenSpecSector is the shared 2KiB golden sector (testdata/seal-2k-golden.json).
func goldenSpecSector(t *testing.T) (miner, sector uint64, ticket string) {
	t.Helper()
	raw, err := os.ReadFile("../../proofs/porep/testdata/seal-2k-golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Miner  uint64 `json:"miner"`
		Sector uint64 `json:"sector"`
		Ticket string `json:"ticket"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return g.Miner, g.Sector, g.Ticket
}

// TestSealBatchCLI seals a spec of three 2KiB sectors (the golden one, a CC
// sector of another miner, a data sector with two pieces) and checks each
// printed object against "proofs seal --json" on the same inputs, field
// for field, and that "proofs c1" works on a batch directory.
func TestSealBatchCLI(t *testing.T) {
	root := t.TempDir()
	pc := filepath.Join(root, "parents")
	p1, p2 := filepath.Join(root, "p1"), filepath.Join(root, "p2")
	os.WriteFile(p1, []byte(strings.Repeat("a", 300)), 0o644)
	os.WriteFile(p2, []byte(strings.Repeat("b", 700)), 0o644)
	gm, gs, gt := goldenSpecSector(t)
	type sec struct {
		miner  any
		sector uint64
		ticket string
		pieces []string
	}
	secs := []sec{
		{gm, gs, gt, nil},
		{"t01234", 7, strings.Repeat("ab", 32), nil},
		{2000, 9, "0x" + strings.Repeat("0f", 32), []string{p1, p2}},
	}
	var specSectors []map[string]any
	for i, s := range secs {
		m := map[string]any{"miner": s.miner, "sector": s.sector, "ticket": s.ticket, "dir": filepath.Join(root, "batch", fmt.Sprint(i))}
		if s.pieces != nil {
			m["pieces"] = s.pieces
		}
		specSectors = append(specSectors, m)
	}
	spec, _ := json.Marshal(map[string]any{"proof": "2KiB", "parent_cache": pc, "sectors": specSectors})
	specPath := filepath.Join(root, "spec.json")
	os.WriteFile(specPath, spec, 0o644)
	out, _, err := runSealant(t, nil, "proofs", "seal-batch", "--spec", specPath, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != len(secs) {
		t.Fatalf("output %q: %v", out, err)
	}
	for i, s := range secs {
		args := []string{"proofs", "seal", "--proof", "2KiB", "--miner", fmt.Sprint(s.miner), "--sector", fmt.Sprint(s.sector),
			"--ticket", s.ticket, "--dir", filepath.Join(root, "single", fmt.Sprint(i)), "--parent-cache-dir", pc, "--json"}
		for _, p := range s.pieces {
			args = append(args, "--piece", p)
		}
		sout, _, err := runSealant(t, nil, args...)
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		if err := json.Unmarshal([]byte(sout), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("sector %d: seal-batch printed %v, proofs seal %v", i, got[i], want)
		}
	}
	c1 := filepath.Join(root, "c1.json")
	if _, _, err := runSealant(t, nil, "proofs", "c1", "--dir", filepath.Join(root, "batch", "0"), "--seed", strings.Repeat("11", 32), "--out", c1); err != nil {
		t.Fatalf("c1 on a batch directory: %v", err)
	}
	if _, _, err := runSealant(t, nil, "proofs", "verify-c1", c1); err != nil {
		t.Fatalf("verify-c1: %v", err)
	}
}

// TestSealBatchCLIRefuses: each bad spec exits non-zero with one line and
// creates no sector directory.
func TestSealBatchCLIRefuses(t *testing.T) {
	root := t.TempDir()
	big := filepath.Join(root, "big")
	os.WriteFile(big, make([]byte, 3000), 0o644)
	tk := strings.Repeat("ab", 32)
	d := func(n string) string { return filepath.Join(root, "out", n) }
	s := func(miner, sector int, ticket, dir string, extra string) string {
		return fmt.Sprintf(`{"miner": %d, "sector": %d, "ticket": %q, "dir": %q%s}`, miner, sector, ticket, dir, extra)
	}
	cases := []struct{ name, spec, want string }{
		{"two sizes", `{"proof": "2KiB", "sectors": [` + s(1, 1, tk, d("a"), "") + `,` + s(1, 2, tk, d("b"), `, "proof": "8MiB"`) + `]}`, "one sector size"},
		{"duplicate sector", `{"proof": "2KiB", "sectors": [` + s(1, 1, tk, d("a"), "") + `,` + s(1, 1, tk, d("b"), "") + `]}`, "both t01-1"},
		{"duplicate dir", `{"proof": "2KiB", "sectors": [` + s(1, 1, tk, d("a"), "") + `,` + s(1, 2, tk, d("a"), "") + `]}`, "share the directory"},
		{"bad ticket", `{"proof": "2KiB", "sectors": [` + s(1, 1, "abc", d("a"), "") + `]}`, "ticket"},
		{"piece does not fit", `{"proof": "2KiB", "sectors": [` + s(1, 1, tk, d("a"), fmt.Sprintf(`, "pieces": [%q]`, big)) + `]}`, "do not fit"},
		{"unknown proof", `{"proof": "3KiB", "sectors": [` + s(1, 1, tk, d("a"), "") + `]}`, "proof"},
		{"no sectors", `{"proof": "2KiB", "sectors": []}`, "no sectors"},
		{"unknown field", `{"proof": "2KiB", "sectors": [` + s(1, 1, tk, d("a"), `, "piece": ["x"]`) + `]}`, "unknown field"},
		{"not json", `{"proof": `, "spec"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := runSealant(t, []byte(c.spec), "proofs", "seal-batch", "--spec", "-", "--json")
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line containing %q", err, c.want)
			}
			if _, err := os.Stat(filepath.Join(root, "out")); !os.IsNotExist(err) {
				t.Fatalf("a refused spec created files (stat: %v)", err)
			}
		})
	}
}
