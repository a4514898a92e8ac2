package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// TestGroupCommitIsolatesFailures runs one group by hand: a failing or
// panicking operation is rolled back alone, a cancelled one never runs,
// and the rest are committed together.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s, err := Open(bg, filepath.Join(t.TempDir(), "g.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.w.Exec(`CREATE TABLE kv (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	insert := func(keys ...string) func(db) error {
		return func(d db) error {
			for _, k := range keys {
				if _, err := d.exec(bg, `INSERT INTO kv (k) VALUES (?)`, k); err != nil {
					return err
				}
			}
			return nil
		}
	}
	boom := errors.New("boom")
	cancelled, cancel := context.WithCancel(bg)
	cancel()
	ops := []*groupOp{
		{ctx: bg, fn: insert("a1", "a2")},
		{ctx: bg, fn: func(d db) error { _ = insert("b1")(d); return boom }},
		{ctx: bg, fn: insert("c1", "a1")}, // duplicate key: fails after c1
		{ctx: cancelled, fn: insert("d1")},
		{ctx: bg, fn: func(d db) error { _ = insert("p1")(d); panic("bug") }},
		{ctx: bg, fn: insert("e1")},
	}
	for _, op := range ops {
		op.done = make(chan error, 1)
	}
	s.group.commit(ops)
	var got []string
	for _, op := range ops {
		err := <-op.done
		got = append(got, fmt.Sprint(err != nil))
	}
	if want := "false true true true true false"; strings.Join(got, " ") != want {
		t.Fatalf("failed ops: %v, want %s", got, want)
	}
	rows, err := s.reader().query(bg, `SELECT k FROM kv ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		rows.Scan(&k)
		keys = append(keys, k)
	}
	if want := "a1 a2 e1"; strings.Join(keys, " ") != want {
		t.Fatalf("committed keys %v, want %s", keys, want)
	}
}

// TestGroupCommitConcurrent: many concurrent transactions through the
// committer, each incrementing a counter and adding a row; every success is
// visible and counted exactly once.
func TestGroupCommitConcurrent(t *testing.T) {
	s, err := Open(bg, filepath.Join(t.TempDir(), "g.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.w.Exec(`CREATE TABLE kv (k TEXT PRIMARY KEY); CREATE TABLE n (v INTEGER); INSERT INTO n VALUES (0)`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok []string
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := fmt.Sprintf("k%03d", i%150) // 50 duplicates must fail
			err := s.tx(bg, func(d db) error {
				if _, err := d.exec(bg, `UPDATE n SET v = v + 1`); err != nil {
					return err
				}
				_, err := d.exec(bg, `INSERT INTO kv (k) VALUES (?)`, k)
				return err
			})
			if err == nil {
				mu.Lock()
				ok = append(ok, k)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var v, rows int
	if err := s.reader().queryRow(bg, `SELECT (SELECT v FROM n), (SELECT COUNT(*) FROM kv)`).Scan(&v, &rows); err != nil {
		t.Fatal(err)
	}
	sort.Strings(ok)
	if len(ok) != 150 || v != 150 || rows != 150 {
		t.Fatalf("%d successes, counter %d, rows %d; want 150 each", len(ok), v, rows)
	}
}
