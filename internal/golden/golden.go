// Package golden compares generated text (docs drawn from a state table,
// scripted test output) with the checked-in file, or rewrites the file
// when a test runs with its -update flag. Tests only.
package golden

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// Check compares got with the file at path; with update it writes got to
// path instead. rerun is the command that regenerates the file, quoted in
// the failure.
func Check(t testing.TB, path, got string, update bool, rerun string) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run %s to create it)", err, rerun)
		return
	}
	if string(want) != got {
		t.Errorf("%s is out of date; run %s and review the diff.\n%s", path, rerun, FirstDiff(string(want), got))
	}
}

// FirstDiff describes the first differing line of two texts.
func FirstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, wl, gl)
		}
	}
	return "(texts differ only in length)"
}
