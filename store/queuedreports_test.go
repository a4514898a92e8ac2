package store

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestWriteReports writes queued reports of many sectors (on PostgreSQL
// over several sector lanes) and checks each is written once, in order;
// reports whose check refuses them, or whose sector is unknown, are
// dropped and counted; a retried report already written is not written
// again.
func TestWriteReports(t *testing.T) {
	callsBackends(t, func(t *testing.T, s *Store) {
		mustCreate(t, s, tenant("acme", 1000, 1))
		var batch []SectorReports
		refuse := errors.New("refused")
		for i := range 8 {
			id := mustAlloc(t, s, fmt.Sprintf("w/t%d", i), t0).Sector.ID
			sr := SectorReports{ID: id}
			for j, next := range []string{"PiecesAcquired", "PiecesAdded"} {
				q := QueuedReport{Report: StateReport{Prev: fmt.Sprint(j), Next: next, Event: next}, At: t0.Add(time.Duration(j) * time.Second)}
				if i == 3 && j == 1 {
					q.Check = func(Sector) error { return refuse }
				}
				if i == 4 && j == 1 {
					q.Validate = func(Sector) error { return refuse }
				}
				sr.Reports = append(sr.Reports, q)
			}
			batch = append(batch, sr)
		}
		batch = append(batch, SectorReports{ID: SectorID{Miner: 1000, Number: 999}, Reports: []QueuedReport{{At: t0}}})
		failed, dropped, err := s.WriteReports(bg, batch, time.Hour)
		if err != nil || len(failed) != 0 || dropped != 3 {
			t.Fatalf("failed %d, dropped %d, %v; want 0, 3, nil", len(failed), dropped, err)
		}
		// The same reports again, as retries: all there already.
		for i := range batch {
			for j := range batch[i].Reports {
				batch[i].Reports[j].Retry = true
			}
		}
		if _, _, err := s.WriteReports(bg, batch[:8], time.Hour); err != nil {
			t.Fatal(err)
		}
		// A report written late does not move a lease back.
		late := []SectorReports{{ID: batch[0].ID, Reports: []QueuedReport{{Report: StateReport{Prev: "x", Next: "Paused", Event: "late"}, At: t0.Add(-10 * time.Hour)}}}}
		before, _ := s.GetSector(bg, batch[0].ID)
		if _, _, err := s.WriteReports(bg, late, time.Hour); err != nil {
			t.Fatal(err)
		}
		if after, err := s.GetSector(bg, batch[0].ID); err != nil || after.LeaseExpires.Before(before.LeaseExpires) || after.State != "Paused" {
			t.Errorf("late report: lease %v → %v, state %q, %v", before.LeaseExpires, after.LeaseExpires, after.State, err)
		}
		for i, sr := range batch[:8] {
			h, err := s.SectorHistory(bg, sr.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range h[1:] { // after the allocation line
				got = append(got, e.Next)
			}
			want := "[PiecesAcquired PiecesAdded]"
			switch i {
			case 0:
				want = "[PiecesAcquired PiecesAdded Paused]"
			case 3, 4:
				want = "[PiecesAcquired]"
			}
			if fmt.Sprint(got) != want {
				t.Errorf("sector %d history %v, want %s", i, got, want)
			}
			sec, err := s.GetSector(bg, sr.ID)
			if err != nil || sec.LeaseExpires.Before(t0.Add(time.Hour)) {
				t.Errorf("sector %d lease %v, %v: not renewed by its reports", i, sec.LeaseExpires, err)
			}
		}
	})
}
