package store

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// benchBackends runs fn on SQLite and, when SEALANT_TEST_PG_DSN is set, on
// PostgreSQL.
func benchBackends(b *testing.B, fn func(b *testing.B, open func() *Store)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, sqliteFactory(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, pgFactory(b)(b)) })
}

// BenchmarkAllocateSector measures one allocation (fair-share pick, number,
// insert, usage and history rows, commit) among 4 tenants. Time advances a
// minute per allocation and each sector is finalized (untimed), so the
// 24 h window and the active set stay at a realistic size however large
// b.N gets.
func BenchmarkAllocateSector(b *testing.B) {
	benchBackends(b, func(b *testing.B, open func() *Store) {
		s := open()
		for i := range 4 {
			if _, err := s.CreateTenant(bg, tenant(fmt.Sprintf("t%d", i), uint64(1000+i), i+1), t0); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			now := t0.Add(time.Duration(i) * time.Minute)
			w := fmt.Sprintf("w%d", i)
			a, err := s.AllocateSector(bg, w, AllocateFilter{}, now, AllocatePolicy{})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := finalize(s, a.Sector.ID, w, now); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
}

// BenchmarkWorkerReport measures one WorkerReport (lease check, history
// append, state and lease update, commit).
func BenchmarkWorkerReport(b *testing.B) {
	benchBackends(b, func(b *testing.B, open func() *Store) {
		s := open()
		if _, err := s.CreateTenant(bg, tenant("acme", 1000, 1), t0); err != nil {
			b.Fatal(err)
		}
		a := mustAlloc(b, s, "w", t0)
		states := []string{"PC1Done", "PC2Done"}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r := StateReport{ID: a.Sector.ID, Prev: states[i%2], Next: states[(i+1)%2], Event: "bench"}
			h := Holder{Check: holds("w"), Now: t0.Add(time.Duration(i) * time.Second), TTL: time.Minute}
			if _, err := s.WorkerReport(bg, h, r, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWorkerReportParallel measures WorkerReport throughput with many
// callers at once (64 goroutines per core, 1024 sectors), the manager's
// situation under load: on SQLite they share one writer, so this is where
// group commit shows.
func BenchmarkWorkerReportParallel(b *testing.B) {
	benchBackends(b, func(b *testing.B, open func() *Store) {
		s := open()
		if _, err := s.CreateTenant(bg, tenant("acme", 1000, 1), t0); err != nil {
			b.Fatal(err)
		}
		const sectors = 1024
		ids := make([]Allocation, sectors)
		for i := range ids {
			ids[i] = mustAlloc(b, s, fmt.Sprintf("w%d", i), t0)
		}
		var next atomic.Int64
		b.SetParallelism(64)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1)
				a := ids[i%sectors]
				// Each round over the sectors reports the other way, so a
				// report is rarely a resend (which would write nothing).
				from, to := "A", "B"
				if i/sectors%2 == 1 {
					from, to = to, from
				}
				r := StateReport{ID: a.Sector.ID, Prev: from, Next: to, Event: "bench"}
				h := Holder{Check: holds(a.Sector.WorkerID), Now: t0.Add(time.Duration(i) * time.Millisecond), TTL: time.Minute}
				if _, err := s.WorkerReport(bg, h, r, nil, nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
