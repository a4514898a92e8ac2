package store

import (
	"context"
	"hash/maphash"
)

// Group commit for PostgreSQL worker calls.
//
// On PostgreSQL every write transaction costs a transaction id, a commit
// record and a WAL flush the caller waits for (about a millisecond here),
// and thousands of worker threads each making their own turn the commit
// into the bottleneck. Worker calls (calls.go, reports.go, allocation) are
// therefore grouped as on SQLite (groupcommit.go): a lane takes the calls
// waiting for it and runs them one after another in one transaction with
// one commit, answering each caller after that commit.
//
// PostgreSQL has no cheap per-call rollback: a savepoint that writes takes
// a transaction id of its own, which is what grouping saves. So a lane
// relies on what the calls promise: a call that returns an error has
// written nothing that matters (they check before they write; at most the
// caller's own lease was renewed), so its error is its answer and the
// others stay. When a statement fails the transaction is aborted; then the
// group is rolled back and every call in it runs again alone, in its own
// transaction with the usual retries (calls may run more than once, as
// with Store.tx). A commit that fails does the same.
//
// Allocations have a lane of their own (they lock the eligible tenants'
// rows and so run one at a time anyway); other calls are spread over
// pgLanes lanes by sector, so one sector's calls stay in order in one lane
// and lanes rarely wait for each other's row locks.

// pgLanes is the number of lanes for calls other than allocations.
const pgLanes = 4

// maxPGGroup bounds the calls in one PostgreSQL group. A call costs a few
// round trips to the server (a fraction of a millisecond each), many times
// what a SQLite call costs in process, so the first call of a group waits
// for fewer others than on SQLite.
const maxPGGroup = 32

// pgGroup is the PostgreSQL lanes of a Store.
type pgGroup struct {
	alloc *committer
	lanes [pgLanes]*committer
	seed  maphash.Seed
}

func newPGGroup(s *Store) *pgGroup {
	g := &pgGroup{alloc: newLane(s, maxPGGroup, runPGGroup), seed: maphash.MakeSeed()}
	for i := range g.lanes {
		g.lanes[i] = newLane(s, maxPGGroup, runPGGroup)
	}
	return g
}

func (g *pgGroup) close() {
	g.alloc.close()
	for _, l := range g.lanes {
		l.close()
	}
}

// lane picks a sector's lane.
func (g *pgGroup) lane(id SectorID) *committer {
	var h maphash.Hash
	h.SetSeed(g.seed)
	var b [16]byte
	for i := range 8 {
		b[i], b[8+i] = byte(id.Miner>>(8*i)), byte(id.Number>>(8*i))
	}
	h.Write(b[:])
	return g.lanes[h.Sum64()%pgLanes]
}

// callTx runs a worker call's transaction fn for sector id: on PostgreSQL
// in the sector's lane, on SQLite through the group commit like any
// transaction. fn has Store.tx's contract, and a returned error must mean
// nothing that matters was written (see above).
func (s *Store) callTx(ctx context.Context, id SectorID, fn func(db) error) error {
	if s.pg == nil {
		return s.tx(ctx, fn)
	}
	return s.pg.lane(id).run(ctx, fn)
}

// allocTx is callTx for allocations.
func (s *Store) allocTx(ctx context.Context, fn func(db) error) error {
	if s.pg == nil {
		return s.tx(ctx, fn)
	}
	return s.pg.alloc.run(ctx, fn)
}

// runPGGroup runs one lane's group in one PostgreSQL transaction and
// answers every call in it.
func runPGGroup(s *Store, group []*groupOp) {
	bg := context.Background()
	alone := func() {
		for _, op := range group {
			op.done <- s.tx(op.ctx, op.fn)
		}
	}
	if len(group) == 1 {
		alone()
		return
	}
	t, err := s.w.BeginTx(bg, nil)
	if err != nil {
		alone()
		return
	}
	d := db{s: s, q: t, tx: t}
	results := make([]error, len(group))
	for i, op := range group {
		if err := op.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if err := runOp(op.fn, d); err != nil {
			results[i] = err
			// The call's error is its answer only if the transaction
			// is still usable, i.e. no statement failed.
			if _, perr := t.ExecContext(bg, "SELECT 1"); perr != nil {
				_ = t.Rollback()
				alone()
				return
			}
		}
	}
	if err := t.Commit(); err != nil {
		alone()
		return
	}
	for i, op := range group {
		op.done <- results[i]
	}
}
