package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
)

// Sentinel errors. Every error returned by this package that has one of
// these causes wraps it, so callers test with errors.Is.
var (
	// ErrNotFound: the tenant, sector, token, batch, message or delivery
	// does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: the request contradicts stored state (duplicate key, a
	// transition that is not allowed, a value that was already set
	// differently, deleting a tenant with live sectors).
	ErrConflict = errors.New("store: conflict")
	// ErrInvalid: the argument is malformed (empty id, zero weight,
	// unknown proof type, reserved stage name, …).
	ErrInvalid = errors.New("store: invalid argument")
	// ErrNoWork: AllocateSector found no sector to re-offer and no
	// eligible tenant (all paused, at quota, or filtered out). It is the
	// normal "idle" answer, not a failure.
	ErrNoWork = errors.New("store: no work to allocate")
	// ErrNotLeaseHolder: the sector's lease is held by another worker
	// identity, so this worker must not touch it (it would seal it twice).
	ErrNotLeaseHolder = errors.New("store: sector leased by another worker")
	// ErrSectorDone: the sector is finalized or aborted; leases cannot be
	// renewed on it.
	ErrSectorDone = errors.New("store: sector finalized or aborted")
	// ErrTokenRevoked: the token id was revoked.
	ErrTokenRevoked = errors.New("store: token revoked")
	// ErrTokenExpired: the token's recorded expiry has passed.
	ErrTokenExpired = errors.New("store: token expired")
	// ErrSchemaTooNew: the database was migrated by a newer binary; this
	// one refuses to run against a schema it does not know.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this binary")
	// ErrBusy: a transaction still failed with a transient lock or
	// serialization error after all retries.
	ErrBusy = errors.New("store: database busy")
)

// dialect selects the few SQL differences between the two backends.
type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

func (d dialect) String() string {
	if d == dialectPostgres {
		return "postgres"
	}
	return "sqlite"
}

// Store is the manager's persistence. It is safe for concurrent use by
// multiple goroutines, and several Stores (several manager processes) may
// share one database: every multi-row invariant is enforced inside a single
// transaction that takes the locks it needs (BEGIN IMMEDIATE on SQLite,
// row locks on PostgreSQL) and is retried on transient lock errors.
type Store struct {
	dialect dialect
	// w runs every transaction. On SQLite it is a single connection opened
	// with _txlock=immediate, so transactions from this process queue in
	// the pool instead of racing for the file lock, and a transaction that
	// will write never starts as a reader (which is what produces
	// SQLITE_BUSY that busy_timeout cannot absorb).
	w *sql.DB
	// r serves plain reads. On SQLite it is a separate query_only pool
	// (WAL lets readers run beside the writer); on PostgreSQL it is w.
	r *sql.DB

	rebindMu sync.Mutex
	rebinds  map[string]string

	// wStmts and rStmts cache prepared statements for w and r (SQLite
	// only; see stmtCache).
	wStmts, rStmts *stmtCache

	// group runs SQLite write transactions (see committer); nil on
	// PostgreSQL.
	group *committer
	// lanes group worker calls' transactions on PostgreSQL (see
	// pggroup.go); nil on SQLite, where group commit batches them all.
	lanes *pgLaneSet
	// groupReads makes concurrent GetSector calls share one query (see
	// sectorreads.go); set on PostgreSQL.
	groupReads bool
	sreads     sectorReads

	// checkpoints is the SQLite checkpointer's connection (see
	// checkpointLoop); nil on PostgreSQL.
	checkpoints     *sql.DB
	stopCheckpoints context.CancelFunc
	checkpointsDone chan struct{}
	ckMu            sync.Mutex
	ckFailures      int   // checkpoint rounds failed in a row
	ckErr           error // the last round's error

	// commits counts committed write transactions (see
	// WriteTransactions).
	commits atomic.Uint64
	// groupsAlone counts PostgreSQL groups whose calls ran alone (see
	// GroupsRunAlone).
	groupsAlone atomic.Uint64

	closeOnce sync.Once
	closeErr  error
}

// WriteTransactions returns how many write transactions this Store has
// committed: a group commit (several calls in one transaction) counts
// once. Operators see it as a metric; tests use it to check that a call
// costs one transaction.
func (s *Store) WriteTransactions() uint64 { return s.commits.Load() }

// GroupsRunAlone returns how many PostgreSQL groups of worker calls
// failed as a group (a statement or the commit failed, or the group could
// not begin) so that each call ran again alone (pggroup.go). A few are
// normal (a deadlock broken by the server); a steady rise means every
// call costs a transaction of its own again.
func (s *Store) GroupsRunAlone() uint64 { return s.groupsAlone.Load() }

// Dialect names the backend: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect.String() }

// Close releases the database handles. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var err error
		if s.checkpoints != nil {
			s.stopCheckpoints()
			<-s.checkpointsDone
			// No final checkpoint here: SQLite checkpoints when the last
			// connection to the file closes.
			err = s.checkpoints.Close()
		}
		if s.group != nil {
			s.group.close()
		}
		if s.lanes != nil {
			s.lanes.close()
		}
		s.wStmts.close()
		s.rStmts.close()
		err = errors.Join(err, s.w.Close())
		if s.r != s.w {
			err = errors.Join(err, s.r.Close())
		}
		if err != nil {
			s.closeErr = fmt.Errorf("store: close: %w", err)
		}
	})
	return s.closeErr
}

// rebind turns the package's '?' placeholders into PostgreSQL's $n. All
// queries in this package are written once with '?' and never contain a
// literal '?' inside strings, so a plain scan is enough.
func (s *Store) rebind(q string) string {
	if s.dialect != dialectPostgres {
		return q
	}
	s.rebindMu.Lock()
	defer s.rebindMu.Unlock()
	if out, ok := s.rebinds[q]; ok {
		return out
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	out := b.String()
	// Queries with variable IN lists are built per call; do not let them
	// grow the cache without bound.
	if len(s.rebinds) < 4096 {
		s.rebinds[q] = out
	}
	return out
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// db is a querier that rebinds placeholders for the dialect and, where the
// backend gains from it, runs cached prepared statements.
type db struct {
	s *Store
	q querier
	// tx is q when it is a transaction; stmts is the statement cache of
	// the pool q belongs to (nil: no caching).
	tx    *sql.Tx
	stmts *stmtCache
	// group, when set, is a PostgreSQL group's rows locked up front and
	// writes kept for later (pgbatch.go).
	group *pgGroup
}

// openBatch is a locked open batch: its id, its members and the most its
// tenant's policy allows (Tenant.BatchCapacity).
type openBatch struct {
	id                int64
	members, capacity int
}

// openKey names a tenant's open batch of one kind.
type openKey struct {
	tenant string
	kind   BatchKind
}

// stmt returns a prepared statement for q usable on d, or nil to run q
// unprepared.
func (d db) stmt(ctx context.Context, q string) *sql.Stmt {
	if d.tx == nil {
		return d.stmts.get(ctx, q)
	}
	// Inside a transaction the pool's connection may be the one this
	// transaction holds (SQLite's writer pool has one), so a miss is
	// only noted here and prepared after the transaction ends.
	st := d.stmts.lookup(q)
	if st == nil {
		return nil
	}
	return d.tx.StmtContext(ctx, st)
}

func (d db) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := d.before(ctx, q); err != nil {
		return nil, err
	}
	q = d.s.rebind(q)
	if st := d.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return d.q.ExecContext(ctx, q, args...)
}

func (d db) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := d.before(ctx, q); err != nil {
		return nil, err
	}
	q = d.s.rebind(q)
	if st := d.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.q.QueryContext(ctx, q, args...)
}

func (d db) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	// A failed send of kept writes ends the group on its error
	// (pgGroup.err), which rolls back whatever this query read.
	_ = d.before(ctx, q)
	q = d.s.rebind(q)
	if st := d.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.q.QueryRowContext(ctx, q, args...)
}

// forUpdate is the row-lock suffix. SQLite has no row locks; its
// transactions already hold the database write lock (BEGIN IMMEDIATE).
func (d db) forUpdate() string {
	if d.s.dialect == dialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// forNoKeyUpdate is forUpdate for a row whose key the transaction does not
// change: on PostgreSQL it still excludes other writers of the row but
// not the key-share locks of foreign-key checks on rows that reference it.
func (d db) forNoKeyUpdate() string {
	if d.s.dialect == dialectPostgres {
		return " FOR NO KEY UPDATE"
	}
	return ""
}

// reader returns the handle for reads outside a transaction.
func (s *Store) reader() db { return db{s: s, q: s.r, stmts: s.rStmts} }

// maxTxAttempts bounds retries of a transaction that hit a transient lock
// or serialization error.
const maxTxAttempts = 8

// tx runs fn in a write transaction and commits it. fn may run more than
// once (transient errors are retried), so it must not have effects outside
// the transaction. Errors from fn are returned unchanged (not retried)
// unless they are transient database errors.
func (s *Store) tx(ctx context.Context, fn func(db) error) error {
	var err error
	for attempt := 0; attempt < maxTxAttempts; attempt++ {
		if attempt > 0 {
			// Small, growing pause; jitter comes from the scheduler.
			t := time.NewTimer(time.Duration(attempt*attempt) * 5 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		err = s.tx1(ctx, fn)
		if err == nil || !s.transient(err) {
			return err
		}
	}
	return fmt.Errorf("%w after %d attempts: %w", ErrBusy, maxTxAttempts, err)
}

func (s *Store) tx1(ctx context.Context, fn func(db) error) error {
	if s.group != nil {
		return s.group.run(ctx, fn)
	}
	t, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	// Only PostgreSQL gets here (SQLite goes through the committer), and
	// pgx caches its statements itself: no statement cache.
	if err := fn(db{s: s, q: t, tx: t}); err != nil {
		_ = t.Rollback()
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	s.commits.Add(1)
	return nil
}

// transient reports whether err is a lock/serialization failure that a
// retry of the whole transaction can cure.
func (s *Store) transient(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
			return true
		}
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return true
		}
	}
	return false
}

// isUniqueViolation reports whether err is a unique/primary key violation.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case 2067, 1555: // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
			return true
		}
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return false
}

// ms converts a time to the stored form: Unix milliseconds. Integers
// compare the same way on both backends and need no time zone handling.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS is the inverse of ms; 0 maps to the zero time.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

func nullMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ms(t), Valid: true}
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// checkRows maps "no row affected" to err.
func affected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: rows affected: %w", err)
	}
	return n, nil
}
