package store

import (
	"context"
	"database/sql"
)

// RunTx runs fn in a write transaction of the store's database, for
// components that keep tables of their own beside the store's (the
// manager's mgr_ tables). It has Store.tx's contract: fn may run more than
// once (transient lock errors are retried), so it must have no effects
// outside the transaction; on SQLite it is group-committed with the
// store's own writes, in a savepoint of its own. SQL is passed to tx as
// is: placeholders are the caller's business (see Rebind).
func (s *Store) RunTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.tx(ctx, func(d db) error { return fn(d.tx) })
}

// ReadDB is the pool for plain reads outside a transaction (on SQLite a
// read-only pool beside the single writer; on PostgreSQL the one pool).
// Writes through it fail on SQLite: use RunTx.
func (s *Store) ReadDB() *sql.DB { return s.r }

// Rebind turns '?' placeholders into the dialect's ($n on PostgreSQL).
func (s *Store) Rebind(q string) string { return s.rebind(q) }
