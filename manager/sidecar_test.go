package manager

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSidecarImport: a manager started on a store whose older manager kept
// its tables in a separate sidecar file takes the rows over (queued pieces,
// workers) and renames the file, so a second start imports nothing twice.
func TestSidecarImport(t *testing.T) {
	e := newEnv(t)
	path := strings.TrimPrefix(e.dsn, "sqlite://")
	old := sidecarPath(path)
	db, err := sql.Open("sqlite", "file:"+old+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range strings.Split(strings.ReplaceAll(sidecarSchema, "{{ID}}", "INTEGER PRIMARY KEY AUTOINCREMENT"), ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`INSERT INTO mgr_piece_queue (tenant_id, piece_cid, size, payload_size, source_url, created_ms) VALUES ('acme', 'baga', 2048, 2032, 'http://x/p', 1)`,
		`INSERT INTO mgr_piece_queue (tenant_id, piece_cid, size, payload_size, source_url, created_ms) VALUES ('acme', 'bagb', 2048, 2032, 'http://x/q', 2)`,
		`INSERT INTO mgr_workers (name, info, seen_ms) VALUES ('w1', '{"name":"w1"}', 3)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := e.open()
	if n, err := s.side.queuedPieces(adminCtx(), "acme"); err != nil || n != 2 {
		t.Fatalf("queued pieces after import: %d, %v; want 2", n, err)
	}
	ws, err := s.side.workers(adminCtx())
	if err != nil || len(ws) != 1 || ws[0].Name != "w1" {
		t.Fatalf("workers after import: %+v, %v", ws, err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old sidecar file still in place: %v", err)
	}
	if _, err := os.Stat(old + ".imported"); err != nil {
		t.Fatalf("imported copy: %v", err)
	}
	s.Close()
	// A second start finds nothing to import and keeps the rows once.
	s2 := e.open()
	if n, err := s2.side.queuedPieces(adminCtx(), "acme"); err != nil || n != 2 {
		t.Fatalf("queued pieces after restart: %d, %v; want 2", n, err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.sidecar.sqlite")); len(m) != 0 {
		t.Fatalf("sidecar file re-created: %v", m)
	}
}
