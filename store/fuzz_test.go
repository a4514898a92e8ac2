package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// FuzzAllocationModel drives AllocateSector, WorkerFinalize, AbortSector,
// SetTenantPaused and BumpSectorNumberFloor on SQLite with an arbitrary
// operation sequence and checks every answer against an in-memory model of
// the documented rules: re-offer to the holder first; otherwise the
// eligible tenant (not paused, under both quotas) with the smallest
// (allocated+1)/weight, ties to the smaller id; numbers per miner dense
// from the floor and never reused.
func FuzzAllocationModel(f *testing.F) {
	f.Add([]byte{0, 6, 12, 18, 24, 1, 7})
	f.Add([]byte{0, 0, 2, 0, 4, 0, 6, 10, 16, 22, 3, 9, 15, 5, 11, 17, 1, 7, 13})
	f.Add([]byte{4, 10, 16, 0, 6, 12, 18, 4, 10, 16, 5, 23, 0, 6, 2, 8, 14, 20, 0, 6, 12, 18})
	f.Add([]byte("allocate, finalize, abort, pause, bump floor: a longer mixed sequence"))
	f.Fuzz(func(t *testing.T, ops []byte) { runAllocationModel(t, sqliteFactory(t)(), ops) })
}

// testAllocationModel runs the model on pseudo-random sequences from a
// fixed seed as part of the suite. (Fuzzing proper is slow here: coverage
// instrumentation of the transpiled SQLite makes each exec very slow.)
func testAllocationModel(t *testing.T, newDB dbFactory) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 12 {
		ops := make([]byte, 8+r.IntN(56))
		for j := range ops {
			ops[j] = byte(r.Uint32())
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) { runAllocationModel(t, newDB(t)(), ops) })
	}
}

// runAllocationModel checks the store s (fresh) against the model.
func runAllocationModel(t *testing.T, s *Store, ops []byte) {
	if len(ops) > 64 {
		ops = ops[:64]
	}
	type mt struct {
		id          string
		miner       uint64
		weight      int
		qDay, qConc int
		paused      bool
		allocated   int
		active      int
	}
	model := []*mt{
		{id: "a", miner: 1, weight: 1},
		{id: "b", miner: 2, weight: 2, qConc: 3},
		{id: "c", miner: 3, weight: 3, qDay: 5},
	}
	for _, m := range model {
		tn := tenant(m.id, m.miner, m.weight)
		tn.Quota = Quota{SectorsPerDay: m.qDay, Concurrent: m.qConc}
		mustCreate(t, s, tn)
	}
	next := map[uint64]uint64{}
	held := map[string]SectorID{} // worker → active sector
	owner := map[uint64]*mt{1: model[0], 2: model[1], 3: model[2]}
	used := map[SectorID]bool{}

	for i, op := range ops {
		now := t0.Add(time.Duration(i) * time.Second)
		arg := int(op / 6)
		w := fmt.Sprintf("w%d", arg%4)
		switch op % 6 {
		case 0, 1:
			a, err := s.AllocateSector(bg, w, AllocateFilter{}, now, AllocatePolicy{LeaseTTL: time.Millisecond})
			if h, ok := held[w]; ok {
				if err != nil || !a.Reoffered || a.Sector.ID != h {
					t.Fatalf("op %d: holder %s of %s got %+v, %v", i, w, h, a, err)
				}
				continue
			}
			var pick *mt
			for _, m := range model {
				if m.paused || (m.qDay > 0 && m.allocated >= m.qDay) || (m.qConc > 0 && m.active >= m.qConc) {
					continue
				}
				if pick == nil || (m.allocated+1)*pick.weight < (pick.allocated+1)*m.weight {
					pick = m
				}
			}
			if pick == nil {
				if !errors.Is(err, ErrNoWork) {
					t.Fatalf("op %d: want ErrNoWork, got %+v, %v", i, a, err)
				}
				continue
			}
			want := SectorID{pick.miner, next[pick.miner]}
			if err != nil || a.Reoffered || a.Sector.ID != want || a.Sector.TenantID != pick.id {
				t.Fatalf("op %d: want new %s for %s, got %+v, %v", i, want, pick.id, a, err)
			}
			if used[want] {
				t.Fatalf("op %d: sector %s handed out twice", i, want)
			}
			used[want] = true
			next[pick.miner]++
			pick.allocated++
			pick.active++
			held[w] = want
		case 2, 3:
			h, ok := held[w]
			if !ok {
				continue
			}
			var err error
			if op%6 == 2 {
				err = finalize(s, h, w, now)
			} else {
				err = s.AbortSector(bg, h, "fuzz", now)
			}
			if err != nil {
				t.Fatalf("op %d: end %s: %v", i, h, err)
			}
			owner[h.Miner].active--
			delete(held, w)
		case 4:
			m := model[arg%3]
			m.paused = !m.paused
			if err := s.SetTenantPaused(bg, m.id, m.paused, now); err != nil {
				t.Fatal(err)
			}
		case 5:
			m := model[arg%3]
			floor := next[m.miner] + uint64(arg%3)
			if err := s.BumpSectorNumberFloor(bg, m.miner, floor); err != nil {
				t.Fatal(err)
			}
			next[m.miner] = max(next[m.miner], floor)
		}
	}
	for miner, n := range next {
		got, err := s.NextSectorNumber(bg, miner)
		if err != nil || got != n {
			t.Fatalf("miner %d: next %d, model %d (%v)", miner, got, n, err)
		}
	}
}
