package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckWritesThenCompares(t *testing.T) {
	p := filepath.Join(t.TempDir(), "doc.md")
	Check(t, p, "a\nb\n", true, "go test -update")
	if b, err := os.ReadFile(p); err != nil || string(b) != "a\nb\n" {
		t.Fatalf("written %q, %v", b, err)
	}
	Check(t, p, "a\nb\n", false, "go test -update")
}

func TestFirstDiff(t *testing.T) {
	for _, c := range []struct{ want, got, has string }{
		{"a\nb\nc", "a\nx\nc", `line 2:`},
		{"a\nb", "a\nb\nc", `line 3:`},
		{"a", "a", "only in length"},
	} {
		if d := FirstDiff(c.want, c.got); !strings.Contains(d, c.has) {
			t.Errorf("FirstDiff(%q, %q) = %q, want it to contain %q", c.want, c.got, d, c.has)
		}
	}
}
