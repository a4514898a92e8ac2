package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps failures instead of failing.
type recorder struct {
	testing.TB
	failed []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}

func TestCheck(t *testing.T) {
	p := filepath.Join(t.TempDir(), "doc.md")
	r := &recorder{TB: t}
	Check(r, p, "a\n", false, "go test -update")
	if len(r.failed) != 1 || !strings.Contains(r.failed[0], "go test -update to create it") {
		t.Fatalf("missing file: %q", r.failed)
	}
	Check(t, p, "a\nb\n", true, "go test -update")
	if b, err := os.ReadFile(p); err != nil || string(b) != "a\nb\n" {
		t.Fatalf("written %q, %v", b, err)
	}
	r = &recorder{TB: t}
	Check(r, p, "a\nb\n", false, "go test -update")
	if len(r.failed) != 0 {
		t.Fatalf("same text failed: %q", r.failed)
	}
	Check(r, p, "a\nc\n", false, "go test -update")
	if len(r.failed) != 1 || !strings.Contains(r.failed[0], "is out of date; run go test -update") || !strings.Contains(r.failed[0], "line 2:") {
		t.Fatalf("changed text: %q", r.failed)
	}
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
