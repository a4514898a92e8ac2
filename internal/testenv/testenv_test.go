package testenv

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestSkipRecordsReason(t *testing.T) {
	p := filepath.Join(t.TempDir(), "skips")
	t.Setenv(ReportEnv, p)
	t.Run("skipper", func(t *testing.T) { Skip(t, "pkg: no widget") })
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "pkg: no widget\n" {
		t.Fatalf("report %q, %v", b, err)
	}
}

// TestReadmeTestCommandIsTrue: what the README says about its test command
// is what .ci/run does — go vet, the README command itself, the short
// reliability suite — and .ci/run ends by listing skipped tests.
func TestReadmeTestCommandIsTrue(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?m)^# tests \\((.*)\\)\n(go test .*)$").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no '# tests (…)' comment above a go test command")
	}
	claim, cmd := string(m[1]), string(m[2])
	if !strings.Contains(string(ci), "\n"+cmd+"\n") {
		t.Errorf(".ci/run does not run the README command %q", cmd)
	}
	for _, want := range []struct{ claim, ci string }{
		{"go vet ./...", "\ngo vet ./...\n"},
		{"go test -tags reliability ./reliability/", "go test -tags reliability"},
	} {
		if strings.Contains(claim, want.claim) && !strings.Contains(string(ci), want.ci) {
			t.Errorf("README says %q, .ci/run does not run it", want.claim)
		}
		if !strings.Contains(claim, want.claim) {
			t.Errorf("README's test comment %q does not say .ci/run runs %q", claim, want.claim)
		}
	}
	if !strings.Contains(string(ci), "trap report_skips EXIT") || !strings.Contains(string(ci), ReportEnv) {
		t.Error(".ci/run does not list skipped tests at its end")
	}
}
