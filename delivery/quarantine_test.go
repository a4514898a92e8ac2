package delivery

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// corruptDeliver delivers s with its replica's first byte flipped (the
// checksum check rejects it) and returns the error.
func corruptDeliver(t *testing.T, e *env, s *testSector) error {
	t.Helper()
	p := s.path(t, "sealed")
	b := readAll(t, p)
	b[0] ^= 1
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	defer func() {
		b[0] ^= 1
		_ = os.WriteFile(p, b, 0o644)
	}()
	return e.deliver(t, s, testClient())
}

// TestQuarantineBounded: a sector rejected again and again keeps one
// quarantined copy, and beyond the configured count or size the oldest
// copies are deleted, so rejected retries cannot fill the SP's disk.
func TestQuarantineBounded(t *testing.T) {
	e := newEnv(t, func(c *ReceiverConfig) { c.Quarantine = QuarantineLimits{MaxCount: 2, MaxBytes: -1} })
	a := newTestSector(t, 71)
	for range 3 {
		if err := corruptDeliver(t, e, a); !errors.Is(err, ErrRejected) {
			t.Fatalf("corrupt delivery: %v", err)
		}
	}
	qs, _, err := QuarantineUsage(e.root)
	if err != nil || len(qs) != 1 || qs[0].Sector != a.id.String() {
		t.Fatalf("after 3 rejections of one sector: %+v %v", qs, err)
	}
	for _, n := range []uint64{72, 73} {
		if err := corruptDeliver(t, e, newTestSector(t, n)); !errors.Is(err, ErrRejected) {
			t.Fatalf("corrupt delivery %d: %v", n, err)
		}
	}
	qs, _, _ = QuarantineUsage(e.root)
	if len(qs) != 2 || qs[0].Sector == a.id.String() || qs[1].Sector == a.id.String() {
		t.Fatalf("3 sectors with a limit of 2: %+v (the oldest, %s, should be gone)", qs, a.id)
	}
	// The record keeps the verdict after its copy is gone.
	st, err := testClient().Status(context.Background(), e.endpoint(), a.id)
	if err != nil || st.Reason == "" {
		t.Fatalf("status of an evicted sector: %+v %v", st, err)
	}

	// A byte budget smaller than one copy keeps only its note.
	e2 := newEnv(t, func(c *ReceiverConfig) { c.Quarantine = QuarantineLimits{MaxBytes: 1024} })
	if err := corruptDeliver(t, e2, newTestSector(t, 74)); !errors.Is(err, ErrRejected) {
		t.Fatal(err)
	}
	qs, _, _ = QuarantineUsage(e2.root)
	if len(qs) != 1 {
		t.Fatalf("byte budget: %+v", qs)
	}
	var files []string
	_ = filepath.WalkDir(qs[0].Dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, filepath.Base(p))
		}
		return nil
	})
	if len(files) != 1 || files[0] != "reason.json" {
		t.Fatalf("over the byte budget the copy keeps %v, want only reason.json", files)
	}
}
