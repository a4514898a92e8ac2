package bench

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" database/sql driver
)

// PGStats is PostgreSQL's own count of a run's transactions, from just
// before the threads start to after the manager closed its connections
// (which flushes their statistics).
//
// WriteTx is the advance of the transaction-id counter: every transaction
// that wrote (or locked a row) took one id. The counter is the whole
// cluster's, so other databases' writes during the run count too: measure
// on a cluster nobody else writes to. Commits is the database's
// pg_stat_database.xact_commit delta: every committed transaction,
// read-only ones (a plain SELECT outside a transaction) included. Use a
// database of its own for the run, or other clients count too. The
// counter's own few queries are included; they are a handful per run.
type PGStats struct {
	WriteTx          int64   `json:"write_tx"`
	Commits          int64   `json:"commits"`
	WriteTxPerSector float64 `json:"write_tx_per_sector"`
	CommitsPerSector float64 `json:"commits_per_sector"`
}

// pgCounter reads the counters on a connection of its own.
type pgCounter struct {
	db            *sql.DB
	xid0, commit0 int64
}

func openPGCounter(ctx context.Context, dsn string) (*pgCounter, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("bench: pg-stats: %w", err)
	}
	db.SetMaxOpenConns(1)
	return &pgCounter{db: db}, nil
}

// read returns the next transaction id (without taking one) and the
// database's committed transactions.
func (c *pgCounter) read(ctx context.Context) (xid, commits int64, err error) {
	if _, err = c.db.ExecContext(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
		return 0, 0, fmt.Errorf("bench: pg-stats: %w", err)
	}
	err = c.db.QueryRowContext(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
		(SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())`).Scan(&xid, &commits)
	if err != nil {
		return 0, 0, fmt.Errorf("bench: pg-stats: %w", err)
	}
	return xid, commits, nil
}

func (c *pgCounter) begin(ctx context.Context) error {
	var err error
	c.xid0, c.commit0, err = c.read(ctx)
	return err
}

// finish reads the counters again and relates them to the run's
// allocated sectors. A busy backend sends its statistics at most once a
// second; the manager's connections have ended by now, which sends theirs
// as they exit, so a short pause lets the last of them land.
func (c *pgCounter) finish(ctx context.Context, sectors int) (*PGStats, error) {
	time.Sleep(time.Second)
	xid, commits, err := c.read(ctx)
	if err != nil {
		return nil, err
	}
	st := &PGStats{WriteTx: xid - c.xid0, Commits: commits - c.commit0}
	if sectors > 0 {
		st.WriteTxPerSector = float64(st.WriteTx) / float64(sectors)
		st.CommitsPerSector = float64(st.Commits) / float64(sectors)
	}
	return st, nil
}

func (c *pgCounter) close() { c.db.Close() }
