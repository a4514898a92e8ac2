package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// TestGroupedSectorReads reads many sectors, some missing, from many
// goroutines at once with grouped reads on (on SQLite too, to test the
// grouping itself) and checks every caller gets its own sector or
// ErrNotFound, also when groups exceed maxSectorRead.
func TestGroupedSectorReads(t *testing.T) {
	callsBackends(t, func(t *testing.T, s *Store) {
		s.groupReads = true
		mustCreate(t, s, tenant("acme", 1000, 1))
		var ids []SectorID
		for i := range 40 {
			ids = append(ids, mustAlloc(t, s, fmt.Sprintf("w/t%d", i), t0).Sector.ID)
		}
		ids = append(ids, SectorID{Miner: 1000, Number: 9999}, SectorID{Miner: 7, Number: 1})
		const callers = 3 * maxSectorRead
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := ids[i%len(ids)]
				sec, err := s.GetSector(bg, id)
				switch {
				case id.Number == 9999 || id.Miner == 7:
					if !errors.Is(err, ErrNotFound) {
						errs <- fmt.Errorf("missing sector %s: %+v, %v", id, sec, err)
					}
				case err != nil:
					errs <- fmt.Errorf("sector %s: %v", id, err)
				case sec.ID != id || sec.TenantID != "acme" || sec.WorkerID == "":
					errs <- fmt.Errorf("sector %s: got %+v", id, sec)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if q := s.sreads.queries.Load(); q >= callers {
			t.Errorf("%d queries for %d reads: none grouped", q, callers)
		}
		if s.sreads.busy || len(s.sreads.queue) != 0 {
			t.Errorf("reads left busy=%v, %d queued", s.sreads.busy, len(s.sreads.queue))
		}
	})
}

// TestGetSectors reads more sectors than one statement asks for, with
// repeats and missing ids, on both backends.
func TestGetSectors(t *testing.T) {
	callsBackends(t, func(t *testing.T, s *Store) {
		mustCreate(t, s, tenant("acme", 1000, 1))
		var ids []SectorID
		for i := range maxSectorRead + 9 {
			ids = append(ids, mustAlloc(t, s, fmt.Sprintf("w/t%d", i), t0).Sector.ID)
		}
		missing := []SectorID{{Miner: 1000, Number: 99999}, {Miner: 7, Number: 1}}
		ask := append(append(slices.Clone(ids), missing...), ids[3], ids[0])
		s.sreads.queries.Store(0)
		got, err := s.GetSectors(bg, ask)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ids) {
			t.Fatalf("%d sectors, want %d", len(got), len(ids))
		}
		for _, id := range ids {
			if sec, ok := got[id]; !ok || sec.ID != id || sec.TenantID != "acme" {
				t.Errorf("sector %s: %+v, %v", id, sec, ok)
			}
		}
		if q := s.sreads.queries.Load(); q != 2 {
			t.Errorf("%d statements for %d ids, want 2", q, len(ids)+len(missing))
		}
		if got, err := s.GetSectors(bg, nil); err != nil || len(got) != 0 {
			t.Errorf("no ids: %v, %v", got, err)
		}
	})
}

// TestKeyListShapes checks that reads and locks by key, and the piece
// queues' heads, use one statement per power of two of keys (so
// PostgreSQL keeps each one's generic plan), with every key in the list
// and the padding matching nothing.
func TestKeyListShapes(t *testing.T) {
	for _, dialect := range []dialect{dialectSQLite, dialectPostgres} {
		d := db{s: &Store{dialect: dialect, rebinds: map[string]string{}}}
		for _, lock := range []bool{false, true} {
			shapes := map[string]bool{}
			for n := 1; n <= 2*maxSectorRead; n++ {
				ids := make([]SectorID, n)
				for i := range ids {
					ids[i] = SectorID{Miner: 1000 + uint64(i%3), Number: uint64(n - i)}
				}
				q, args := d.sectorsQuery(ids, lock)
				shapes[q] = true
				if want := 2 * keyBucket(n); len(args) != want {
					t.Fatalf("%v lock=%v n=%d: %d arguments, want %d", dialect, lock, n, len(args), want)
				}
				for i, a := range args {
					if i >= 2*n && a != noKey {
						t.Fatalf("%v lock=%v n=%d: padding argument %d is %v", dialect, lock, n, i, a)
					}
				}
			}
			if len(shapes) != 10 {
				t.Errorf("%v lock=%v: %d statement shapes for 1..%d keys, want 10", dialect, lock, len(shapes), 2*maxSectorRead)
			}
		}
	}
	for n, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 4, 64: 64, 65: 128} {
		if got := keyBucket(n); got != want {
			t.Errorf("keyBucket(%d) = %d, want %d", n, got, want)
		}
	}
}
