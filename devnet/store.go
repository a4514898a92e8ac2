package devnet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"

	_ "modernc.org/sqlite" // pure-Go SQLite driver
)

// DBFileName is the chain database inside a devnet directory.
const DBFileName = "chain.sqlite"

// The schema. One row per tipset (one block per epoch) holds everything
// needed to serve and to continue the chain after a restart:
//
//	header   JSON lotus.BlockHeader
//	msgs     JSON array of base64 signed-message CBOR included in the block
//	receipts JSON array of the receipts of the parent's messages
//	state    JSON state.State queried at this tipset (its parent state);
//	         NULL once older than the retention window
//
// meta holds the resolved genesis, the JWT secret and the state after the
// head's messages ("post"), mpool the pending messages.
const schema = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tipsets (
	height   INTEGER PRIMARY KEY,
	header   BLOB NOT NULL,
	msgs     BLOB NOT NULL,
	receipts BLOB NOT NULL,
	state    BLOB
);
CREATE TABLE IF NOT EXISTS mpool (cid TEXT PRIMARY KEY, signed BLOB NOT NULL);
`

type db struct{ sql *sql.DB }

func openDB(ctx context.Context, dir string) (*db, error) {
	path, err := filepath.Abs(filepath.Join(dir, DBFileName))
	if err != nil {
		return nil, err
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_txlock=immediate"
	s, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("devnet: open %s: %w", path, err)
	}
	// One connection: the devnet is the only writer and serialises itself.
	s.SetMaxOpenConns(1)
	if _, err := s.ExecContext(ctx, schema); err != nil {
		s.Close()
		return nil, fmt.Errorf("devnet: schema: %w", err)
	}
	return &db{sql: s}, nil
}

func (d *db) close() error { return d.sql.Close() }

var errNoMeta = errors.New("devnet: no such meta key")

func (d *db) getMeta(ctx context.Context, k string) ([]byte, error) {
	var v []byte
	err := d.sql.QueryRowContext(ctx, `SELECT v FROM meta WHERE k = ?`, k).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", errNoMeta, k)
	}
	return v, err
}

type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func putMeta(ctx context.Context, e execer, k string, v []byte) error {
	_, err := e.ExecContext(ctx, `INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v`, k, v)
	return err
}

// tipsetRow is one stored tipset.
type tipsetRow struct {
	Height   int64
	Header   []byte
	Msgs     []byte
	Receipts []byte
	State    []byte
}

// commit stores a new tipset, the new post state, the mpool changes and
// prunes old states, atomically.
func (d *db) commit(ctx context.Context, row tipsetRow, post, pending []byte, removed []string, prune int64) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if _, err := tx.ExecContext(ctx, `INSERT INTO tipsets (height, header, msgs, receipts, state) VALUES (?, ?, ?, ?, ?)`,
		row.Height, row.Header, row.Msgs, row.Receipts, row.State); err != nil {
		return fmt.Errorf("devnet: store tipset %d: %w", row.Height, err)
	}
	if err := putMeta(ctx, tx, "post", post); err != nil {
		return err
	}
	if err := putMeta(ctx, tx, "pending", pending); err != nil {
		return err
	}
	for _, c := range removed {
		if _, err := tx.ExecContext(ctx, `DELETE FROM mpool WHERE cid = ?`, c); err != nil {
			return err
		}
	}
	if prune > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE tipsets SET state = NULL WHERE height < ? AND state IS NOT NULL`, prune); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (d *db) tipsets(ctx context.Context) ([]tipsetRow, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT height, header, msgs, receipts FROM tipsets ORDER BY height`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tipsetRow
	for rows.Next() {
		var r tipsetRow
		if err := rows.Scan(&r.Height, &r.Header, &r.Msgs, &r.Receipts); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (d *db) stateAt(ctx context.Context, h int64) ([]byte, error) {
	var b []byte
	err := d.sql.QueryRowContext(ctx, `SELECT state FROM tipsets WHERE height = ?`, h).Scan(&b)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (d *db) addMpool(ctx context.Context, c string, signed []byte) error {
	_, err := d.sql.ExecContext(ctx, `INSERT INTO mpool (cid, signed) VALUES (?, ?) ON CONFLICT(cid) DO NOTHING`, c, signed)
	return err
}

func (d *db) mpool(ctx context.Context) ([][]byte, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT signed FROM mpool`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
