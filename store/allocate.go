package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sealant/sealant/proofs/abi"
)

// AllocateFilter restricts which sectors a worker can take; empty slices
// match everything.
type AllocateFilter struct {
	Tenants    []string                  `json:"tenants,omitempty"`
	Miners     []uint64                  `json:"miners,omitempty"`
	ProofTypes []abi.RegisteredSealProof `json:"proof_types,omitempty"`
	// ExcludeMiners are never allocated for (the manager's miners not
	// confirmed on chain).
	ExcludeMiners []uint64 `json:"exclude_miners,omitempty"`
}

// AllocatePolicy carries the manager's allocation settings.
type AllocatePolicy struct {
	// LeaseTTL is how long a lease lasts without a renewal (default 10 min).
	LeaseTTL time.Duration
	// FairShareWindow is the rolling window over which allocations are
	// counted for fair share (default 24 h). Quota.SectorsPerDay always
	// uses a 24 h window.
	FairShareWindow time.Duration
}

func (p AllocatePolicy) withDefaults() AllocatePolicy {
	if p.LeaseTTL <= 0 {
		p.LeaseTTL = 10 * time.Minute
	}
	if p.FairShareWindow <= 0 {
		p.FairShareWindow = 24 * time.Hour
	}
	return p
}

// Allocation is AllocateSector's answer.
type Allocation struct {
	Sector Sector `json:"sector"`
	// Reoffered is true when the sector was already held by this worker
	// identity (it restarted); the worker should resume it, not start
	// over.
	Reoffered bool `json:"reoffered"`
}

// eventAllocated etc. are the history events the store itself writes.
const (
	eventAllocated = "store:allocated"
	eventReoffered = "store:reoffered"
	eventFinalized = "store:finalized"
	eventAborted   = "store:aborted"
)

// AllocateSector gives workerID (the identity of one sealing slot) a
// sector, atomically:
//
//  1. Re-offer. If workerID already holds an active sector matching the
//     filter (its lease may have expired: the worker restarted), that
//     sector is returned again with a renewed lease and Reoffered set. A
//     sector is never handed to a different worker identity, so no sector
//     is sealed twice.
//  2. Otherwise pick a tenant by weighted fair share. Eligible tenants
//     match the filter, are not paused, have fewer than
//     Quota.SectorsPerDay allocations in the last 24 h and fewer than
//     Quota.Concurrent active sectors (0 = unlimited). Among them the
//     tenant with the smallest (a+1)/weight wins, where a is its number of
//     allocations in the last FairShareWindow; ties go to the smallest
//     tenant id. Over many allocations each tenant's share converges to
//     weight/Σweight of the eligible set, and the rule is deterministic,
//     so it can be replayed and tested exactly.
//  3. Take the miner's next sector number from its counter row (monotonic,
//     never reused, floor settable by BumpSectorNumberFloor), insert the
//     sector with a lease of policy.LeaseTTL, and record an 'allocated'
//     usage row and a history entry.
//
// Concurrency: on SQLite the transaction is BEGIN IMMEDIATE, so all
// allocations in all processes on the file are serialized. On PostgreSQL it
// locks the eligible tenant rows (SELECT … FOR UPDATE, in id order so two
// allocations cannot deadlock) before counting, so two managers with
// overlapping filters serialize and see each other's allocations; the
// counter row UPDATE and the (miner, number) primary key make duplicate
// numbers impossible even if that reasoning were wrong. Nothing to do is
// ErrNoWork.
func (s *Store) AllocateSector(ctx context.Context, workerID string, f AllocateFilter, now time.Time, p AllocatePolicy) (Allocation, error) {
	if workerID == "" {
		return Allocation{}, fmt.Errorf("store: allocate sector: empty worker id: %w", ErrInvalid)
	}
	p = p.withDefaults()
	// PostgreSQL: allocations lock the eligible tenants' rows, so they run
	// one at a time anyway; they have a lane of their own (pggroup.go),
	// where a waiting allocation holds no pool connection and a burst of
	// them shares one commit.
	req := &allocReq{workerID: workerID, f: f, now: now, p: p}
	err := s.allocTx(ctx, func(d db) error {
		a, err := d.allocate(ctx, workerID, f, now, p)
		req.out = a
		return err
	}, req)
	if err != nil {
		return Allocation{}, err
	}
	return req.out, nil
}

// filterSQL renders f as AND clauses over columns prefixed by col (tenant
// columns: id, miner_id, proof_type).
func filterSQL(f AllocateFilter, tenantCol, minerCol, proofCol string) (string, []any) {
	var b strings.Builder
	var args []any
	if len(f.Tenants) > 0 {
		b.WriteString(" AND " + tenantCol + " IN (" + placeholders(len(f.Tenants)) + ")")
		for _, t := range f.Tenants {
			args = append(args, t)
		}
	}
	if len(f.Miners) > 0 {
		b.WriteString(" AND " + minerCol + " IN (" + placeholders(len(f.Miners)) + ")")
		for _, m := range f.Miners {
			args = append(args, int64(m))
		}
	}
	if len(f.ExcludeMiners) > 0 {
		b.WriteString(" AND " + minerCol + " NOT IN (" + placeholders(len(f.ExcludeMiners)) + ")")
		for _, m := range f.ExcludeMiners {
			args = append(args, int64(m))
		}
	}
	if len(f.ProofTypes) > 0 {
		b.WriteString(" AND " + proofCol + " IN (" + placeholders(len(f.ProofTypes)) + ")")
		for _, pt := range f.ProofTypes {
			args = append(args, int64(pt))
		}
	}
	return b.String(), args
}

type candidate struct {
	id                     string
	miner, proofType, size int64
	weight, qDay, qConc    int64
	windowCount, dayCount  int64
	// total is the tenant's allocations ever (its allocation counter).
	total  int64
	active int64
}

func (d db) allocate(ctx context.Context, workerID string, f AllocateFilter, now time.Time, p AllocatePolicy) (Allocation, error) {
	nowMS := ms(now)
	lease := ms(now.Add(p.LeaseTTL))

	// 1. Re-offer to the same worker identity. The filter is applied here,
	// not in SQL: a worker identity holds one sector or a few, which the
	// (worker_id, phase) index finds directly, while a tenant IN list in
	// the WHERE clause led SQLite to scan every active sector of those
	// tenants instead.
	// Locked in key order, as every transaction locks sector rows;
	// offered oldest first.
	mine, err := d.listSectors(ctx, `SELECT `+sectorCols+` FROM sectors
		WHERE worker_id = ? AND phase = 'active' ORDER BY miner_id, number`+d.forUpdate(), workerID)
	if err != nil {
		return Allocation{}, fmt.Errorf("store: allocate sector for %q: %w", workerID, err)
	}
	slices.SortStableFunc(mine, func(a, b Sector) int { return a.AllocatedAt.Compare(b.AllocatedAt) })
	if i := slices.IndexFunc(mine, f.matches); i >= 0 {
		sec := mine[i]
		if _, err := d.exec(ctx, `UPDATE sectors SET lease_expires_ms = ?, updated_ms = ? WHERE miner_id = ? AND number = ?`,
			lease, nowMS, int64(sec.ID.Miner), int64(sec.ID.Number)); err != nil {
			return Allocation{}, fmt.Errorf("store: re-offer sector %s: %w", sec.ID, err)
		}
		if err := d.appendHistory(ctx, sec.ID, nowMS, workerID, sec.State, sec.State, eventReoffered, nil); err != nil {
			return Allocation{}, err
		}
		sec.LeaseExpires, sec.UpdatedAt = fromMS(lease), fromMS(nowMS)
		return Allocation{Sector: sec, Reoffered: true}, nil
	}

	// 2. Lock and load the eligible tenants.
	fs, fargs := filterSQL(f, "id", "miner_id", "proof_type")
	rows, err := d.query(ctx, `SELECT id, miner_id, proof_type, sector_size, weight, quota_per_day, quota_concurrent
		FROM tenants WHERE paused = ?`+fs+` ORDER BY id`+d.forNoKeyUpdate(), append([]any{false}, fargs...)...)
	if err != nil {
		return Allocation{}, fmt.Errorf("store: allocate sector: load tenants: %w", err)
	}
	var cands []*candidate
	for rows.Next() {
		c := new(candidate)
		if err := rows.Scan(&c.id, &c.miner, &c.proofType, &c.size, &c.weight, &c.qDay, &c.qConc); err != nil {
			rows.Close()
			return Allocation{}, fmt.Errorf("store: allocate sector: load tenants: %w", err)
		}
		cands = append(cands, c)
	}
	if err := rows.Close(); err != nil {
		return Allocation{}, fmt.Errorf("store: allocate sector: load tenants: %w", err)
	}
	if err := rows.Err(); err != nil {
		return Allocation{}, fmt.Errorf("store: allocate sector: load tenants: %w", err)
	}
	if len(cands) == 0 {
		return Allocation{}, ErrNoWork
	}

	// Counts over the half-open windows (now-window, now]: a tenant's
	// allocations after B are its running total minus the sequence number
	// of its last allocation at or before B (migration 0002). Usage rows
	// and counters survive sector and tenant deletion, so deleting
	// sectors cannot be used to dodge a quota.
	day := int64(24 * time.Hour / time.Millisecond)
	windowFrom, dayFrom := nowMS-p.FairShareWindow.Milliseconds(), nowMS-day
	if err := d.allocationCounts(ctx, cands, windowFrom, dayFrom); err != nil {
		return Allocation{}, err
	}

	var pick *candidate
	for _, c := range cands {
		if c.qDay > 0 && c.dayCount >= c.qDay {
			continue
		}
		if c.qConc > 0 && c.active >= c.qConc {
			continue
		}
		// (c.w+1)/c.weight < (pick.w+1)/pick.weight, cross-multiplied;
		// candidates are in id order, so strict < keeps the smaller id on
		// ties.
		if pick == nil || (c.windowCount+1)*pick.weight < (pick.windowCount+1)*c.weight {
			pick = c
		}
	}
	if pick == nil {
		return Allocation{}, ErrNoWork
	}

	// 3. Number, sector, usage, history.
	if _, err := d.exec(ctx, `INSERT INTO sector_counters (miner_id, next_number) VALUES (?, 0)
		ON CONFLICT (miner_id) DO NOTHING`, pick.miner); err != nil {
		return Allocation{}, fmt.Errorf("store: allocate sector: counter for miner %d: %w", pick.miner, err)
	}
	var num int64
	if err := d.queryRow(ctx, `UPDATE sector_counters SET next_number = next_number + 1
		WHERE miner_id = ? RETURNING next_number - 1`, pick.miner).Scan(&num); err != nil {
		return Allocation{}, fmt.Errorf("store: allocate sector: next number for miner %d: %w", pick.miner, err)
	}
	id := SectorID{uint64(pick.miner), uint64(num)}
	if _, err := d.exec(ctx, `INSERT INTO sectors (miner_id, number, tenant_id, proof_type, sector_size,
			worker_id, lease_expires_ms, allocated_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		pick.miner, num, pick.id, pick.proofType, pick.size, workerID, lease, nowMS, nowMS); err != nil {
		if isUniqueViolation(err) {
			// Only possible if a sector row was inserted outside the
			// counter; refuse rather than overwrite.
			return Allocation{}, fmt.Errorf("store: allocate sector %s: number already used: %w", id, ErrConflict)
		}
		return Allocation{}, fmt.Errorf("store: allocate sector %s: %w", id, err)
	}
	var seq int64
	if err := d.queryRow(ctx, `INSERT INTO allocation_counters (tenant_id, total) VALUES (?, 1)
		ON CONFLICT (tenant_id) DO UPDATE SET total = allocation_counters.total + 1 RETURNING total`, pick.id).Scan(&seq); err != nil {
		return Allocation{}, fmt.Errorf("store: allocate sector %s: allocation counter: %w", id, err)
	}
	if _, err := d.exec(ctx, `INSERT INTO usage_events (tenant_id, miner_id, number, stage, attempt, worker_id, bytes, at_ms, alloc_seq)
		VALUES (?, ?, ?, 'allocated', 0, ?, ?, ?, ?)`, pick.id, pick.miner, num, workerID, pick.size, nowMS, seq); err != nil {
		return Allocation{}, fmt.Errorf("store: allocate sector %s: usage: %w", id, err)
	}
	if err := d.appendHistory(ctx, id, nowMS, workerID, "", "", eventAllocated, nil); err != nil {
		return Allocation{}, err
	}
	return Allocation{Sector: Sector{
		ID: id, TenantID: pick.id, ProofType: abi.RegisteredSealProof(pick.proofType), SectorSize: uint64(pick.size),
		Phase: PhaseActive, WorkerID: workerID, LeaseExpires: fromMS(lease),
		AllocatedAt: fromMS(nowMS), UpdatedAt: fromMS(nowMS),
	}}, nil
}

// allocationCounts sets each candidate's allocations in all (total),
// after windowFrom and after dayFrom, and, when it has a concurrency
// quota, its active sectors: one statement for all of them.
//
// Exact as long as a tenant's allocations are recorded in time order,
// which holds within one manager (allocations of a tenant are serialized);
// managers sharing a database with skewed clocks can make it off by the
// allocations inside the skew, which fair share and a daily quota
// tolerate.
func (d db) allocationCounts(ctx context.Context, cands []*candidate, windowFrom, dayFrom int64) error {
	if len(cands) == 0 {
		return nil
	}
	const before = `(SELECT alloc_seq FROM usage_events WHERE stage = 'allocated' AND tenant_id = t.id AND at_ms <= ?
		ORDER BY at_ms DESC, alloc_seq DESC LIMIT 1)`
	args := []any{windowFrom, dayFrom}
	byID := make(map[string]*candidate, len(cands))
	for _, c := range cands {
		args = append(args, c.id)
		byID[c.id] = c
	}
	rows, err := d.query(ctx, `SELECT t.id, ac.total, `+before+`, `+before+`,
		CASE WHEN t.quota_concurrent > 0 THEN (SELECT COUNT(*) FROM sectors WHERE phase = 'active' AND tenant_id = t.id) ELSE 0 END
		FROM tenants t LEFT JOIN allocation_counters ac ON ac.tenant_id = t.id
		WHERE t.id IN (`+placeholders(len(cands))+`)`, args...)
	if err != nil {
		return fmt.Errorf("store: allocate sector: allocation counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var total, atWindow, atDay sql.NullInt64
		var active int64
		if err := rows.Scan(&id, &total, &atWindow, &atDay, &active); err != nil {
			return fmt.Errorf("store: allocate sector: allocation counts: %w", err)
		}
		c := byID[id]
		if c == nil {
			continue
		}
		c.active = active
		if !total.Valid {
			c.total, c.windowCount, c.dayCount = 0, 0, 0 // never allocated
			continue
		}
		c.total = total.Int64
		c.windowCount, c.dayCount = total.Int64-atWindow.Int64, total.Int64-atDay.Int64
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: allocate sector: allocation counts: %w", err)
	}
	return nil
}

// matches reports whether sec passes the filter.
func (f AllocateFilter) matches(sec Sector) bool {
	return (len(f.Tenants) == 0 || slices.Contains(f.Tenants, sec.TenantID)) &&
		(len(f.Miners) == 0 || slices.Contains(f.Miners, sec.ID.Miner)) &&
		!slices.Contains(f.ExcludeMiners, sec.ID.Miner) &&
		(len(f.ProofTypes) == 0 || slices.Contains(f.ProofTypes, sec.ProofType))
}
