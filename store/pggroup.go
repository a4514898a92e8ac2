package store

import (
	"context"
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
// caller's own lease was renewed, or the sector's queued state reports
// written, which the manager queues again marked Retry, so they are not
// written twice), so its error is its answer and the others stay. When a statement fails the transaction is aborted; then the
// group is rolled back and every call in it runs again alone, in its own
// transaction with the usual retries (calls may run more than once, as
// with Store.tx). A commit that fails does the same.
//
// Calls of different lanes must not wait for each other's row locks for
// a whole group: two groups waiting for each other are a deadlock that
// costs PostgreSQL's deadlock_timeout to break. So a call's lane follows
// from what it locks. Most calls lock only their sector's row: they are
// spread over sector lanes by sector, so one sector's calls stay in order
// in one lane. Submissions also lock their tenant's open batch rows: they
// go to their tenant's batch lane (a tenant is one miner actor, so the
// lane follows from the sector id alone), so a batch row is only ever
// locked by one lane. Allocations, which span tenants, have a lane of
// their own; they lock the eligible tenants' rows FOR NO KEY UPDATE, which
// does not stop a new batch from taking its key-share lock on its tenant.
// A cycle is left only when a worker makes two calls on one sector at the
// same time, which its state machine does not do, or when a group locks a
// sector that is in an open batch the pipeline is releasing (it locks the
// batch, then its members) while another call of the group waits for that
// batch; PostgreSQL then breaks it and the groups' calls run alone. A
// group locks its sectors up front in key order (pgbatch.go), and the
// allocation lane locks a worker's sectors in key order too.

// pgLanes is the number of sector lanes and of batch lanes.
const pgLanes = 4

// maxPGGroup bounds the calls in one PostgreSQL group. A call costs a few
// round trips to the server (a fraction of a millisecond each), many times
// what a SQLite call costs in process, so the first call of a group waits
// for fewer others than on SQLite.
const maxPGGroup = 64

// pgLaneSet is a Store's PostgreSQL lanes.
type pgLaneSet struct {
	alloc   *committer
	sectors [pgLanes]*committer
	batches [pgLanes]*committer
}

func newPGLanes(s *Store) *pgLaneSet {
	l := &pgLaneSet{alloc: newLane(s, maxPGGroup, runAllocGroup)}
	for i := range pgLanes {
		l.sectors[i] = newLane(s, maxPGGroup, runPGGroup)
		l.batches[i] = newLane(s, maxPGGroup, runPGGroup)
	}
	return l
}

func (l *pgLaneSet) close() {
	l.alloc.close()
	for i := range pgLanes {
		l.sectors[i].close()
		l.batches[i].close()
	}
}

// callKind says what a worker call locks besides its sector's row.
type callKind int

const (
	sectorCall callKind = iota // nothing else
	batchCall                  // its tenant's open batch rows
	piecesCall                 // the head of its tenant's piece queue
)

// callTx runs a worker call's transaction fn on sector id, which locks
// that sector's row and what kind says: on PostgreSQL in the lane that
// follows (a batchCall in its tenant's batch lane, the others in the
// sector's lane), on SQLite through the group commit like any
// transaction. fn has Store.tx's contract, and a returned error must mean
// nothing that matters was written (see above). fn's statements must not
// stop when the caller goes away (context.WithoutCancel): once a lane has
// taken a call it completes and answers it, and on PostgreSQL a cancelled
// statement would abort the transaction of the whole group, making every
// call in it run again.
func (s *Store) callTx(ctx context.Context, id SectorID, kind callKind, fn func(db) error) error {
	if s.lanes == nil {
		return s.tx(ctx, fn)
	}
	lane := s.lanes.sectors[sectorLane(id)]
	if kind == batchCall {
		lane = s.lanes.batches[id.Miner%pgLanes]
	}
	return lane.submit(&groupOp{ctx: ctx, fn: fn, done: make(chan error, 1), sector: &id, pieces: kind == piecesCall})
}

// sectorLane is the sector lane of a sector's calls. A miner's numbers
// are consecutive; mixing in the miner spreads several tenants' sectors
// too.
func sectorLane(id SectorID) int { return int((id.Number + id.Miner*7) % pgLanes) }

// allocTx runs an allocation: on PostgreSQL in the allocation lane, where
// a group of them is decided together (allocgroup.go); fn does the same
// allocation alone (on SQLite, and when a group fails).
func (s *Store) allocTx(ctx context.Context, fn func(db) error, req *allocReq) error {
	if s.lanes == nil {
		return s.tx(ctx, fn)
	}
	return s.lanes.alloc.submit(&groupOp{ctx: ctx, fn: fn, done: make(chan error, 1), alloc: req})
}

// runPGGroup runs one lane's group in one PostgreSQL transaction and
// answers every call in it.
func runPGGroup(s *Store, group []*groupOp) {
	bg := context.Background()
	// A group of none left costs nothing.
	if group = answerCancelled(group); len(group) == 0 {
		return
	}
	var lock groupLocks
	for _, op := range group {
		if op.sector != nil {
			lock.sectors = append(lock.sectors, *op.sector)
			if op.pieces {
				lock.pieceMiners = append(lock.pieceMiners, int64(op.sector.Miner))
			}
		}
	}
	runGroupTx(s, group, lock, func(d db) ([]error, bool) {
		results := make([]error, len(group))
		for i, op := range group {
			if err := op.ctx.Err(); err != nil {
				results[i] = err
				continue
			}
			if err := runOp(op.fn, d); err != nil {
				results[i] = err
				// The call's error is its answer only if the transaction
				// is still usable, i.e. no statement failed (its kept
				// writes included).
				if d.flush(bg) != nil {
					return nil, false
				}
				if _, perr := d.q.ExecContext(bg, "SELECT 1"); perr != nil {
					return nil, false
				}
			}
		}
		return results, true
	})
}

// answerCancelled answers the calls of group whose callers went away and
// returns the others.
func answerCancelled(group []*groupOp) []*groupOp {
	live := group[:0:0]
	for _, op := range group {
		if err := op.ctx.Err(); err != nil {
			op.done <- err
			continue
		}
		live = append(live, op)
	}
	return live
}

// runGroupTx runs a group's calls in one transaction with body, which
// returns each call's answer, or false when the transaction failed. The
// transaction takes the locks in lock up front and commits with the kept
// writes (pgbatch.go). When it fails, or cannot begin or commit, every
// call runs alone in a transaction of its own (Store.tx, with its
// retries).
//
// A worker call alone in its lane takes the same way: two round trips
// when it reads nothing beyond what the group locks up front, where alone
// it made one for each statement and for BEGIN and COMMIT (five or six
// for a call that takes pieces or joins a batch). Lanes are seldom busy
// enough to group outside a ramp, so this is most calls' path. (A lone
// allocation still runs alone: runAllocGroup.)
func runGroupTx(s *Store, group []*groupOp, lock groupLocks, body func(d db) ([]error, bool)) {
	bg := context.Background()
	// failed: the group as a group failed, and its calls run alone.
	failed := func() {
		s.groupsAlone.Add(1)
		for _, op := range group {
			op.done <- s.tx(op.ctx, op.fn)
		}
	}
	conn, err := s.w.Conn(bg)
	if err != nil {
		failed()
		return
	}
	d := db{s: s, q: conn, group: newPGGroup(conn)}
	ok := d.beginGroup(bg, conn, lock) == nil
	var results []error
	if ok {
		results, ok = body(d)
	}
	if ok {
		ok = d.commitGroup(bg) == nil
	}
	if !ok {
		abortGroup(conn)
		failed()
		return
	}
	_ = conn.Close() // back to the pool
	s.commits.Add(1)
	for i, op := range group {
		op.done <- results[i]
	}
}
