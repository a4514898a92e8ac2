package manager

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/commp"
)

// BenchmarkPollPreCommitState measures the hot path of a sealing fleet: a
// thread polling a sector whose batch is closed (lease check, batch read
// through the poll cache, answer), without transport.
func BenchmarkPollPreCommitState(b *testing.B) {
	e := newEnv(b)
	s := e.open()
	s.batches.ttl, s.sectors.ttl = time.Second, time.Second // as in production
	mustTenant(b, s, "a", 1000, 1)
	w := workerCtx("w")
	const n = 64
	ids := make([]api.SectorID, n)
	for i := range ids {
		a := mustAllocate(b, s, "w", fmt.Sprint("t", i))
		ids[i] = a.ID
		tk, _ := s.AssignTicket(w, a.ID)
		if r, err := s.SubmitPreCommit(w, a.ID, pcInfo(tk), false); err != nil || r.Result != api.SubmitAccepted {
			b.Fatal(r, err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.PollPreCommitState(w, ids[i%n]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllocateSector measures one allocation (fair share, number,
// chain cross-check against the fake chain) for distinct threads.
func BenchmarkAllocateSector(b *testing.B) {
	e := newEnv(b)
	s := e.open()
	for i := 0; i < 4; i++ {
		mustTenant(b, s, fmt.Sprint("t", i), uint64(1000+i), i+1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := mustAllocate(b, s, "w", fmt.Sprint("t", i))
		b.StopTimer()
		// The worker reports it finalized: the active set stays small.
		if _, err := s.ReportFinalized(workerCtx("w"), a.ID, api.FinalizedInfo{}); err != nil {
			b.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		b.StartTimer()
	}
}

var bgCtx = context.Background()

// pcInfo is testPreCommitInfo without a *testing.T.
func pcInfo(tk api.Ticket) api.PreCommitInfo {
	var r, d [32]byte
	r[0], d[0] = 1, 2
	return api.PreCommitInfo{CommR: commp.SealedCID(r).String(), CommD: commp.PieceCID(d).String(), Ticket: tk}
}
