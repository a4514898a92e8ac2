package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/sealant/sealant/proofs/abi"
)

// TestAllocateGroupMatchesSequential: a group of allocations decided
// together (the PostgreSQL allocation lane) gives exactly what the same
// allocations give one after another: the same tenants, numbers, re-offers
// and refusals, the same allocation sequence numbers and counters. The
// group mixes weights, a daily quota that fills up mid-group, a
// concurrency quota, a paused tenant, filters, a worker that already holds
// a sector and a worker that asks twice.
func TestAllocateGroupMatchesSequential(t *testing.T) {
	for name, factory := range map[string]func(t *testing.T) dbFactory{
		"sqlite":   func(*testing.T) dbFactory { return sqliteFactory },
		"postgres": func(t *testing.T) dbFactory { return pgFactory(t) },
	} {
		t.Run(name, func(t *testing.T) {
			f := factory(t)
			group, seq := f(t)(), f(t)()
			now := t0.Add(time.Hour)
			for _, s := range []*Store{group, seq} {
				a, b, c, d := tenant("a", 10, 1), tenant("b", 11, 2), tenant("c", 12, 3), tenant("d", 13, 5)
				b.Quota.SectorsPerDay = 3
				c.Quota.Concurrent = 2
				d.Paused = true
				mustCreate(t, s, a, b, c, d)
				// History before the group: b has one allocation today, and
				// worker "held" holds an active sector of a.
				for _, w := range []string{"old-b", "held"} {
					f := AllocateFilter{Tenants: []string{"b"}}
					if w == "held" {
						f = AllocateFilter{Tenants: []string{"a"}}
					}
					if _, err := s.AllocateSector(bg, w, f, t0, AllocatePolicy{}); err != nil {
						t.Fatal(err)
					}
				}
			}
			var reqs []*allocReq
			for i := range 14 {
				r := &allocReq{workerID: fmt.Sprintf("w%d", i), now: now.Add(time.Duration(i) * time.Millisecond)}
				switch i {
				case 3:
					r.workerID = "held" // re-offered its sector of a
				case 5:
					r.f = AllocateFilter{Tenants: []string{"a"}}
				case 6:
					r.f = AllocateFilter{ExcludeMiners: []uint64{11, 12}}
				case 7:
					r.f = AllocateFilter{Tenants: []string{"d"}} // paused: no work
				case 8:
					r.workerID = "w2" // asks again: gets its sector back
				case 9:
					r.f = AllocateFilter{ProofTypes: []abi.RegisteredSealProof{abi.StackedDrg32GiBV1_1}} // no tenant: no work
				}
				reqs = append(reqs, r)
			}

			var gotGroup []error
			if err := group.tx(bg, func(d db) error {
				var err error
				gotGroup, err = d.allocateGroup(bg, reqs)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			for i, r := range reqs {
				a, err := seq.AllocateSector(bg, r.workerID, r.f, r.now, r.p)
				if (err == nil) != (gotGroup[i] == nil) {
					t.Fatalf("allocation %d: group error %v, sequential %v", i, gotGroup[i], err)
				}
				g := r.out
				if err == nil && (g.Sector.ID != a.Sector.ID || g.Sector.TenantID != a.Sector.TenantID || g.Reoffered != a.Reoffered ||
					g.Sector.WorkerID != a.Sector.WorkerID || !g.Sector.LeaseExpires.Equal(a.Sector.LeaseExpires)) {
					t.Errorf("allocation %d (%s): group %s %s reoffered=%v, sequential %s %s reoffered=%v", i, r.workerID,
						g.Sector.ID, g.Sector.TenantID, g.Reoffered, a.Sector.ID, a.Sector.TenantID, a.Reoffered)
				}
			}
			for _, q := range []string{
				`SELECT tenant_id || ':' || CAST(number AS TEXT) || ':' || CAST(alloc_seq AS TEXT) || ':' || worker_id FROM usage_events WHERE stage = 'allocated' ORDER BY tenant_id, alloc_seq`,
				`SELECT tenant_id || ':' || CAST(total AS TEXT) FROM allocation_counters ORDER BY tenant_id`,
				`SELECT CAST(miner_id AS TEXT) || ':' || CAST(next_number AS TEXT) FROM sector_counters ORDER BY miner_id`,
				`SELECT CAST(miner_id AS TEXT) || '/' || CAST(number AS TEXT) || ':' || worker_id || ':' || event FROM sector_history ORDER BY miner_id, number, id`,
			} {
				if g, s := rowsText(t, group, q), rowsText(t, seq, q); g != s {
					t.Errorf("%s\ngroup:      %s\nsequential: %s", q, g, s)
				}
			}
		})
	}
}

// rowsText is the first column of q's rows, joined.
func rowsText(t *testing.T, s *Store, q string) string {
	t.Helper()
	rows, err := s.reader().query(bg, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := ""
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out += v + " "
	}
	return out
}
