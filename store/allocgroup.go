package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sealant/sealant/proofs/abi"
)

// Allocation groups on PostgreSQL.
//
// One allocation (see AllocateSector) is a dozen statements, and each is a
// round trip to the server; allocations run one at a time (they lock the
// eligible tenants), so at thousands of threads starting together the
// round trips, not the database, bound the rate. The allocation lane
// (pggroup.go) therefore decides a whole group in one transaction with a
// fixed number of statements: it reads the group's workers' active sectors
// and the tenants with their counts once, decides every allocation in
// order in memory with the same rules, and writes the new sectors, usage
// rows, history lines and counters with one statement per table (per
// tenant for the counters). The outcome is the one of the same
// allocations run one after another, with one approximation: the rolling
// windows are those of the group's first allocation (a group spans
// milliseconds; the windows are a day or more).

// allocReq is one allocation waiting in the lane.
type allocReq struct {
	workerID string
	f        AllocateFilter
	now      time.Time
	p        AllocatePolicy
	out      Allocation
}

// runAllocGroup runs the allocation lane's group.
func runAllocGroup(s *Store, group []*groupOp) {
	live := answerCancelled(group)
	switch len(live) {
	case 0:
		return
	case 1:
		// Alone, an allocation locks only the tenants its filter allows
		// and its miner's counter; a group locks every tenant's, which
		// would make lone allocations of different managers wait for
		// each other.
		live[0].done <- s.tx(live[0].ctx, live[0].fn)
		return
	}
	runGroupTx(s, live, groupLocks{}, func(d db) ([]error, bool) {
		reqs := make([]*allocReq, len(live))
		for i, op := range live {
			reqs[i] = op.alloc
		}
		errs, err := d.allocateGroup(context.Background(), reqs)
		if err != nil {
			return nil, false
		}
		return errs, true
	})
}

// allocateGroup allocates for reqs in order, in the transaction d; errs[i]
// is ErrNoWork or nil (then reqs[i].out is set). err is a database error:
// the transaction is then unusable.
func (d db) allocateGroup(ctx context.Context, reqs []*allocReq) (errs []error, err error) {
	errs = make([]error, len(reqs))
	first := reqs[0]
	p := first.p.withDefaults()

	// 1. The workers' active sectors, for re-offers.
	workers := map[string][]Sector{}
	var ids []string
	for _, r := range reqs {
		if _, ok := workers[r.workerID]; !ok {
			workers[r.workerID] = nil
			ids = append(ids, r.workerID)
		}
	}
	// Locked in key order, as the sector lanes lock theirs; re-offered
	// oldest first.
	mine, err := d.activeSectorsOf(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("store: allocate sectors: %w", err)
	}
	slices.SortStableFunc(mine, func(a, b Sector) int { return a.AllocatedAt.Compare(b.AllocatedAt) })
	for _, sec := range mine {
		workers[sec.WorkerID] = append(workers[sec.WorkerID], sec)
	}

	// 2. Every tenant not paused, with its counts (loaded on first need).
	var cands []*candidate
	loaded := false
	load := func() error {
		loaded = true
		rows, err := d.query(ctx, `SELECT id, miner_id, proof_type, sector_size, weight, quota_per_day, quota_concurrent
			FROM tenants WHERE paused = ? ORDER BY id`+d.forNoKeyUpdate(), false)
		if err != nil {
			return err
		}
		for rows.Next() {
			c := new(candidate)
			if err := rows.Scan(&c.id, &c.miner, &c.proofType, &c.size, &c.weight, &c.qDay, &c.qConc); err != nil {
				rows.Close()
				return err
			}
			cands = append(cands, c)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		nowMS := ms(first.now)
		windowFrom, dayFrom := nowMS-p.FairShareWindow.Milliseconds(), nowMS-int64(24*time.Hour/time.Millisecond)
		return d.allocationCounts(ctx, cands, windowFrom, dayFrom)
	}

	// 3. Decide in order.
	type fresh struct {
		r   *allocReq
		row *Sector
	}
	var news []fresh
	rowOf := map[SectorID]*Sector{} // sectors allocated in this group, as they will be inserted
	var historyArgs []any           // history lines of the group's new sectors, in order
	next := map[int64]int64{}       // miner → next number
	for i, r := range reqs {
		nowMS, lease := ms(r.now), ms(r.now.Add(r.p.withDefaults().LeaseTTL))
		if j := slices.IndexFunc(workers[r.workerID], r.f.matches); j >= 0 {
			sec := workers[r.workerID][j]
			if row := rowOf[sec.ID]; row != nil {
				// Allocated earlier in this group: not in the table yet, so
				// the row to insert takes the renewed lease.
				row.LeaseExpires, row.UpdatedAt = fromMS(lease), fromMS(nowMS)
				historyArgs = append(historyArgs, int64(sec.ID.Miner), int64(sec.ID.Number), nowMS, r.workerID, sec.State, sec.State, eventReoffered, "", "")
				r.out = Allocation{Sector: *row, Reoffered: true}
				continue
			}
			if err := d.later(ctx, &sec.ID, `UPDATE sectors SET lease_expires_ms = ?, updated_ms = ? WHERE miner_id = ? AND number = ?`,
				lease, nowMS, int64(sec.ID.Miner), int64(sec.ID.Number)); err != nil {
				return nil, fmt.Errorf("store: re-offer sector %s: %w", sec.ID, err)
			}
			if err := d.appendHistory(ctx, sec.ID, nowMS, r.workerID, sec.State, sec.State, eventReoffered, nil); err != nil {
				return nil, err
			}
			sec.LeaseExpires, sec.UpdatedAt = fromMS(lease), fromMS(nowMS)
			r.out = Allocation{Sector: sec, Reoffered: true}
			continue
		}
		if !loaded {
			if err := load(); err != nil {
				return nil, fmt.Errorf("store: allocate sectors: load tenants: %w", err)
			}
		}
		var pick *candidate
		for _, c := range cands {
			if !r.f.allows(c) || c.qDay > 0 && c.dayCount >= c.qDay || c.qConc > 0 && c.active >= c.qConc {
				continue
			}
			if pick == nil || (c.windowCount+1)*pick.weight < (pick.windowCount+1)*c.weight {
				pick = c
			}
		}
		if pick == nil {
			errs[i] = ErrNoWork
			continue
		}
		if len(next) == 0 {
			if err := d.lockCounters(ctx, cands, next); err != nil {
				return nil, err
			}
		}
		num := next[pick.miner]
		next[pick.miner] = num + 1
		pick.windowCount++
		pick.dayCount++
		pick.active++
		sec := Sector{
			ID: SectorID{uint64(pick.miner), uint64(num)}, TenantID: pick.id, ProofType: abi.RegisteredSealProof(pick.proofType),
			SectorSize: uint64(pick.size), Phase: PhaseActive, WorkerID: r.workerID, LeaseExpires: fromMS(lease),
			AllocatedAt: fromMS(nowMS),
		}
		sec.UpdatedAt = sec.AllocatedAt
		r.out = Allocation{Sector: sec}
		workers[r.workerID] = append(workers[r.workerID], sec)
		row := sec
		rowOf[sec.ID] = &row
		historyArgs = append(historyArgs, int64(sec.ID.Miner), int64(sec.ID.Number), nowMS, r.workerID, "", "", eventAllocated, "", "")
		news = append(news, fresh{r, &row})
	}
	if len(news) == 0 {
		return errs, nil
	}

	// 4. Write: counters, sectors, allocation sequence, usage, history;
	// none is read back, so in one round trip (pgbatch.go).
	// next holds every candidate's miner (lockCounters); only those that
	// numbered a sector here changed.
	for miner, n := range next {
		if !slices.ContainsFunc(news, func(f fresh) bool { return f.row.ID.Miner == uint64(miner) }) {
			continue
		}
		if err := d.later(ctx, nil, `UPDATE sector_counters SET next_number = ? WHERE miner_id = ?`, n, miner); err != nil {
			return nil, fmt.Errorf("store: allocate sector: next number for miner %d: %w", miner, err)
		}
	}
	var sectorArgs []any
	perTenant := map[string]int64{}
	var tenantOrder []string
	for _, n := range news {
		sec := *n.row
		sectorArgs = append(sectorArgs, int64(sec.ID.Miner), int64(sec.ID.Number), sec.TenantID, int64(sec.ProofType), int64(sec.SectorSize),
			sec.WorkerID, ms(sec.LeaseExpires), ms(sec.AllocatedAt), ms(sec.UpdatedAt))
		if perTenant[sec.TenantID] == 0 {
			tenantOrder = append(tenantOrder, sec.TenantID)
		}
		perTenant[sec.TenantID]++
	}
	// A number already used (a sector row inserted outside the counter)
	// fails the group; its allocations then run alone, and the one given
	// that number is refused (ErrConflict).
	if err := d.insertLater(ctx, `sectors (miner_id, number, tenant_id, proof_type, sector_size,
		worker_id, lease_expires_ms, allocated_ms, updated_ms)`, "bigint bigint text bigint bigint text bigint bigint bigint", "", sectorArgs); err != nil {
		return nil, fmt.Errorf("store: allocate sectors: %w", err)
	}
	// The totals were read under the tenants' locks (load), which every
	// allocation takes first, so they still hold.
	seq := map[string]int64{} // tenant → sequence number of its next allocation
	for _, t := range tenantOrder {
		c := cands[slices.IndexFunc(cands, func(c *candidate) bool { return c.id == t })]
		if err := d.later(ctx, nil, `INSERT INTO allocation_counters (tenant_id, total) VALUES (?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET total = allocation_counters.total + excluded.total`, t, perTenant[t]); err != nil {
			return nil, fmt.Errorf("store: allocate sectors: allocation counter of %q: %w", t, err)
		}
		seq[t] = c.total + 1
	}
	var usageArgs []any
	for _, n := range news {
		sec := *n.row
		usageArgs = append(usageArgs, sec.TenantID, int64(sec.ID.Miner), int64(sec.ID.Number), "allocated", int64(0), sec.WorkerID, int64(sec.SectorSize), ms(sec.AllocatedAt), seq[sec.TenantID])
		seq[sec.TenantID]++
	}
	if err := d.insertLater(ctx, `usage_events (tenant_id, miner_id, number, stage, attempt, worker_id, bytes, at_ms, alloc_seq)`,
		"text bigint bigint text bigint text bigint bigint bigint", "", usageArgs); err != nil {
		return nil, fmt.Errorf("store: allocate sectors: usage: %w", err)
	}
	if err := d.insertLater(ctx, `sector_history (miner_id, number, at_ms, worker_id, prev_state, next_state,
		event, failure_level, failure_desc)`, "bigint bigint bigint text text text text text text", "", historyArgs); err != nil {
		return nil, fmt.Errorf("store: allocate sectors: history: %w", err)
	}
	return errs, nil
}

// lockCounters locks the sector counters of the candidates' miners
// (creating missing ones) and puts their next numbers in next.
func (d db) lockCounters(ctx context.Context, cands []*candidate, next map[int64]int64) error {
	var miners []any
	for _, c := range cands {
		if !slices.Contains(miners, any(c.miner)) {
			miners = append(miners, c.miner)
		}
	}
	zeros := make([]any, 0, 2*len(miners))
	for _, m := range miners {
		zeros = append(zeros, m, int64(0))
	}
	if err := d.insertLater(ctx, `sector_counters (miner_id, next_number)`, "bigint bigint", ` ON CONFLICT (miner_id) DO NOTHING`, zeros); err != nil {
		return fmt.Errorf("store: allocate sectors: counters: %w", err)
	}
	rows, err := d.query(ctx, `SELECT miner_id, next_number FROM sector_counters WHERE miner_id IN (`+placeholders(len(miners))+`)
		ORDER BY miner_id`+d.forUpdate(), miners...)
	if err != nil {
		return fmt.Errorf("store: allocate sectors: counters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var miner, n int64
		if err := rows.Scan(&miner, &n); err != nil {
			return fmt.Errorf("store: allocate sectors: counters: %w", err)
		}
		next[miner] = n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: allocate sectors: counters: %w", err)
	}
	return nil
}

// allows reports whether a tenant passes the filter.
func (f AllocateFilter) allows(c *candidate) bool {
	return (len(f.Tenants) == 0 || slices.Contains(f.Tenants, c.id)) &&
		(len(f.Miners) == 0 || slices.Contains(f.Miners, uint64(c.miner))) &&
		!slices.Contains(f.ExcludeMiners, uint64(c.miner)) &&
		(len(f.ProofTypes) == 0 || slices.Contains(f.ProofTypes, abi.RegisteredSealProof(c.proofType)))
}

// activeSectorsOf reads, and locks in key order, the active sectors the
// workers hold.
//
// On PostgreSQL it first finds their keys with one probe of the worker
// index per worker, planned for each run (pgx's unnamed statement), and
// then locks those rows by key, keeping those still active and still the
// same worker's. Why: with a list of workers in the WHERE clause the
// planner scanned every active sector by phase whenever the table had no
// statistics yet (a new database filling faster than autovacuum analyzes
// it): 15 ms a group at 10,000 active sectors, in a lane that runs one
// group at a time. A cached generic plan, made while the table was nearly
// empty, kept doing so after statistics came. The probes cost 0.2 ms to
// plan and to run for 64 workers; the lock is a second statement only
// when some worker holds a sector (a re-offer, after a restart).
func (d db) activeSectorsOf(ctx context.Context, workers []string) ([]Sector, error) {
	if d.s.dialect != dialectPostgres {
		args := make([]any, len(workers))
		for i, w := range workers {
			args[i] = w
		}
		return d.listSectors(ctx, `SELECT `+sectorCols+` FROM sectors WHERE phase = 'active' AND worker_id IN (`+placeholders(len(workers))+`)
			ORDER BY miner_id, number`, args...)
	}
	rows, err := d.query(ctx, `SELECT s.miner_id, s.number FROM unnest(?::text[]) AS w(id)
		CROSS JOIN LATERAL (SELECT miner_id, number FROM sectors WHERE worker_id = w.id AND phase = 'active' OFFSET 0) AS s`,
		pgx.QueryExecModeCacheDescribe, workers)
	if err != nil {
		return nil, err
	}
	var ids []SectorID
	for rows.Next() {
		var miner, number int64
		if err := rows.Scan(&miner, &number); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, SectorID{Miner: uint64(miner), Number: uint64(number)})
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return nil, err
	}
	ids = inKeyOrder(ids)
	locked, err := d.getSectors(ctx, ids, true)
	if err != nil {
		return nil, err
	}
	mine := make([]Sector, 0, len(locked))
	for _, id := range ids {
		// Read again under the lock: it may have been finalized, or
		// aborted, since the probe.
		if sec, ok := locked[id]; ok && sec.Phase == PhaseActive && slices.Contains(workers, sec.WorkerID) {
			mine = append(mine, sec)
		}
	}
	return mine, nil
}

// insertLater keeps an INSERT of rows into into ("table (columns)"):
// args holds the rows one after another, each with one value per type in
// types (space-separated PostgreSQL types, "bigint" or "text"); suffix
// follows the rows (an ON CONFLICT clause). On PostgreSQL the rows are
// one array per column through unnest, so the statement has one shape
// whatever the number of rows: pgx prepares a statement per shape and
// connection, at the cost of a round trip of its own, and a group inserts
// from 1 to 64 rows. Elsewhere it is a VALUES list.
func (d db) insertLater(ctx context.Context, into, types, suffix string, args []any) error {
	kinds := strings.Fields(types)
	if d.s.dialect != dialectPostgres {
		row := "(" + placeholders(len(kinds)) + ")"
		rows := rowList(row, len(args)/len(kinds))
		return d.later(ctx, nil, `INSERT INTO `+into+` VALUES `+rows+suffix, args...)
	}
	cols := make([]any, len(kinds))
	casts := make([]string, len(kinds))
	for c, kind := range kinds {
		casts[c] = "?::" + kind + "[]"
		var err error
		switch kind {
		case "bigint":
			cols[c], err = column[int64](args, c, len(kinds))
		case "text":
			cols[c], err = column[string](args, c, len(kinds))
		default:
			err = fmt.Errorf("no array for column type %q", kind)
		}
		if err != nil {
			return fmt.Errorf("store: insert into %s: column %d: %w", into, c+1, err)
		}
	}
	return d.later(ctx, nil, `INSERT INTO `+into+` SELECT * FROM unnest(`+strings.Join(casts, ", ")+`)`+suffix, cols...)
}

// column is the c-th of every width values of rows, as a slice of T.
func column[T any](rows []any, c, width int) ([]T, error) {
	out := make([]T, 0, len(rows)/width)
	for i := c; i < len(rows); i += width {
		v, ok := rows[i].(T)
		if !ok {
			return nil, fmt.Errorf("value %d is %T, not %T", i/width+1, rows[i], v)
		}
		out = append(out, v)
	}
	return out, nil
}
