package store

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sealant/sealant/internal/testenv"
)

// legacyRows is data as a manager before migration 0003 left it: the
// store's sectors and, in its own mgr_* tables, a piece queue with gaps in
// its ids, the details of three sectors (pieces decided but never recorded
// in the store after a crash; recorded without their URLs; a CC sector),
// one of a deleted sector, a handoff and a worker.
var legacyRows = []string{
	`INSERT INTO sectors (miner_id, number, tenant_id, proof_type, sector_size, worker_id, lease_expires_ms, allocated_ms, updated_ms, pieces_set)
		VALUES (1000, 1, 'acme', 0, 2048, 'w1/t0', 1, 1, 1, FALSE), (1000, 2, 'acme', 0, 2048, 'w1/t1', 1, 1, 1, TRUE),
		(1000, 3, 'acme', 0, 2048, 'w1/t2', 1, 1, 1, TRUE)`,
	`INSERT INTO sector_pieces (miner_id, number, idx, piece_cid, size) VALUES (1000, 2, 0, 'bagb', 1024)`,
	`INSERT INTO mgr_piece_queue (id, tenant_id, piece_cid, size, payload_size, source_url, created_ms)
		VALUES (3, 'acme', 'bagq1', 1024, 1000, 'http://x/q1', 1), (5, 'acme', 'bagq2', 512, 500, 'http://x/q2', 2)`,
	`INSERT INTO mgr_sector_extra (miner_id, number, tenant_id, pieces, comm_c, comm_r_last, location, files, pc_batch, pr_batch) VALUES
		(1000, 1, 'acme', '[{"piece_cid":"baga","size":1024,"payload_size":1016,"source_url":"http://x/a"}]', 'cc01', 'rl01', '', '', 0, 0),
		(1000, 2, 'acme', '[{"piece_cid":"bagb","size":1024,"payload_size":1000,"source_url":"http://x/b"}]', 'cc02', 'rl02', '/persist', '[{"name":"sealed"}]', 7, 9),
		(1000, 3, 'acme', '[]', '', '', '', '', 4, 0),
		(1000, 99, 'acme', '[]', 'gone', '', '', '', 0, 0)`,
	`INSERT INTO mgr_handoff (miner_id, number, md_hash, attempt, pushed_ms, failures, next_ms, last_error)
		VALUES (1000, 2, 'h2', 1, 1700000000000, 2, 1700000060000, 'receiver down')`,
	`INSERT INTO mgr_workers (name, info, seen_ms) VALUES ('w1', '{"name":"w1"}', 3)`,
}

// TestUpgradeManagerTables builds a version-2 database with the mgr_*
// tables and data, as the last manager before migration 0003 left it,
// opens it with this binary and checks every row arrived in the store's
// schema and the old tables are gone, on SQLite and PostgreSQL.
func TestUpgradeManagerTables(t *testing.T) {
	backends := map[string]func(t *testing.T) (driver, dsn string, d dialect){
		"sqlite": func(t *testing.T) (string, string, dialect) {
			path := filepath.Join(t.TempDir(), "v2.sqlite")
			return "sqlite", path, dialectSQLite
		},
		"postgres": func(t *testing.T) (string, string, dialect) {
			dsn := os.Getenv(pgEnv)
			if dsn == "" {
				testenv.Skip(t, "store: PostgreSQL upgrade test skipped: set "+pgEnv)
			}
			return "pgx", pgSchemaDSN(t, dsn), dialectPostgres
		},
	}
	for name, backend := range backends {
		t.Run(name, func(t *testing.T) {
			driver, dsn, d := backend(t)
			rawDSN := dsn
			if d == dialectSQLite {
				rawDSN = "file:" + dsn + "?_journal_mode=WAL"
			}
			raw, err := sql.Open(driver, rawDSN)
			if err != nil {
				t.Fatal(err)
			}
			old := &Store{dialect: d, w: raw, r: raw, rebinds: map[string]string{}}
			if err := old.migrateTo(bg, 2); err != nil {
				t.Fatal(err)
			}
			mustCreate(t, old, tenant("acme", 1000, 1))
			if _, err := raw.Exec(d.render(legacySchema)); err != nil {
				t.Fatal(err)
			}
			for _, q := range legacyRows {
				if _, err := raw.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			raw.Close()

			s, err := Open(bg, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			checkUpgraded(t, s)
		})
	}
}

func checkUpgraded(t *testing.T, s *Store) {
	t.Helper()
	ms, _ := loadMigrations()
	if v, err := s.SchemaVersion(bg); err != nil || v != len(ms) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(ms))
	}
	for _, tbl := range legacyTables {
		var n int64
		if err := s.reader().queryRow(bg, `SELECT COUNT(*) FROM `+tbl).Scan(&n); err == nil {
			t.Errorf("old table %s still there", tbl)
		}
	}
	if n, err := s.QueuedPieces(bg, "acme"); err != nil || n != 2 {
		t.Fatalf("queued pieces %d, %v; want 2", n, err)
	}
	ids, err := s.EnqueuePieces(bg, "acme", []Piece{{CID: "bagn", Size: 1024, SourceURL: "http://x/n"}}, t0)
	if err != nil || len(ids) != 1 || ids[0] <= 5 {
		t.Fatalf("queue ids after upgrade: %v, %v; want one above 5", ids, err)
	}
	sec1, err := s.GetSector(bg, SectorID{1000, 1})
	if err != nil {
		t.Fatal(err)
	}
	if sec1.CommC != "cc01" || sec1.CommRLast != "rl01" {
		t.Errorf("sector 1 commitments %q %q", sec1.CommC, sec1.CommRLast)
	}
	want := map[uint64][]Piece{
		1: {{CID: "baga", Size: 1024, PayloadSize: 1016, SourceURL: "http://x/a"}},
		2: {{CID: "bagb", Size: 1024, PayloadSize: 1000, SourceURL: "http://x/b"}},
		3: nil,
	}
	for n, w := range want {
		got, err := s.Pieces(bg, SectorID{1000, n})
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("sector %d pieces %+v, %v; want %+v", n, got, err, w)
		}
	}
	// The decision carried over is final: the worker gets it, not the queue.
	got, err := s.WorkerAcquirePieces(bg, SectorID{1000, 1}, Holder{Now: t0}, nil)
	if err != nil || !reflect.DeepEqual(got, want[1]) {
		t.Errorf("acquire after upgrade %+v, %v", got, err)
	}
	sec2, _ := s.GetSector(bg, SectorID{1000, 2})
	if sec2.Location != "/persist" || sec2.Files != `[{"name":"sealed"}]` || sec2.LastPreCommitBatch != 7 || sec2.LastProveCommitBatch != 9 {
		t.Errorf("sector 2 details %+v", sec2)
	}
	sec3, _ := s.GetSector(bg, SectorID{1000, 3})
	if sec3.LastPreCommitBatch != 4 {
		t.Errorf("sector 3 last batch %d", sec3.LastPreCommitBatch)
	}
	h, ok, err := s.GetHandoff(bg, SectorID{1000, 2})
	if err != nil || !ok || h.Hash != "h2" || h.Attempt != 1 || h.Failures != 2 || h.LastError != "receiver down" || h.Next.UnixMilli() != 1700000060000 {
		t.Errorf("handoff %+v %v %v", h, ok, err)
	}
	ws, err := s.ListWorkers(bg)
	if err != nil || len(ws) != 1 || ws[0].Name != "w1" || ws[0].Info != `{"name":"w1"}` {
		t.Errorf("workers %+v, %v", ws, err)
	}
}

// TestSidecarFileImport: a store whose oldest manager kept its tables in a
// separate sidecar file takes the rows over when it opens (queued pieces,
// workers) and renames the file, so a second open imports nothing twice.
func TestSidecarFileImport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.sqlite")
	s, err := Open(bg, path)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, tenant("acme", 1000, 1))
	s.Close()
	old := legacySidecarPath(path)
	db, err := sql.Open("sqlite", "file:"+old+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		dialectSQLite.render(legacySchema),
		`INSERT INTO mgr_piece_queue (tenant_id, piece_cid, size, payload_size, source_url, created_ms) VALUES ('acme', 'baga', 2048, 2032, 'http://x/p', 1)`,
		`INSERT INTO mgr_piece_queue (tenant_id, piece_cid, size, payload_size, source_url, created_ms) VALUES ('acme', 'bagb', 2048, 2032, 'http://x/q', 2)`,
		`INSERT INTO mgr_workers (name, info, seen_ms) VALUES ('w1', '{"name":"w1"}', 3)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	for round := range 2 {
		s, err := Open(bg, path)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := s.QueuedPieces(bg, "acme"); err != nil || n != 2 {
			t.Fatalf("round %d: queued pieces %d, %v; want 2", round, n, err)
		}
		if ws, err := s.ListWorkers(bg); err != nil || len(ws) != 1 || ws[0].Name != "w1" {
			t.Fatalf("round %d: workers %+v, %v", round, ws, err)
		}
		s.Close()
		if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("round %d: old sidecar file still in place: %v", round, err)
		}
		if _, err := os.Stat(old + ".imported"); err != nil {
			t.Fatalf("round %d: imported copy: %v", round, err)
		}
	}
}
