package store

import (
	"context"
	"errors"
	"fmt"
)

// Group commit for SQLite.
//
// SQLite has one writer at a time, so every write transaction of the
// manager queues for the same connection, and each one pays for BEGIN,
// COMMIT and the pages it rewrites in the WAL (the same index and table
// pages again and again: most operations touch a few rows of the same
// tables). Under load, the queue itself becomes the latency.
//
// The committer runs queued transactions back to back inside one real
// transaction, each in its own SAVEPOINT: an operation that fails is
// rolled back to its savepoint alone, the others stay, and one COMMIT
// makes them all durable together (so each caller is answered only after
// that COMMIT). The result for every caller is the same as running the
// operations one after another in arrival order; what is saved is the
// per-transaction overhead and the repeated page writes. With no
// concurrency a group holds one operation, so nothing waits for a group to
// fill.
//
// PostgreSQL runs transactions concurrently and needs none of this.

// maxGroup bounds the operations in one group, which bounds how long the
// first of them waits for the COMMIT (about 40 µs an operation). Large
// groups matter under load: with thousands of goroutines runnable, the
// committer waits its turn for a core after every commit, so the more it
// does per turn the better (at 10,000 simulated threads, p99 fell from
// 1.2–2.8 s with 64 to 0.1–1.7 s with 1,024; 4,096 was no better).
const maxGroup = 1024

// errStoreClosed answers operations submitted after Close.
var errStoreClosed = errors.New("store: closed")

type groupOp struct {
	ctx  context.Context
	fn   func(db) error
	done chan error
	// alloc is the allocation an allocation-lane operation asks for
	// (allocgroup.go); fn does the same alone.
	alloc *allocReq
	// sector, when set, is the sector whose row a PostgreSQL worker call
	// locks first; its group locks it up front (pgbatch.go).
	sector *SectorID
	// pieces is set when the call takes pieces from the queue of its
	// sector's tenant; its group locks the queue's head up front.
	pieces bool
}

type committer struct {
	s    *Store
	ops  chan *groupOp
	stop chan struct{}
	done chan struct{}
	// runGroup runs one group and answers every operation in it; a group
	// holds at most max operations.
	runGroup func(*Store, []*groupOp)
	max      int
}

// newCommitter starts SQLite's committer.
func newCommitter(s *Store) *committer {
	return newLane(s, maxGroup, func(s *Store, group []*groupOp) { s.group.commit(group) })
}

// newLane starts a committer that runs groups of up to max operations with
// runGroup.
func newLane(s *Store, max int, runGroup func(*Store, []*groupOp)) *committer {
	c := &committer{s: s, ops: make(chan *groupOp), stop: make(chan struct{}), done: make(chan struct{}), runGroup: runGroup, max: max}
	go c.loop()
	return c
}

// run submits fn and waits for its outcome. Once the committer has taken
// the operation it always answers, even if ctx ends meanwhile (the caller
// must know whether it was committed).
func (c *committer) run(ctx context.Context, fn func(db) error) error {
	return c.submit(&groupOp{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

// submit is run for a prepared operation.
func (c *committer) submit(op *groupOp) error {
	ctx := op.ctx
	select {
	case c.ops <- op:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.stop:
		return errStoreClosed
	}
	return <-op.done
}

func (c *committer) close() {
	close(c.stop)
	<-c.done
}

func (c *committer) loop() {
	defer close(c.done)
	group := make([]*groupOp, 0, c.max)
	for {
		select {
		case op := <-c.ops:
			group = append(group[:0], op)
		case <-c.stop:
			return
		}
		// Take whatever else is already waiting, without waiting for more.
	fill:
		for len(group) < c.max {
			select {
			case op := <-c.ops:
				group = append(group, op)
			default:
				break fill
			}
		}
		c.runGroup(c.s, group)
	}
}

// commit runs one group and answers every operation in it.
func (c *committer) commit(group []*groupOp) {
	s := c.s
	results := make([]error, len(group))
	answer := func(common error) {
		for i, op := range group {
			if results[i] == nil {
				results[i] = common
			}
			op.done <- results[i]
		}
	}
	// The transaction belongs to no single caller: one caller going away
	// must not roll back the others' work.
	bg := context.Background()
	t, err := s.w.BeginTx(bg, nil)
	if err != nil {
		answer(fmt.Errorf("store: begin: %w", err))
		return
	}
	defer s.wStmts.prepareMissed(bg)
	d := db{s: s, q: t, tx: t, stmts: s.wStmts}
	for i, op := range group {
		if err := op.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		// Through d (the statement cache): these three run once per
		// operation, and parsing them each time showed in profiles.
		if _, err := d.exec(bg, "SAVEPOINT op"); err != nil {
			_ = t.Rollback()
			answer(fmt.Errorf("store: savepoint: %w", err))
			return
		}
		if err := runOp(op.fn, d); err != nil {
			results[i] = err
			if _, rerr := d.exec(bg, "ROLLBACK TO op"); rerr != nil {
				_ = t.Rollback()
				answer(fmt.Errorf("store: roll back to savepoint: %w", rerr))
				return
			}
		}
		if _, err := d.exec(bg, "RELEASE op"); err != nil {
			_ = t.Rollback()
			answer(fmt.Errorf("store: release savepoint: %w", err))
			return
		}
	}
	if err := t.Commit(); err != nil {
		answer(fmt.Errorf("store: commit: %w", err))
		return
	}
	s.commits.Add(1)
	answer(nil)
}

// runOp runs fn, turning a panic into an error for that operation alone: it
// runs on the committer's goroutine, where a panic would otherwise end the
// process instead of failing one call (as it did when each caller ran its
// own transaction, under the RPC server's recovery).
func runOp(fn func(db) error, d db) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: panic in transaction: %v", r)
		}
	}()
	return fn(d)
}
