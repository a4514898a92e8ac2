// Package testenv lets tests that need something outside the repository
// (PostgreSQL, Chromium) skip in a way the whole run can report: go test
// prints nothing of a passing package (package list mode), so a skip is
// invisible unless it is collected. Skip records the reason in the file
// named by $SEALANT_SKIP_REPORT, which .ci/run prints as the run's last
// lines.
package testenv

import (
	"bytes"
	"os"
	"sync"
	"testing"
)

// ReportEnv names the file Skip appends its reasons to (one line each).
const ReportEnv = "SEALANT_SKIP_REPORT"

// Skip records "<package test>: reason" in $SEALANT_SKIP_REPORT (when set)
// and skips t.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if p := os.Getenv(ReportEnv); p != "" {
		if f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
			_, _ = f.WriteString(reason + "\n")
			_ = f.Close()
		}
	}
	t.Skip(reason)
}

// Buffer is a bytes.Buffer that goroutines (a logger, a child process's
// output copier) and the test may use at once.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
