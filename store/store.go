package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) and migrates the database named by dsn:
//
//	sqlite:///abs/path/db.sqlite, sqlite://rel/path.db, or a plain path → SQLite
//	postgres://… or postgresql://…                                    → PostgreSQL
//
// For PostgreSQL any libpq/pgx parameter may be added to the URL; for
// example search_path=myschema confines the store to one schema. Open runs
// pending migrations before returning; concurrent Opens of one database are
// safe (see Migrate).
func Open(ctx context.Context, dsn string) (*Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	case strings.HasPrefix(dsn, "sqlite://"):
		return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite://"))
	case strings.Contains(dsn, "://"):
		return nil, fmt.Errorf("store: open: unsupported dsn scheme in %q: %w", redactDSN(dsn), ErrInvalid)
	case dsn == "":
		return nil, fmt.Errorf("store: open: empty dsn: %w", ErrInvalid)
	default:
		return openSQLite(ctx, dsn)
	}
}

// redactDSN hides a password in a dsn so it can appear in errors.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "<unparseable dsn>"
	}
	return u.Redacted()
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	// The path may carry its own query (e.g. ?_pragma=…); keep it.
	query := ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	if path == "" {
		return nil, fmt.Errorf("store: open sqlite: empty path: %w", ErrInvalid)
	}
	if path != ":memory:" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
		}
		path = abs
	} else {
		// A private in-memory database per connection would give the
		// writer and readers different databases.
		return nil, fmt.Errorf("store: open sqlite: :memory: is not supported, use a temp file: %w", ErrInvalid)
	}
	// busy_timeout absorbs lock waits between processes (two managers on
	// one file); foreign keys are off by default in SQLite.
	common := "_busy_timeout=10000&_foreign_keys=on&_synchronous=NORMAL"
	if query != "" {
		common += "&" + query
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + common
	// journal_mode=WAL is persistent in the file, so only the writer sets it
	// (readers are opened lazily, after the writer's ping below).
	w, err := sql.Open("sqlite", base+"&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", base+"&_query_only=on")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s := &Store{dialect: dialectSQLite, w: w, r: r, rebinds: map[string]string{}}
	if err := s.w.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres %s: %w", redactDSN(dsn), err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{dialect: dialectPostgres, w: db, r: db, rebinds: map[string]string{}}
	if err := db.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: open postgres %s: %w", redactDSN(dsn), err)
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Dialect names the backend: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect.String() }

// Close releases the database handles. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		err := s.w.Close()
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

// db is a querier that rebinds placeholders for the dialect.
type db struct {
	s *Store
	q querier
}

func (d db) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.q.ExecContext(ctx, d.s.rebind(q), args...)
}

func (d db) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.q.QueryContext(ctx, d.s.rebind(q), args...)
}

func (d db) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return d.q.QueryRowContext(ctx, d.s.rebind(q), args...)
}

// forUpdate is the row-lock suffix. SQLite has no row locks; its
// transactions already hold the database write lock (BEGIN IMMEDIATE).
func (d db) forUpdate() string {
	if d.s.dialect == dialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// reader returns the handle for reads outside a transaction.
func (s *Store) reader() db { return db{s: s, q: s.r} }

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
	t, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(db{s: s, q: t}); err != nil {
		_ = t.Rollback()
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
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
