package store

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Grouped sector reads.
//
// Thousands of polling worker threads each read their own sector now and
// then (the manager caches the answer for a few seconds). On PostgreSQL
// each read is a round trip and a transaction of its own on the server,
// and at 10,000 threads those reads were most of the database's work. So
// GetSector calls made while another one's query is running wait for it,
// and are answered together by the next query, one statement for all of
// them (at most maxSectorRead ids). Nothing waits when nothing else
// reads, and a query always starts after the calls it answers arrived, so
// a caller still reads its own writes. The caller whose query just ended
// hands the turn to the first waiter, so no goroutine is needed.

// maxSectorRead bounds the sectors one grouped read asks for.
const maxSectorRead = 256

// sectorReadTimeout bounds a grouped read: it answers other callers too,
// so it does not end with the context of the caller that runs it.
const sectorReadTimeout = 30 * time.Second

type sectorReads struct {
	mu    sync.Mutex
	busy  bool
	queue []*sectorRead
	// queries counts the queries run (tests check that reads group).
	queries atomic.Int64
}

type sectorRead struct {
	id   SectorID
	done chan struct{}
	sec  Sector
	err  error
	lead bool // woken to run the next query, not answered
}

// GetSector returns one sector, or ErrNotFound.
func (s *Store) GetSector(ctx context.Context, id SectorID) (Sector, error) {
	if !s.groupReads {
		return s.reader().getSector(ctx, id, false)
	}
	g := &s.sreads
	me := &sectorRead{id: id, done: make(chan struct{})}
	g.mu.Lock()
	if g.busy {
		g.queue = append(g.queue, me)
		g.mu.Unlock()
		if err := g.wait(ctx, me); err != nil {
			return Sector{}, err
		}
		if !me.lead {
			return me.sec, me.err
		}
		g.mu.Lock()
	}
	g.busy = true
	n := min(len(g.queue), maxSectorRead-1)
	group := append([]*sectorRead{me}, g.queue[:n]...)
	g.queue = g.queue[n:]
	g.mu.Unlock()
	// Whatever happens to this query, the next one must run and every
	// caller it took must be answered.
	defer g.handOff(group)

	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sectorReadTimeout)
	defer cancel()
	s.readSectors(qctx, group)
	return me.sec, me.err
}

// wait waits for a queued read to be answered or to be handed the next
// query. A caller that goes away while still queued leaves the queue; one
// already taken by a query, or handed the turn, stays to the end (a
// query is bounded by sectorReadTimeout), so the turn is never lost.
func (g *sectorReads) wait(ctx context.Context, me *sectorRead) error {
	select {
	case <-me.done:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	for i, r := range g.queue {
		if r == me {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			g.mu.Unlock()
			return ctx.Err()
		}
	}
	g.mu.Unlock()
	<-me.done
	return nil
}

// handOff answers a query's callers and gives the turn to the first
// waiter, or ends the turn.
func (g *sectorReads) handOff(group []*sectorRead) {
	g.mu.Lock()
	if len(g.queue) > 0 {
		next := g.queue[0]
		g.queue = g.queue[1:]
		next.lead = true
		close(next.done)
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	for _, r := range group[1:] {
		if r.err == nil && r.sec.ID != r.id {
			r.err = fmt.Errorf("store: sector %s: read not answered", r.id)
		}
		close(r.done)
	}
}

// GetSectors reads several sectors at once, in statements of at most
// maxSectorRead ids; a sector that does not exist is absent from the
// answer. It is for readers that gather ids themselves (the manager's
// poll cache refreshes its entries this way); GetSector groups callers
// that each want one.
func (s *Store) GetSectors(ctx context.Context, ids []SectorID) (map[SectorID]Sector, error) {
	ids = inKeyOrder(ids)
	var out map[SectorID]Sector
	for chunk := range slices.Chunk(ids, maxSectorRead) {
		s.sreads.queries.Add(1)
		got, err := s.reader().getSectors(ctx, chunk, false)
		if err != nil {
			return nil, fmt.Errorf("store: get %d sectors: %w", len(chunk), err)
		}
		if out == nil {
			out = got // the usual case, one read: its map as it is
		} else {
			maps.Copy(out, got)
		}
	}
	if out == nil {
		out = map[SectorID]Sector{}
	}
	return out, nil
}

// readSectors answers a group of reads with one query.
func (s *Store) readSectors(ctx context.Context, group []*sectorRead) {
	s.sreads.queries.Add(1)
	if len(group) == 1 {
		group[0].sec, group[0].err = s.reader().getSector(ctx, group[0].id, false)
		return
	}
	ids := make([]SectorID, len(group))
	for i, r := range group {
		ids[i] = r.id
	}
	got, err := s.reader().getSectors(ctx, inKeyOrder(ids), false)
	for _, r := range group {
		switch sec, ok := got[r.id]; {
		case err != nil:
			r.err = fmt.Errorf("store: get sector %s: %w", r.id, err)
		case !ok:
			r.err = fmt.Errorf("store: sector %s: %w", r.id, ErrNotFound)
		default:
			r.sec = sec
		}
	}
}

// getSectors reads several sectors in one statement, with lock locking
// their rows in key order (FOR UPDATE; ids sorted and without repeats,
// beginGroup).
func (d db) getSectors(ctx context.Context, ids []SectorID, lock bool) (map[SectorID]Sector, error) {
	q, args := d.sectorsQuery(ids, lock)
	rows, err := d.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanSectors(rows, len(ids))
}

// sectorsQuery is getSectors' statement and arguments.
//
// The ids are padded to a power of two (keyBucket) with a key no sector
// has, so that a few statement shapes serve every count, each prepared
// once per connection.
//
// On PostgreSQL the ids are a VALUES list, each probed by primary key in
// a LATERAL subquery (OFFSET 0 keeps the planner from turning it into a
// join). Its plan is the same whatever the table's size or statistics,
// and as the list's length is part of the statement, the generic plan is
// costed exactly like a custom one and PostgreSQL keeps it: no planning
// per call. Why not the alternatives, measured on PostgreSQL 15 at 10,000
// sectors: a list of row values in the WHERE clause is planned as one OR
// branch per id (2–3 ms to plan and 4–7 ms to run for 64 ids); a plain
// join with arrays was cached as a hash join over the whole table when
// first planned on a nearly empty one; unnest of arrays, whose length a
// generic plan cannot know (it assumes 100), was planned again on every
// call, 0.23 ms each, a tenth of PostgreSQL's time while 10,000 threads
// started (pg_stat_statements).
func (d db) sectorsQuery(ids []SectorID, lock bool) (string, []any) {
	if lock {
		// Locks are taken in the list's order (on PostgreSQL, probe by
		// probe: FOR UPDATE OF a subquery is pushed into it): key order,
		// as every transaction locks sector rows.
		ids = inKeyOrder(ids)
	}
	flat := make([]int64, 0, 2*len(ids))
	for _, id := range ids {
		flat = append(flat, int64(id.Miner), int64(id.Number))
	}
	args, n := padKeys(flat, 2)
	shape := sectorsSQL[lockShape(lock)]
	if d.s.dialect == dialectPostgres {
		shape = pgSectorsSQL[lockShape(lock)]
	}
	return shape.get(n), args
}

// lockShape indexes the locking variant of a statement.
func lockShape(lock bool) int {
	if lock {
		return 1
	}
	return 0
}

// The statements of sectorsQuery per dialect, without and with locks.
var (
	pgSectorsSQL = [2]*sizedSQL{newSizedSQL(func(n int) string { return pgSectorsStatement(n, "") }),
		newSizedSQL(func(n int) string { return pgSectorsStatement(n, ` FOR UPDATE OF s`) })}
	sectorsSQL = [2]*sizedSQL{newSizedSQL(func(n int) string { return sqliteSectorsStatement(n, "") }),
		// SQLite takes no row locks (its transactions are serial); the
		// order is that of the locking statement on PostgreSQL.
		newSizedSQL(func(n int) string { return sqliteSectorsStatement(n, ` ORDER BY miner_id, number`) })}
)

func pgSectorsStatement(n int, suffix string) string {
	return `SELECT s.* FROM (VALUES ` + rowList("(?::bigint, ?::bigint)", n) + `) AS k(miner_id, number)
			CROSS JOIN LATERAL (SELECT ` + sectorCols + ` FROM sectors WHERE miner_id = k.miner_id AND number = k.number OFFSET 0) AS s` + suffix
}

func sqliteSectorsStatement(n int, suffix string) string {
	return `SELECT ` + sectorCols + ` FROM sectors WHERE (miner_id, number) IN (` + rowList("(?, ?)", n) + `)` + suffix
}

// sizedSQL keeps the statements built for each number of keys: the
// numbers are few (keyBucket's powers of two) and the calls many, so the
// text, up to hundreds of rows of placeholders, is built once per size
// instead of on every call.
type sizedSQL struct {
	build func(n int) string
	mu    sync.Mutex
	byN   map[int]string
}

func newSizedSQL(build func(n int) string) *sizedSQL {
	return &sizedSQL{build: build, byN: map[int]string{}}
}

func (c *sizedSQL) get(n int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.byN[n]
	if !ok {
		q = c.build(n)
		c.byN[n] = q
	}
	return q
}

// noKey pads lists of keys (sector or miner ids) to their statement's
// size: no actor or sector number is negative, so it matches nothing.
const noKey = int64(-1)

// rowList is n copies of row, separated by commas.
func rowList(row string, n int) string {
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// padKeys turns keys, width numbers each, into a statement's arguments:
// padded with noKey to keyBucket of them; n is that number.
func padKeys(flat []int64, width int) (args []any, n int) {
	n = keyBucket(len(flat) / width)
	args = make([]any, n*width)
	for i := range args {
		args[i] = noKey
		if i < len(flat) {
			args[i] = flat[i]
		}
	}
	return args, n
}

// keyBucket is the number of keys a statement for n keys takes: the next
// power of two.
func keyBucket(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}

// inKeyOrder returns ids sorted by key (miner, then number) without
// repeats, in a new slice: the order in which transactions lock sector
// rows, so that two cannot deadlock.
func inKeyOrder(ids []SectorID) []SectorID {
	sorted := slices.Clone(ids)
	slices.SortFunc(sorted, func(a, b SectorID) int {
		return cmp.Or(cmp.Compare(a.Miner, b.Miner), cmp.Compare(a.Number, b.Number))
	})
	return slices.Compact(sorted)
}

// sectorRows is what database/sql's and pgx's rows have in common.
type sectorRows interface {
	Next() bool
	Scan(...any) error
	Err() error
}

// scanSectors reads rows of sectorCols by id.
func scanSectors(rows sectorRows, n int) (map[SectorID]Sector, error) {
	out := make(map[SectorID]Sector, n)
	for rows.Next() {
		sec, err := scanSector(rows)
		if err != nil {
			return nil, err
		}
		out[sec.ID] = sec
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
