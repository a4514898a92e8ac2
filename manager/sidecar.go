package manager

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
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" database/sql driver
	_ "modernc.org/sqlite"             // "sqlite" database/sql driver

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/store"
)

// sidecar keeps the little the manager needs beyond package store, in the
// same database (tables prefixed mgr_): the tenants' queue of pieces
// waiting for a data sector, per-sector details the store has no column for
// (pieces' source URLs, comm_c and comm_r_last, finalized file locations,
// the last batch a sector was in), the metadata handoff's progress per
// sector (mgr_handoff, see handoff.go), and worker heartbeats. Keeping it in the
// shared database means several managers see one queue and one worker list.
//
// The tables are created idempotently at start (under a PostgreSQL
// advisory lock) and written through the store's transactions. They are
// here rather than in package store because they hold the manager's
// bookkeeping, not sealing state the store enforces rules on; if the
// store grows these columns, a migration that copies them retires the
// sidecar.
type sidecar struct {
	st *store.Store
	rd *sql.DB // the store's read pool
	pg bool
}

const sidecarSchema = `
CREATE TABLE IF NOT EXISTS mgr_piece_queue (
    id           {{ID}},
    tenant_id    TEXT NOT NULL,
    piece_cid    TEXT NOT NULL,
    size         BIGINT NOT NULL,
    payload_size BIGINT NOT NULL,
    source_url   TEXT NOT NULL,
    created_ms   BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS mgr_piece_queue_tenant ON mgr_piece_queue (tenant_id, id);
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

// openSidecar creates the sidecar tables in the store's database and, on
// SQLite, imports what an older manager kept in a separate sidecar file.
//
// Writes go through the store's transactions (store.RunTx), so on SQLite
// they share the single writer and its group commit instead of queueing
// on a second file lock, and reads use the store's read pool.
func openSidecar(ctx context.Context, st *store.Store, dsn string) (*sidecar, error) {
	s := &sidecar{st: st, rd: st.ReadDB(), pg: st.Dialect() == "postgres"}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	if !s.pg {
		if err := s.importFile(ctx, dsn); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// exec runs one statement in its own write transaction.
func (s *sidecar) exec(ctx context.Context, query string, args ...any) error {
	return s.st.RunTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
}

// sidecarTables are the tables importFile carries over, in an order that
// needs no foreign keys.
var sidecarTables = []string{"mgr_piece_queue", "mgr_sector_extra", "mgr_handoff", "mgr_workers"}

// importFile moves the rows of an older manager's separate SQLite sidecar
// file (sidecarPath) into the store's database, in one transaction, then
// renames the file to *.imported so it is not imported twice; a failure
// leaves the file in place and stops the start, losing nothing. Rows whose
// key already exists are kept as they are in the store.
func (s *sidecar) importFile(ctx context.Context, dsn string) error {
	path := strings.TrimPrefix(dsn, "sqlite://")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("manager: sidecar import: %w", err)
	}
	old := sidecarPath(abs)
	if _, err := os.Stat(old); errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("manager: sidecar import: %w", err)
	}
	tables, err := readSidecarFile(ctx, old)
	if err != nil {
		return err
	}
	err = s.st.RunTx(ctx, func(tx *sql.Tx) error {
		for _, t := range tables {
			q := `INSERT OR IGNORE INTO ` + t.name + ` (` + strings.Join(t.cols, ", ") + `) VALUES (` +
				strings.TrimSuffix(strings.Repeat("?, ", len(t.cols)), ", ") + `)`
			for _, r := range t.rows {
				if _, err := tx.ExecContext(ctx, q, r...); err != nil {
					return fmt.Errorf("manager: sidecar import %s: %w", t.name, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The WAL and shared-memory files move with it (a cleanly closed
	// database has neither), so the renamed copy stays whole.
	for _, suffix := range []string{"-wal", "-shm", ""} {
		err := os.Rename(old+suffix, old+".imported"+suffix)
		if err != nil && !(suffix != "" && errors.Is(err, os.ErrNotExist)) {
			return fmt.Errorf("manager: sidecar import: imported, but could not rename %s: %w", old+suffix, err)
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

// readSidecarFile reads every row of the sidecar tables in the SQLite file
// at path (a table it lacks is skipped).
func readSidecarFile(ctx context.Context, path string) ([]sidecarTable, error) {
	src, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_busy_timeout=10000&_query_only=on")
	if err != nil {
		return nil, fmt.Errorf("manager: sidecar import %s: %w", path, err)
	}
	defer src.Close()
	var tables []sidecarTable
	for _, name := range sidecarTables {
		rows, err := src.QueryContext(ctx, `SELECT * FROM `+name)
		if err != nil {
			if strings.Contains(err.Error(), "no such table") {
				continue
			}
			return nil, fmt.Errorf("manager: sidecar import %s: %w", name, err)
		}
		t := sidecarTable{name: name}
		if t.cols, err = rows.Columns(); err != nil {
			rows.Close()
			return nil, fmt.Errorf("manager: sidecar import %s: %w", name, err)
		}
		for rows.Next() {
			vals := make([]any, len(t.cols))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("manager: sidecar import %s: %w", name, err)
			}
			t.rows = append(t.rows, vals)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("manager: sidecar import %s: %w", name, err)
		}
		tables = append(tables, t)
	}
	return tables, nil
}

// sidecarPath names the SQLite sidecar file older managers kept next to
// the store's file: manager.sqlite → manager.sidecar.sqlite.
func sidecarPath(storePath string) string {
	ext := filepath.Ext(storePath)
	return strings.TrimSuffix(storePath, ext) + ".sidecar" + ext
}

func (s *sidecar) migrate(ctx context.Context) error {
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if s.pg {
		id = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if s.pg {
			// CREATE TABLE IF NOT EXISTS races on the catalog when two
			// managers start at once; the lock serializes them.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(735061790)`); err != nil {
				return err
			}
		}
		for _, stmt := range strings.Split(strings.ReplaceAll(sidecarSchema, "{{ID}}", id), ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("manager: sidecar schema: %w", err)
			}
		}
		return nil
	})
}

// tx runs fn in a transaction, retrying a few times on a unique violation
// (two managers racing to create the same row: the loser re-reads).
func (s *sidecar) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		if err = s.st.RunTx(ctx, fn); !isUniqueViolation(err) {
			return err
		}
	}
	return err
}

func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint") || strings.Contains(msg, "SQLSTATE 23505") || strings.Contains(msg, "duplicate key")
}

// enqueuePieces appends pieces to a tenant's queue.
func (s *sidecar) enqueuePieces(ctx context.Context, tenant string, ps []api.PieceSubmission, now time.Time) ([]int64, error) {
	ids := make([]int64, 0, len(ps))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ids = ids[:0]
		for _, p := range ps {
			var id int64
			err := tx.QueryRowContext(ctx, s.st.Rebind(`INSERT INTO mgr_piece_queue (tenant_id, piece_cid, size, payload_size, source_url, created_ms)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), tenant, p.PieceCID, int64(p.Size), int64(p.PayloadSize), p.SourceURL, now.UnixMilli()).Scan(&id)
			if err != nil {
				return fmt.Errorf("manager: queue piece: %w", err)
			}
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}

// queuedPieces counts a tenant's waiting pieces ("" = all tenants).
func (s *sidecar) queuedPieces(ctx context.Context, tenant string) (int64, error) {
	var n int64
	var err error
	if tenant == "" {
		err = s.rd.QueryRowContext(ctx, `SELECT COUNT(*) FROM mgr_piece_queue`).Scan(&n)
	} else {
		err = s.rd.QueryRowContext(ctx, s.st.Rebind(`SELECT COUNT(*) FROM mgr_piece_queue WHERE tenant_id = ?`), tenant).Scan(&n)
	}
	return n, err
}

// sectorExtra is a sector's sidecar row.
type sectorExtra struct {
	// Pieces is nil while undecided; an empty non-nil slice is a CC sector.
	Pieces    []api.Piece
	CommC     string
	CommRLast string
	Location  string
	Files     []api.SectorFile
	PCBatch   int64
	PRBatch   int64
}

func (s *sidecar) getExtra(ctx context.Context, id store.SectorID) (sectorExtra, bool, error) {
	return s.getExtraTx(ctx, s.rd, id, false)
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *sidecar) getExtraTx(ctx context.Context, q queryRower, id store.SectorID, lock bool) (sectorExtra, bool, error) {
	query := `SELECT pieces, comm_c, comm_r_last, location, files, pc_batch, pr_batch FROM mgr_sector_extra WHERE miner_id = ? AND number = ?`
	if lock && s.pg {
		query += ` FOR UPDATE`
	}
	var e sectorExtra
	var pieces sql.NullString
	var files string
	err := q.QueryRowContext(ctx, s.st.Rebind(query), int64(id.Miner), int64(id.Number)).Scan(&pieces, &e.CommC, &e.CommRLast, &e.Location, &files, &e.PCBatch, &e.PRBatch)
	if errors.Is(err, sql.ErrNoRows) {
		return sectorExtra{}, false, nil
	}
	if err != nil {
		return sectorExtra{}, false, fmt.Errorf("manager: sector %s extra: %w", id, err)
	}
	if pieces.Valid {
		e.Pieces = []api.Piece{}
		if err := json.Unmarshal([]byte(pieces.String), &e.Pieces); err != nil {
			return sectorExtra{}, false, fmt.Errorf("manager: sector %s pieces: %w", id, err)
		}
	}
	if files != "" {
		if err := json.Unmarshal([]byte(files), &e.Files); err != nil {
			return sectorExtra{}, false, fmt.Errorf("manager: sector %s files: %w", id, err)
		}
	}
	return e, true, nil
}

// ensureRow creates the sector's sidecar row if missing.
func (s *sidecar) ensureRow(ctx context.Context, tx *sql.Tx, id store.SectorID, tenant string) error {
	_, err := tx.ExecContext(ctx, s.st.Rebind(`INSERT INTO mgr_sector_extra (miner_id, number, tenant_id) VALUES (?, ?, ?) ON CONFLICT (miner_id, number) DO NOTHING`),
		int64(id.Miner), int64(id.Number), tenant)
	return err
}

// acquirePieces decides a sector's pieces once: if already decided it
// returns them; otherwise it takes, first-fit in queue order, the tenant's
// queued pieces that fit the sector with natural alignment (each piece at an
// offset that is a multiple of its size, as the unsealed sector layout
// requires) and records them. Taking from the queue and recording happen in
// one transaction, so a piece goes to exactly one sector even with two
// managers; an empty queue decides a CC sector.
func (s *sidecar) acquirePieces(ctx context.Context, id store.SectorID, tenant string, sectorSize uint64) ([]api.Piece, error) {
	var out []api.Piece
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureRow(ctx, tx, id, tenant); err != nil {
			return err
		}
		e, _, err := s.getExtraTx(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if e.Pieces != nil {
			out = e.Pieces
			return nil
		}
		query := `SELECT id, piece_cid, size, payload_size, source_url FROM mgr_piece_queue WHERE tenant_id = ? ORDER BY id LIMIT 256`
		if s.pg {
			query += ` FOR UPDATE SKIP LOCKED`
		}
		rows, err := tx.QueryContext(ctx, s.st.Rebind(query), tenant)
		if err != nil {
			return err
		}
		type queued struct {
			id int64
			p  api.Piece
		}
		var cands []queued
		for rows.Next() {
			var c queued
			var size, payload int64
			if err := rows.Scan(&c.id, &c.p.PieceCID, &size, &payload, &c.p.SourceURL); err != nil {
				rows.Close()
				return err
			}
			c.p.Size, c.p.PayloadSize = uint64(size), uint64(payload)
			cands = append(cands, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var offset uint64
		picked := []api.Piece{}
		for _, c := range cands {
			start := alignUp(offset, c.p.Size)
			if start+c.p.Size > sectorSize {
				continue
			}
			if _, err := tx.ExecContext(ctx, s.st.Rebind(`DELETE FROM mgr_piece_queue WHERE id = ?`), c.id); err != nil {
				return err
			}
			picked = append(picked, c.p)
			offset = start + c.p.Size
		}
		raw, _ := json.Marshal(picked)
		if _, err := tx.ExecContext(ctx, s.st.Rebind(`UPDATE mgr_sector_extra SET pieces = ? WHERE miner_id = ? AND number = ?`), string(raw), int64(id.Miner), int64(id.Number)); err != nil {
			return err
		}
		out = picked
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("manager: sector %s: acquire pieces: %w", id, err)
	}
	return out, nil
}

func alignUp(off, size uint64) uint64 {
	if size == 0 {
		return off
	}
	return (off + size - 1) / size * size
}

// setCommitments records comm_c and comm_r_last once; it reports false if
// different values were recorded before.
func (s *sidecar) setCommitments(ctx context.Context, id store.SectorID, tenant, commC, commRLast string) (bool, error) {
	same := true
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureRow(ctx, tx, id, tenant); err != nil {
			return err
		}
		e, _, err := s.getExtraTx(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if e.CommC != "" {
			same = e.CommC == commC && e.CommRLast == commRLast
			return nil
		}
		_, err = tx.ExecContext(ctx, s.st.Rebind(`UPDATE mgr_sector_extra SET comm_c = ?, comm_r_last = ? WHERE miner_id = ? AND number = ?`),
			commC, commRLast, int64(id.Miner), int64(id.Number))
		return err
	})
	return same, err
}

// setFinalized records where a finalized sector's files are.
func (s *sidecar) setFinalized(ctx context.Context, id store.SectorID, tenant string, fi api.FinalizedInfo) error {
	raw, _ := json.Marshal(fi.Files)
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureRow(ctx, tx, id, tenant); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.st.Rebind(`UPDATE mgr_sector_extra SET location = ?, files = ? WHERE miner_id = ? AND number = ?`),
			fi.Location, string(raw), int64(id.Miner), int64(id.Number))
		return err
	})
}

// noteBatch remembers the last batch of kind a sector joined, so that a
// failed batch (which the store detaches from its sectors) can still be
// reported to the worker as OnChainFailed.
func (s *sidecar) noteBatch(ctx context.Context, id store.SectorID, tenant string, kind store.BatchKind, batch int64) error {
	col := "pc_batch"
	if kind == store.BatchProveCommit {
		col = "pr_batch"
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureRow(ctx, tx, id, tenant); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.st.Rebind(`UPDATE mgr_sector_extra SET `+col+` = ? WHERE miner_id = ? AND number = ?`), batch, int64(id.Miner), int64(id.Number))
		return err
	})
}

// deleteTenant drops a deleted tenant's queued pieces.
func (s *sidecar) deleteTenant(ctx context.Context, tenant string) error {
	return s.exec(ctx, s.st.Rebind(`DELETE FROM mgr_piece_queue WHERE tenant_id = ?`), tenant)
}

// putWorker stores a worker's last heartbeat.
func (s *sidecar) putWorker(ctx context.Context, w api.WorkerInfo, now time.Time) error {
	raw, _ := json.Marshal(w)
	err := s.exec(ctx, s.st.Rebind(`INSERT INTO mgr_workers (name, info, seen_ms) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET info = excluded.info, seen_ms = excluded.seen_ms`), w.Name, string(raw), now.UnixMilli())
	if err != nil {
		return fmt.Errorf("manager: worker %s: %w", w.Name, err)
	}
	return nil
}

// workers lists the known workers by name.
func (s *sidecar) workers(ctx context.Context) ([]api.WorkerInfo, error) {
	rows, err := s.rd.QueryContext(ctx, `SELECT info FROM mgr_workers ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("manager: list workers: %w", err)
	}
	defer rows.Close()
	var out []api.WorkerInfo
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var w api.WorkerInfo
		if err := json.Unmarshal([]byte(raw), &w); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// handoffRow is a sector's metadata handoff progress (mgr_handoff): which
// metadata (hash) was pushed for which delivery attempt, and the back-off
// of failed pushes or status reads.
type handoffRow struct {
	Hash      string
	Attempt   int
	Pushed    time.Time
	Failures  int
	Next      time.Time
	LastError string
}

func (s *sidecar) getHandoff(ctx context.Context, id store.SectorID) (handoffRow, bool, error) {
	var h handoffRow
	var attempt, pushed, failures, next int64
	err := s.rd.QueryRowContext(ctx, s.st.Rebind(`SELECT md_hash, attempt, pushed_ms, failures, next_ms, last_error FROM mgr_handoff WHERE miner_id = ? AND number = ?`),
		int64(id.Miner), int64(id.Number)).Scan(&h.Hash, &attempt, &pushed, &failures, &next, &h.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return handoffRow{}, false, nil
	}
	if err != nil {
		return handoffRow{}, false, fmt.Errorf("manager: sector %s handoff: %w", id, err)
	}
	h.Attempt, h.Failures = int(attempt), int(failures)
	if pushed > 0 {
		h.Pushed = time.UnixMilli(pushed)
	}
	if next > 0 {
		h.Next = time.UnixMilli(next)
	}
	return h, true, nil
}

func (s *sidecar) putHandoff(ctx context.Context, id store.SectorID, h handoffRow) error {
	ms := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.UnixMilli()
	}
	err := s.exec(ctx, s.st.Rebind(`INSERT INTO mgr_handoff (miner_id, number, md_hash, attempt, pushed_ms, failures, next_ms, last_error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (miner_id, number) DO UPDATE SET md_hash = excluded.md_hash, attempt = excluded.attempt, pushed_ms = excluded.pushed_ms,
		failures = excluded.failures, next_ms = excluded.next_ms, last_error = excluded.last_error`),
		int64(id.Miner), int64(id.Number), h.Hash, int64(h.Attempt), ms(h.Pushed), int64(h.Failures), ms(h.Next), h.LastError)
	if err != nil {
		return fmt.Errorf("manager: sector %s handoff: %w", id, err)
	}
	return nil
}
