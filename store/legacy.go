package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// The manager's tables before migration 0003.
//
// Managers before that migration created their own tables (mgr_*) at
// start, in the store's database, and before that in a separate SQLite file
// beside it (manager.sqlite → manager.sidecar.sqlite). Both shapes are
// folded into the store's schema here: the migration by foldLegacy, the
// separate file by importSidecarFile when a SQLite store opens.

// legacySchema is the mgr_* tables exactly as those managers created them.
// foldLegacy creates them when missing, so one path serves databases that
// have them and databases that never did.
const legacySchema = `
CREATE TABLE IF NOT EXISTS mgr_piece_queue (
    id           {{ID}},
    tenant_id    TEXT NOT NULL,
    piece_cid    TEXT NOT NULL,
    size         BIGINT NOT NULL,
    payload_size BIGINT NOT NULL,
    source_url   TEXT NOT NULL,
    created_ms   BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS mgr_sector_extra (
    miner_id    BIGINT NOT NULL,
    number      BIGINT NOT NULL,
    tenant_id   TEXT NOT NULL DEFAULT '',
    pieces      TEXT,
    comm_c      TEXT NOT NULL DEFAULT '',
    comm_r_last TEXT NOT NULL DEFAULT '',
    location    TEXT NOT NULL DEFAULT '',
    files       TEXT NOT NULL DEFAULT '',
    pc_batch    BIGINT NOT NULL DEFAULT 0,
    pr_batch    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (miner_id, number)
);
CREATE TABLE IF NOT EXISTS mgr_handoff (
    miner_id   BIGINT NOT NULL,
    number     BIGINT NOT NULL,
    md_hash    TEXT NOT NULL DEFAULT '',
    attempt    BIGINT NOT NULL DEFAULT 0,
    pushed_ms  BIGINT NOT NULL DEFAULT 0,
    failures   BIGINT NOT NULL DEFAULT 0,
    next_ms    BIGINT NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (miner_id, number)
);
CREATE TABLE IF NOT EXISTS mgr_workers (
    name    TEXT PRIMARY KEY,
    info    TEXT NOT NULL,
    seen_ms BIGINT NOT NULL
);
`

// legacyTables are the old tables in an order that needs no foreign keys.
var legacyTables = []string{"mgr_piece_queue", "mgr_sector_extra", "mgr_handoff", "mgr_workers"}

// foldLegacy moves the rows of the mgr_* tables into the store's tables and
// drops the old tables. A row whose key already exists in the store keeps
// the store's values (a field the store has set is not overwritten). Rows
// of sectors the store no longer has are dropped with their table: those
// sectors were deleted, and the old tables kept them only by oversight.
func foldLegacy(ctx context.Context, d db) error {
	if _, err := d.exec(ctx, d.s.dialect.render(legacySchema)); err != nil {
		return fmt.Errorf("store: fold mgr_ tables: create: %w", err)
	}
	// "WHERE TRUE" keeps SQLite from reading ON CONFLICT as a join's ON.
	moves := []string{
		`INSERT INTO piece_queue (id, tenant_id, piece_cid, size, payload_size, source_url, created_ms)
			SELECT id, tenant_id, piece_cid, size, payload_size, source_url, created_ms FROM mgr_piece_queue WHERE TRUE
			ON CONFLICT (id) DO NOTHING`,
		`INSERT INTO workers (name, info, seen_ms) SELECT name, info, seen_ms FROM mgr_workers WHERE TRUE
			ON CONFLICT (name) DO NOTHING`,
		`INSERT INTO sector_handoffs (miner_id, number, md_hash, attempt, pushed_ms, failures, next_ms, last_error)
			SELECT miner_id, number, md_hash, attempt, pushed_ms, failures, next_ms, last_error FROM mgr_handoff WHERE TRUE
			ON CONFLICT (miner_id, number) DO NOTHING`,
		`UPDATE sectors SET
			comm_c = CASE WHEN sectors.comm_c = '' THEN e.comm_c ELSE sectors.comm_c END,
			comm_r_last = CASE WHEN sectors.comm_r_last = '' THEN e.comm_r_last ELSE sectors.comm_r_last END,
			location = CASE WHEN sectors.location = '' THEN e.location ELSE sectors.location END,
			files = CASE WHEN sectors.files = '' THEN e.files ELSE sectors.files END,
			last_precommit_batch = CASE WHEN sectors.last_precommit_batch = 0 THEN e.pc_batch ELSE sectors.last_precommit_batch END,
			last_provecommit_batch = CASE WHEN sectors.last_provecommit_batch = 0 THEN e.pr_batch ELSE sectors.last_provecommit_batch END
			FROM mgr_sector_extra AS e WHERE e.miner_id = sectors.miner_id AND e.number = sectors.number`,
	}
	for _, q := range moves {
		if _, err := d.exec(ctx, q); err != nil {
			return fmt.Errorf("store: fold mgr_ tables: %w", err)
		}
	}
	if d.s.dialect == dialectPostgres {
		// Rows came with their ids; the identity must continue after them.
		var v int64
		if err := d.queryRow(ctx, `SELECT setval(pg_get_serial_sequence('piece_queue', 'id'),
			COALESCE((SELECT MAX(id) FROM piece_queue), 0) + 1, false)`).Scan(&v); err != nil {
			return fmt.Errorf("store: fold mgr_ tables: piece queue ids: %w", err)
		}
	}
	if err := foldLegacyPieces(ctx, d); err != nil {
		return err
	}
	for _, t := range legacyTables {
		if _, err := d.exec(ctx, `DROP TABLE `+t); err != nil {
			return fmt.Errorf("store: fold mgr_ tables: drop %s: %w", t, err)
		}
	}
	return nil
}

// legacyPiece is a piece as mgr_sector_extra.pieces held it (api.Piece's
// JSON).
type legacyPiece struct {
	PieceCID    string `json:"piece_cid"`
	Size        uint64 `json:"size"`
	PayloadSize uint64 `json:"payload_size"`
	SourceURL   string `json:"source_url"`
}

// foldLegacyPieces carries the pieces decided in mgr_sector_extra (with
// their source URLs, which sector_pieces lacked) into sector_pieces. A
// sector whose decision never reached the store (a crash between the two
// writes) gets it now, so the decision is not lost or taken twice.
func foldLegacyPieces(ctx context.Context, d db) error {
	type row struct {
		id     SectorID
		pieces string
		set    bool
	}
	rows, err := d.query(ctx, `SELECT e.miner_id, e.number, e.pieces, s.pieces_set FROM mgr_sector_extra AS e
		JOIN sectors AS s ON s.miner_id = e.miner_id AND s.number = e.number WHERE e.pieces IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("store: fold mgr_ tables: pieces: %w", err)
	}
	var todo []row
	for rows.Next() {
		var r row
		var miner, num int64
		if err := rows.Scan(&miner, &num, &r.pieces, &r.set); err != nil {
			rows.Close()
			return fmt.Errorf("store: fold mgr_ tables: pieces: %w", err)
		}
		r.id = SectorID{uint64(miner), uint64(num)}
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: fold mgr_ tables: pieces: %w", err)
	}
	for _, r := range todo {
		var ps []legacyPiece
		if err := json.Unmarshal([]byte(r.pieces), &ps); err != nil {
			return fmt.Errorf("store: fold mgr_ tables: sector %s: pieces %q: %w", r.id, r.pieces, err)
		}
		for i, p := range ps {
			q := `UPDATE sector_pieces SET payload_size = ?, source_url = ? WHERE miner_id = ? AND number = ? AND idx = ? AND piece_cid = ? AND source_url = ''`
			if !r.set {
				q = `INSERT INTO sector_pieces (payload_size, source_url, miner_id, number, idx, piece_cid, size) VALUES (?, ?, ?, ?, ?, ?, ?)`
			}
			args := []any{int64(p.PayloadSize), p.SourceURL, int64(r.id.Miner), int64(r.id.Number), i, p.PieceCID}
			if !r.set {
				args = append(args, int64(p.Size))
			}
			if _, err := d.exec(ctx, q, args...); err != nil {
				return fmt.Errorf("store: fold mgr_ tables: sector %s: piece %d: %w", r.id, i, err)
			}
		}
		if !r.set {
			if _, err := d.exec(ctx, `UPDATE sectors SET pieces_set = ? WHERE miner_id = ? AND number = ?`,
				true, int64(r.id.Miner), int64(r.id.Number)); err != nil {
				return fmt.Errorf("store: fold mgr_ tables: sector %s: %w", r.id, err)
			}
		}
	}
	return nil
}

// legacySidecarPath names the separate SQLite file the oldest managers
// kept beside the store's: manager.sqlite → manager.sidecar.sqlite.
func legacySidecarPath(storePath string) string {
	ext := filepath.Ext(storePath)
	return strings.TrimSuffix(storePath, ext) + ".sidecar" + ext
}

// importSidecarFile moves the rows of an old manager's separate sidecar
// file beside the SQLite store at storePath into the store, in one
// transaction, then renames the file to *.imported so it is not imported
// twice. A failure leaves the file in place and fails the open, losing
// nothing. Without such a file it does nothing.
func (s *Store) importSidecarFile(ctx context.Context, storePath string) error {
	old := legacySidecarPath(storePath)
	if _, err := os.Stat(old); errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("store: import %s: %w", old, err)
	}
	tables, err := readSidecarFile(ctx, old)
	if err != nil {
		return err
	}
	err = s.tx(ctx, func(d db) error {
		if _, err := d.exec(ctx, d.s.dialect.render(legacySchema)); err != nil {
			return fmt.Errorf("store: import %s: %w", old, err)
		}
		for _, t := range tables {
			q := `INSERT INTO ` + t.name + ` (` + strings.Join(t.cols, ", ") + `) VALUES (` + placeholders(len(t.cols)) + `) ON CONFLICT DO NOTHING`
			for _, r := range t.rows {
				if _, err := d.exec(ctx, q, r...); err != nil {
					return fmt.Errorf("store: import %s: %s: %w", old, t.name, err)
				}
			}
		}
		return foldLegacy(ctx, d)
	})
	if err != nil {
		return err
	}
	// The WAL and shared-memory files move with it (a cleanly closed
	// database has neither), so the renamed copy stays whole.
	for _, suffix := range []string{"-wal", "-shm", ""} {
		err := os.Rename(old+suffix, old+".imported"+suffix)
		if err != nil && !(suffix != "" && errors.Is(err, os.ErrNotExist)) {
			return fmt.Errorf("store: imported %s, but could not rename it: %w", old+suffix, err)
		}
	}
	return nil
}

// sidecarTable is one table read from an old sidecar file.
type sidecarTable struct {
	name string
	cols []string
	rows [][]any
}

// readSidecarFile reads every row of the old tables in the SQLite file at
// path (a table it lacks is skipped).
func readSidecarFile(ctx context.Context, path string) ([]sidecarTable, error) {
	src, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_busy_timeout=10000&_query_only=on")
	if err != nil {
		return nil, fmt.Errorf("store: import %s: %w", path, err)
	}
	defer src.Close()
	var tables []sidecarTable
	for _, name := range legacyTables {
		rows, err := src.QueryContext(ctx, `SELECT * FROM `+name)
		if err != nil {
			if strings.Contains(err.Error(), "no such table") {
				continue
			}
			return nil, fmt.Errorf("store: import %s: %s: %w", path, name, err)
		}
		t := sidecarTable{name: name}
		if t.cols, err = rows.Columns(); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: import %s: %s: %w", path, name, err)
		}
		for rows.Next() {
			vals := make([]any, len(t.cols))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: import %s: %s: %w", path, name, err)
			}
			t.rows = append(t.rows, vals)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: import %s: %s: %w", path, name, err)
		}
		tables = append(tables, t)
	}
	return tables, nil
}
