package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/internal/testenv"
)

// pgEnv names the PostgreSQL DSN the suite runs against, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. Each test gets
// its own schema, dropped afterwards, so parallel runs do not collide.
const pgEnv = "SEALANT_TEST_PG_DSN"

// dbFactory creates a fresh, empty database for one test and returns a
// function that opens a new Store handle on it (a "manager"); handles are
// closed when the test ends.
type dbFactory func(t testing.TB) (open func() *Store)

func sqliteFactory(t testing.TB) func() *Store {
	path := filepath.Join(t.TempDir(), "manager.sqlite")
	return func() *Store {
		t.Helper()
		s, err := Open(context.Background(), "sqlite://"+path)
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// pgFactory returns a factory for the database in SEALANT_TEST_PG_DSN, or
// skips the test with a clear message when it is unset.
func pgFactory(t testing.TB) dbFactory {
	dsn := os.Getenv(pgEnv)
	if dsn == "" {
		testenv.Skip(t, "store: PostgreSQL tests skipped: set "+pgEnv+" (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return func(t testing.TB) func() *Store {
		t.Helper()
		u := pgSchemaDSN(t, dsn)
		ctx := context.Background()
		return func() *Store {
			t.Helper()
			s, err := Open(ctx, u)
			if err != nil {
				t.Fatalf("open postgres: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}
}

// pgSchemaDSN creates a schema of its own for one test in the database at
// dsn (dropped when the test ends) and returns a DSN confined to it.
func pgSchemaDSN(t testing.TB, dsn string) string {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open %s: %v", pgEnv, err)
	}
	t.Cleanup(func() { admin.Close() })
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	schema := "sealant_test_" + hex.EncodeToString(rnd[:])
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	// Registered first, so it runs after the handles' Close.
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", pgEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestSQLite(t *testing.T) {
	runStoreSuite(t, sqliteFactory)
}

func TestPostgres(t *testing.T) {
	runStoreSuite(t, pgFactory(t))
}

// t0 is the suite's epoch; tests move time explicitly from here.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestOpenDSN(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, dsn string
		ok        bool
	}{
		{"sqlite url", "sqlite://" + filepath.Join(dir, "a.db"), true},
		{"plain path", filepath.Join(dir, "b.db"), true},
		{"sqlite url with params", "sqlite://" + filepath.Join(dir, "c.db") + "?_cache_size=-2000", true},
		{"empty", "", false},
		{"memory", "sqlite://:memory:", false},
		{"unknown scheme", "mysql://root@localhost/x", false},
		{"empty sqlite path", "sqlite://", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(ctx, tc.dsn)
			if tc.ok {
				if err != nil {
					t.Fatalf("Open(%q): %v", tc.dsn, err)
				}
				if s.Dialect() != "sqlite" {
					t.Errorf("dialect %q", s.Dialect())
				}
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
				if err := s.Close(); err != nil {
					t.Errorf("second close: %v", err)
				}
				return
			}
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded, want error", tc.dsn)
			}
		})
	}
}

func TestRebind(t *testing.T) {
	pg := &Store{dialect: dialectPostgres, rebinds: map[string]string{}}
	lite := &Store{dialect: dialectSQLite, rebinds: map[string]string{}}
	for _, tc := range []struct{ in, pg string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ?", "a = $1"},
		{"a = ? AND b IN (?, ?)", "a = $1 AND b IN ($2, $3)"},
	} {
		if got := pg.rebind(tc.in); got != tc.pg {
			t.Errorf("pg rebind(%q) = %q, want %q", tc.in, got, tc.pg)
		}
		if got := lite.rebind(tc.in); got != tc.in {
			t.Errorf("sqlite rebind(%q) = %q, want unchanged", tc.in, got)
		}
	}
}

func TestLoadMigrations(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("migrations = %+v", ms)
	}
	for _, d := range []dialect{dialectSQLite, dialectPostgres} {
		for _, m := range ms {
			r := d.render(m.sql)
			if r == m.sql && (strings.Contains(m.sql, "{{ID}}") || strings.Contains(m.sql, "{{BLOB}}")) {
				t.Errorf("%s: %s: tokens not rendered", d, m.name)
			}
			if strings.Contains(r, "{{") {
				t.Errorf("%s: %s: unknown token left after render", d, m.name)
			}
		}
	}
}

func TestValidTenantID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"acme", true}, {"sp-01", true}, {"a.b_c", true}, {"0x", true},
		{"", false}, {"-lead", false}, {"=cmd()", false}, {"Upper", false},
		{"has space", false}, {string(make([]byte, 65)), false},
	} {
		if got := validTenantID(tc.id); got != tc.ok {
			t.Errorf("validTenantID(%q) = %v, want %v", tc.id, got, tc.ok)
		}
	}
}

// TestSQLitePragmas checks the connection settings the concurrency design
// relies on: WAL, foreign keys, a busy timeout on both pools, and readers
// that cannot write.
func TestSQLitePragmas(t *testing.T) {
	s := sqliteFactory(t)()
	for _, tc := range []struct {
		pool *sql.DB
		name string
		want string
	}{
		{s.w, "journal_mode", "wal"},
		{s.r, "journal_mode", "wal"},
		{s.w, "foreign_keys", "1"},
		{s.r, "foreign_keys", "1"},
		{s.w, "busy_timeout", "10000"},
		{s.r, "busy_timeout", "10000"},
		{s.r, "query_only", "1"},
		{s.w, "query_only", "0"},
	} {
		var got string
		if err := tc.pool.QueryRowContext(context.Background(), "PRAGMA "+tc.name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %q, want %q", tc.name, got, tc.want)
		}
	}
	if _, err := s.r.ExecContext(context.Background(), "DELETE FROM tenants"); err == nil {
		t.Error("reader pool accepted a write")
	}
}

// TestUpgradeAllocationCounters builds a database as a version-1 binary left
// it, with allocations, and checks that migration 2 numbers them per tenant
// in time order and that the quota counts them after the upgrade.
func TestUpgradeAllocationCounters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.sqlite")
	raw, err := sql.Open("sqlite", "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	old := &Store{dialect: dialectSQLite, w: raw, r: raw, rebinds: map[string]string{}}
	if err := old.migrateTo(bg, 1); err != nil {
		t.Fatal(err)
	}
	if v, _ := old.SchemaVersion(bg); v != 1 {
		t.Fatalf("schema version %d, want 1", v)
	}
	q := tenant("q", 1, 10) // fair share favours q until its quota stops it
	q.Quota.SectorsPerDay = 3
	mustCreate(t, old, q, tenant("r", 2, 1))
	// Out of insertion order on purpose: numbering follows at_ms.
	for i, row := range []struct {
		tenant string
		at     time.Duration
	}{{"q", 2 * time.Hour}, {"r", time.Hour}, {"q", 0}, {"q", 30 * time.Hour}, {"r", 3 * time.Hour}} {
		if _, err := raw.Exec(`INSERT INTO usage_events (tenant_id, miner_id, number, stage, at_ms) VALUES (?, ?, ?, 'allocated', ?)`,
			row.tenant, 99, i, ms(t0.Add(row.at))); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	s, err := Open(bg, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.reader().query(bg, `SELECT tenant_id, at_ms, alloc_seq FROM usage_events ORDER BY tenant_id, at_ms`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var tn string
		var at, seq int64
		if err := rows.Scan(&tn, &at, &seq); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s@%dh=%d", tn, (at-ms(t0))/3_600_000, seq))
	}
	rows.Close()
	if want := "q@0h=1 q@2h=2 q@30h=3 r@1h=1 r@3h=2"; strings.Join(got, " ") != want {
		t.Fatalf("alloc_seq after upgrade: %v, want %s", got, want)
	}
	// q allocated at +30 h only in the last day (from +31 h): two more fit
	// under its quota of 3, then it is full and r gets the rest.
	now := t0.Add(31 * time.Hour)
	for i, want := range []string{"q", "q", "r"} {
		a, err := s.AllocateSector(bg, fmt.Sprintf("w%d", i), AllocateFilter{Tenants: []string{"q", "r"}}, now, AllocatePolicy{FairShareWindow: time.Hour})
		if err != nil || a.Sector.TenantID != want {
			t.Fatalf("allocation %d: %v %v, want tenant %s", i, a.Sector.TenantID, err, want)
		}
	}
}

// TestCheckpointErrorReported: one failed checkpoint round is retried
// quietly; rounds failing in a row are reported, and a success clears it.
func TestCheckpointErrorReported(t *testing.T) {
	s, err := Open(bg, filepath.Join(t.TempDir(), "ck.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cancelled, cancel := context.WithCancel(bg)
	cancel()
	s.checkpointOnce(cancelled)
	if err := s.CheckpointError(); err != nil {
		t.Fatalf("one failed round reported: %v", err)
	}
	for range maxCheckpointFailures {
		s.checkpointOnce(cancelled)
	}
	if err := s.CheckpointError(); err == nil || !strings.Contains(err.Error(), "WAL checkpoints in a row failed") {
		t.Fatalf("failing checkpoints not reported: %v", err)
	}
	s.checkpointOnce(bg)
	if err := s.CheckpointError(); err != nil {
		t.Fatalf("success did not clear: %v", err)
	}
}
