package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

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
	// cache_size: a 32 MiB page cache per connection (the default 2 MiB
	// re-read hot index pages from the file on every transaction).
	common := "_busy_timeout=10000&_foreign_keys=on&_synchronous=NORMAL&_pragma=cache_size(-32768)"
	if query != "" {
		common += "&" + query
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + common
	// journal_mode=WAL is persistent in the file, so only the writer sets it
	// (readers are opened lazily, after the writer's ping below).
	//
	// wal_autocheckpoint(0): the writer never checkpoints. A checkpoint
	// fsyncs the WAL and the database file, and run by the committing
	// connection it did so while holding the write lock, stalling every
	// queued transaction for the length of two fsyncs every few hundred
	// commits. The checkpointer goroutine does it beside the writer.
	w, err := sql.Open("sqlite", base+"&_journal_mode=WAL&_txlock=immediate&_pragma=wal_autocheckpoint(0)")
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
	s := &Store{dialect: dialectSQLite, w: w, r: r, rebinds: map[string]string{}, wStmts: newStmtCache(w), rStmts: newStmtCache(r)}
	s.group = newCommitter(s)
	// The writer's first connection switches the file to WAL. Several
	// processes opening a new file at once can see SQLITE_BUSY there
	// without the busy handler being consulted, so retry a few times.
	var err2 error
	for attempt := range 5 {
		if err2 = s.w.PingContext(ctx); err2 == nil || !s.transient(err2) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
	}
	if err2 != nil {
		s.Close()
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err2)
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.importSidecarFile(ctx, path); err != nil {
		s.Close()
		return nil, err
	}
	ck, err := sql.Open("sqlite", base)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}
	ck.SetMaxOpenConns(1)
	s.checkpoints = ck
	cctx, cancel := context.WithCancel(context.Background())
	s.stopCheckpoints = cancel
	s.checkpointsDone = make(chan struct{})
	go s.checkpointLoop(cctx, checkpointInterval)
	return s, nil
}

// checkpointInterval is how often the checkpointer copies the WAL into the
// database file.
const checkpointInterval = time.Second

// walRestartFrames is the WAL length (in frames, one page each) past which
// the checkpointer restarts the log instead of only copying it.
const walRestartFrames = 4096

// checkpointLoop runs checkpoints until ctx ends. PASSIVE never waits for
// the writer or readers: it copies what it can. But SQLite only rewinds the
// WAL to its start when a writer finds it fully copied and no reader in
// it, which under a steady stream of short reads almost never happens, so
// the log (and every reader's search of it) grows without bound: hundreds
// of megabytes a minute under load. Once the log is past walRestartFrames,
// a RESTART checkpoint waits (busy_timeout) for the readers in it to
// finish, which with short reads is milliseconds, so the next write starts
// the log again from the beginning.
func (s *Store) checkpointLoop(ctx context.Context, every time.Duration) {
	defer close(s.checkpointsDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.checkpointOnce(ctx)
	}
}

// checkpointOnce runs one round and records its outcome for
// CheckpointError: a single failed round (a busy database) is normal and
// retried on the next tick, but one failing for good lets the WAL grow
// until the disk fills, so it must be visible.
func (s *Store) checkpointOnce(ctx context.Context) {
	var busy, logFrames, copied int64
	err := s.checkpoints.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied)
	if err == nil && logFrames > walRestartFrames {
		_, err = s.checkpoints.ExecContext(ctx, "PRAGMA wal_checkpoint(RESTART)")
	}
	s.ckMu.Lock()
	defer s.ckMu.Unlock()
	if err == nil {
		s.ckFailures, s.ckErr = 0, nil
		return
	}
	s.ckFailures++
	s.ckErr = err
}

// maxCheckpointFailures is how many rounds in a row may fail before
// CheckpointError reports it.
const maxCheckpointFailures = 30

// CheckpointError reports SQLite WAL checkpoints failing round after round
// (nil on PostgreSQL, and while they succeed or fail only now and then).
func (s *Store) CheckpointError() error {
	s.ckMu.Lock()
	defer s.ckMu.Unlock()
	if s.ckFailures < maxCheckpointFailures {
		return nil
	}
	return fmt.Errorf("store: %d WAL checkpoints in a row failed, the WAL keeps growing: %w", s.ckFailures, s.ckErr)
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres %s: %w", redactDSN(dsn), err)
	}
	// As many idle as open: the lanes (pggroup.go) and the grouped reads
	// hold up to ten connections at once, and a connection closed when it
	// goes idle is a new server process to start for the next group.
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
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
	s.lanes = newPGLanes(s)
	s.groupReads = true
	return s, nil
}
