package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sealant/sealant/proofs/abi"
)

// SectorID is a sector's on-chain identity.
type SectorID struct {
	Miner  uint64 `json:"miner"`
	Number uint64 `json:"number"`
}

// String formats the id as f0<miner>/<number>.
func (id SectorID) String() string {
	return "f0" + strconv.FormatUint(id.Miner, 10) + "/" + strconv.FormatUint(id.Number, 10)
}

// Phase is the store's coarse view of a sector's life. The fine-grained
// State belongs to the worker's state machine and is recorded verbatim.
type Phase string

// Phases.
const (
	PhaseActive    Phase = "active"    // allocated, held by a worker's lease
	PhaseFinalized Phase = "finalized" // sealed and handed over
	PhaseAborted   Phase = "aborted"   // given up; its number stays used
)

// Ticket is chain randomness with its epoch (used for the ticket and the
// interactive seed alike).
type Ticket struct {
	Value []byte `json:"value"`
	Epoch int64  `json:"epoch"`
}

// Sector is the manager's record of one sector.
type Sector struct {
	ID          SectorID                `json:"id"`
	TenantID    string                  `json:"tenant_id"`
	ProofType   abi.RegisteredSealProof `json:"proof_type"`
	SectorSize  uint64                  `json:"sector_size"`
	State       string                  `json:"state"`
	Phase       Phase                   `json:"phase"`
	AbortReason string                  `json:"abort_reason,omitempty"`
	// WorkerID is the lease holder: the worker identity (one sealing slot)
	// that was allocated the sector. It never changes.
	WorkerID     string    `json:"worker_id"`
	LeaseExpires time.Time `json:"lease_expires"`
	AllocatedAt  time.Time `json:"allocated_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	DoneAt       time.Time `json:"done_at,omitzero"`
	Ticket       *Ticket   `json:"ticket,omitempty"`
	Seed         *Ticket   `json:"seed,omitempty"`
	CommR        []byte    `json:"comm_r,omitempty"`
	CommD        []byte    `json:"comm_d,omitempty"`
	HasProof     bool      `json:"has_proof"`
	// PiecesSet: the sector's pieces are decided (none: committed
	// capacity).
	PiecesSet bool `json:"pieces_set,omitempty"`
	// PreCommitBatch / ProveCommitBatch are batch ids (0 = none).
	PreCommitBatch   int64  `json:"precommit_batch,omitempty"`
	ProveCommitBatch int64  `json:"provecommit_batch,omitempty"`
	PreCommitMsg     string `json:"precommit_msg,omitempty"`
	ProveCommitMsg   string `json:"provecommit_msg,omitempty"`
	// LastPreCommitBatch / LastProveCommitBatch are the last batch of each
	// kind the sector joined; unlike the fields above they stay set after
	// a failed batch detaches its sectors (0 = never batched).
	LastPreCommitBatch   int64 `json:"last_precommit_batch,omitempty"`
	LastProveCommitBatch int64 `json:"last_provecommit_batch,omitempty"`
	// CommC and CommRLast are the worker's PC2 outputs in hex, set once
	// with the PreCommit ("" until then).
	CommC     string `json:"comm_c,omitempty"`
	CommRLast string `json:"comm_r_last,omitempty"`
	// Location and Files say where the finalized sector's files are; Files
	// is JSON written by the manager and kept verbatim.
	Location string `json:"location,omitempty"`
	Files    string `json:"files,omitempty"`
}

// LeaseExpired reports whether the lease has lapsed at now.
func (s Sector) LeaseExpired(now time.Time) bool {
	return s.Phase == PhaseActive && !now.Before(s.LeaseExpires)
}

const sectorCols = `miner_id, number, tenant_id, proof_type, sector_size, state, phase, abort_reason,
	worker_id, lease_expires_ms, allocated_ms, updated_ms, done_ms, ticket, ticket_epoch, seed, seed_epoch,
	comm_r, comm_d, proof IS NOT NULL, precommit_batch, provecommit_batch, precommit_msg, provecommit_msg,
	last_precommit_batch, last_provecommit_batch, comm_c, comm_r_last, location, files, pieces_set`

func scanSector(sc interface{ Scan(...any) error }) (Sector, error) {
	var (
		s                              Sector
		miner, num, pt, size           int64
		phase                          string
		lease, alloc, upd              int64
		done, tEpoch, sEpoch, pcb, prb sql.NullInt64
		ticket, seed                   []byte
	)
	err := sc.Scan(&miner, &num, &s.TenantID, &pt, &size, &s.State, &phase, &s.AbortReason,
		&s.WorkerID, &lease, &alloc, &upd, &done, &ticket, &tEpoch, &seed, &sEpoch,
		&s.CommR, &s.CommD, &s.HasProof, &pcb, &prb, &s.PreCommitMsg, &s.ProveCommitMsg,
		&s.LastPreCommitBatch, &s.LastProveCommitBatch, &s.CommC, &s.CommRLast, &s.Location, &s.Files, &s.PiecesSet)
	if err != nil {
		return Sector{}, err
	}
	s.ID = SectorID{uint64(miner), uint64(num)}
	s.ProofType, s.SectorSize, s.Phase = abi.RegisteredSealProof(pt), uint64(size), Phase(phase)
	s.LeaseExpires, s.AllocatedAt, s.UpdatedAt, s.DoneAt = fromMS(lease), fromMS(alloc), fromMS(upd), fromNullMS(done)
	if ticket != nil {
		s.Ticket = &Ticket{Value: ticket, Epoch: tEpoch.Int64}
	}
	if seed != nil {
		s.Seed = &Ticket{Value: seed, Epoch: sEpoch.Int64}
	}
	s.PreCommitBatch, s.ProveCommitBatch = pcb.Int64, prb.Int64
	return s, nil
}

func (d db) getSector(ctx context.Context, id SectorID, lock bool) (Sector, error) {
	q := `SELECT ` + sectorCols + ` FROM sectors WHERE miner_id = ? AND number = ?`
	if lock {
		q += d.forUpdate()
	}
	s, err := scanSector(d.queryRow(ctx, q, int64(id.Miner), int64(id.Number)))
	if errors.Is(err, sql.ErrNoRows) {
		return Sector{}, fmt.Errorf("store: sector %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Sector{}, fmt.Errorf("store: get sector %s: %w", id, err)
	}
	return s, nil
}

// GetSector returns one sector, or ErrNotFound.
func (s *Store) GetSector(ctx context.Context, id SectorID) (Sector, error) {
	return s.reader().getSector(ctx, id, false)
}

// SectorFilter selects sectors for ListSectors; zero fields match all.
type SectorFilter struct {
	TenantID string
	Phase    Phase
	WorkerID string
	// Limit caps the result (0 = 1000).
	Limit int
}

// ListSectors returns sectors matching f, ordered by miner and number.
func (s *Store) ListSectors(ctx context.Context, f SectorFilter) ([]Sector, error) {
	q := `SELECT ` + sectorCols + ` FROM sectors WHERE 1 = 1`
	var args []any
	if f.TenantID != "" {
		q += ` AND tenant_id = ?`
		args = append(args, f.TenantID)
	}
	if f.Phase != "" {
		q += ` AND phase = ?`
		args = append(args, string(f.Phase))
	}
	if f.WorkerID != "" {
		q += ` AND worker_id = ?`
		args = append(args, f.WorkerID)
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	q += ` ORDER BY miner_id, number LIMIT ?`
	args = append(args, f.Limit)
	return s.reader().listSectors(ctx, q, args...)
}

func (d db) listSectors(ctx context.Context, q string, args ...any) ([]Sector, error) {
	rows, err := d.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list sectors: %w", err)
	}
	defer rows.Close()
	var out []Sector
	for rows.Next() {
		s, err := scanSector(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list sectors: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list sectors: %w", err)
	}
	return out, nil
}

// ExpiredLeases returns active sectors whose lease lapsed at now, oldest
// lease first. They are not reassigned automatically: the holder gets them
// back through AllocateSector when it returns, and an operator decides
// (AbortSector) if it never does; giving them to another worker could seal
// one sector twice.
func (s *Store) ExpiredLeases(ctx context.Context, now time.Time) ([]Sector, error) {
	return s.reader().listSectors(ctx, `SELECT `+sectorCols+` FROM sectors
		WHERE phase = 'active' AND lease_expires_ms <= ? ORDER BY lease_expires_ms, miner_id, number`, ms(now))
}

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
	active                 int64
}

func (d db) allocate(ctx context.Context, workerID string, f AllocateFilter, now time.Time, p AllocatePolicy) (Allocation, error) {
	nowMS := ms(now)
	lease := ms(now.Add(p.LeaseTTL))

	// 1. Re-offer to the same worker identity. The filter is applied here,
	// not in SQL: a worker identity holds one sector or a few, which the
	// (worker_id, phase) index finds directly, while a tenant IN list in
	// the WHERE clause led SQLite to scan every active sector of those
	// tenants instead.
	mine, err := d.listSectors(ctx, `SELECT `+sectorCols+` FROM sectors
		WHERE worker_id = ? AND phase = 'active' ORDER BY allocated_ms, miner_id, number`+d.forUpdate(), workerID)
	if err != nil {
		return Allocation{}, fmt.Errorf("store: allocate sector for %q: %w", workerID, err)
	}
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
	for _, c := range cands {
		if err := d.allocationCounts(ctx, c, windowFrom, dayFrom); err != nil {
			return Allocation{}, err
		}
		if c.qConc > 0 {
			// Only a concurrency quota needs the active count.
			if err := d.queryRow(ctx, `SELECT COUNT(*) FROM sectors WHERE phase = 'active' AND tenant_id = ?`, c.id).Scan(&c.active); err != nil {
				return Allocation{}, fmt.Errorf("store: allocate sector: active sectors of %q: %w", c.id, err)
			}
		}
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

// allocationCounts sets c's allocations after windowFrom and after dayFrom.
//
// Exact as long as a tenant's allocations are recorded in time order,
// which holds within one manager (allocations of a tenant are serialized);
// managers sharing a database with skewed clocks can make it off by the
// allocations inside the skew, which fair share and a daily quota
// tolerate.
func (d db) allocationCounts(ctx context.Context, c *candidate, windowFrom, dayFrom int64) error {
	const before = `(SELECT alloc_seq FROM usage_events WHERE stage = 'allocated' AND tenant_id = ? AND at_ms <= ?
		ORDER BY at_ms DESC, alloc_seq DESC LIMIT 1)`
	var total int64
	var atWindow, atDay sql.NullInt64
	err := d.queryRow(ctx, `SELECT total, `+before+`, `+before+` FROM allocation_counters WHERE tenant_id = ?`,
		c.id, windowFrom, c.id, dayFrom, c.id).Scan(&total, &atWindow, &atDay)
	if errors.Is(err, sql.ErrNoRows) {
		c.windowCount, c.dayCount = 0, 0 // never allocated
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: allocate sector: allocation counts of %q: %w", c.id, err)
	}
	c.windowCount, c.dayCount = total-atWindow.Int64, total-atDay.Int64
	return nil
}

// matches reports whether sec passes the filter.
func (f AllocateFilter) matches(sec Sector) bool {
	return (len(f.Tenants) == 0 || slices.Contains(f.Tenants, sec.TenantID)) &&
		(len(f.Miners) == 0 || slices.Contains(f.Miners, sec.ID.Miner)) &&
		!slices.Contains(f.ExcludeMiners, sec.ID.Miner) &&
		(len(f.ProofTypes) == 0 || slices.Contains(f.ProofTypes, sec.ProofType))
}

// Failure describes a failed step reported by a worker.
type Failure struct {
	Level string `json:"level"`
	Desc  string `json:"desc"`
}

// HistoryEntry is one line of a sector's history.
type HistoryEntry struct {
	At       time.Time `json:"at"`
	WorkerID string    `json:"worker_id,omitempty"`
	Prev     string    `json:"prev"`
	Next     string    `json:"next"`
	Event    string    `json:"event"`
	Failure  *Failure  `json:"failure,omitempty"`
}

func (d db) appendHistory(ctx context.Context, id SectorID, at int64, worker, prev, next, event string, f *Failure) error {
	var level, desc string
	if f != nil {
		level, desc = f.Level, f.Desc
	}
	if _, err := d.exec(ctx, `INSERT INTO sector_history (miner_id, number, at_ms, worker_id, prev_state, next_state,
		event, failure_level, failure_desc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		int64(id.Miner), int64(id.Number), at, worker, prev, next, event, level, desc); err != nil {
		return fmt.Errorf("store: sector %s: append history: %w", id, err)
	}
	return nil
}

// SectorHistory returns a sector's history, oldest first.
func (s *Store) SectorHistory(ctx context.Context, id SectorID) ([]HistoryEntry, error) {
	rows, err := s.reader().query(ctx, `SELECT at_ms, worker_id, prev_state, next_state, event, failure_level, failure_desc
		FROM sector_history WHERE miner_id = ? AND number = ? ORDER BY id`, int64(id.Miner), int64(id.Number))
	if err != nil {
		return nil, fmt.Errorf("store: sector %s history: %w", id, err)
	}
	defer rows.Close()
	var out []HistoryEntry
	for rows.Next() {
		var h HistoryEntry
		var at int64
		var level, desc string
		if err := rows.Scan(&at, &h.WorkerID, &h.Prev, &h.Next, &h.Event, &level, &desc); err != nil {
			return nil, fmt.Errorf("store: sector %s history: %w", id, err)
		}
		h.At = fromMS(at)
		if level != "" || desc != "" {
			h.Failure = &Failure{Level: level, Desc: desc}
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sector %s history: %w", id, err)
	}
	return out, nil
}

// lockHeld loads a sector for update and checks that workerID holds it.
func (d db) lockHeld(ctx context.Context, id SectorID, workerID string) (Sector, error) {
	sec, err := d.getSector(ctx, id, true)
	if err != nil {
		return Sector{}, err
	}
	if sec.WorkerID != workerID {
		return Sector{}, fmt.Errorf("store: sector %s: held by %q, not %q: %w", id, sec.WorkerID, workerID, ErrNotLeaseHolder)
	}
	return sec, nil
}

// RenewLease extends workerID's lease on an active sector to now+ttl. It is
// ErrNotLeaseHolder for another worker, ErrSectorDone once the sector is
// finalized or aborted. A lapsed lease can be renewed by its holder.
func (s *Store) RenewLease(ctx context.Context, id SectorID, workerID string, now time.Time, ttl time.Duration) (time.Time, error) {
	ttl = AllocatePolicy{LeaseTTL: ttl}.withDefaults().LeaseTTL
	exp := ms(now.Add(ttl))
	err := s.tx(ctx, func(d db) error {
		sec, err := d.lockHeld(ctx, id, workerID)
		if err != nil {
			return err
		}
		if sec.Phase != PhaseActive {
			return fmt.Errorf("store: renew lease on sector %s: %s: %w", id, sec.Phase, ErrSectorDone)
		}
		_, err = d.exec(ctx, `UPDATE sectors SET lease_expires_ms = ? WHERE miner_id = ? AND number = ?`,
			exp, int64(id.Miner), int64(id.Number))
		if err != nil {
			return fmt.Errorf("store: renew lease on sector %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	return fromMS(exp), nil
}

// StateReport is one worker state transition (damocles ReportState).
type StateReport struct {
	ID       SectorID `json:"id"`
	WorkerID string   `json:"worker_id"`
	Prev     string   `json:"prev"`
	Next     string   `json:"next"`
	Event    string   `json:"event"`
	Failure  *Failure `json:"failure,omitempty"`
}

// ReportResult tells the worker what the manager thinks of the sector: if
// Phase is not active (the operator aborted it, say) the worker should
// stop and clean up.
type ReportResult struct {
	Phase        Phase     `json:"phase"`
	AbortReason  string    `json:"abort_reason,omitempty"`
	LeaseExpires time.Time `json:"lease_expires"`
}

// ReportState records a transition in the sector's history, sets its
// current state, and renews the lease (reports double as heartbeats). The
// worker's Prev is recorded as sent, even if it differs from the stored
// state: the worker's state machine is the authority and the history is a
// log. Reports from a worker that does not hold the lease are
// ErrNotLeaseHolder and are not recorded. On a finalized or aborted sector
// the report is recorded but the lease is not renewed.
func (s *Store) ReportState(ctx context.Context, r StateReport, now time.Time, ttl time.Duration) (ReportResult, error) {
	ttl = AllocatePolicy{LeaseTTL: ttl}.withDefaults().LeaseTTL
	var out ReportResult
	err := s.tx(ctx, func(d db) error {
		sec, err := d.lockHeld(ctx, r.ID, r.WorkerID)
		if err != nil {
			return err
		}
		out, err = d.report(ctx, sec, r, now, ttl)
		return err
	})
	return out, err
}

// report is ReportState on a locked sector.
func (d db) report(ctx context.Context, sec Sector, r StateReport, now time.Time, ttl time.Duration) (ReportResult, error) {
	nowMS := ms(now)
	if err := d.appendHistory(ctx, r.ID, nowMS, r.WorkerID, r.Prev, r.Next, r.Event, r.Failure); err != nil {
		return ReportResult{}, err
	}
	lease := ms(sec.LeaseExpires)
	if sec.Phase == PhaseActive {
		lease = ms(now.Add(ttl))
	}
	if _, err := d.exec(ctx, `UPDATE sectors SET state = ?, lease_expires_ms = ?, updated_ms = ?
		WHERE miner_id = ? AND number = ?`, r.Next, lease, nowMS, int64(r.ID.Miner), int64(r.ID.Number)); err != nil {
		return ReportResult{}, fmt.Errorf("store: report state of sector %s: %w", r.ID, err)
	}
	return ReportResult{Phase: sec.Phase, AbortReason: sec.AbortReason, LeaseExpires: fromMS(lease)}, nil
}

// FinalizeSector marks a sector finalized (sealed and handed over): the
// lease ends and a 'finalized' usage row is written. Idempotent; an aborted
// sector is ErrConflict.
func (s *Store) FinalizeSector(ctx context.Context, id SectorID, workerID string, now time.Time) error {
	return s.tx(ctx, func(d db) error {
		sec, err := d.lockHeld(ctx, id, workerID)
		if err != nil {
			return err
		}
		return d.finalize(ctx, sec, now)
	})
}

// finalize is FinalizeSector on a locked sector.
func (d db) finalize(ctx context.Context, sec Sector, now time.Time) error {
	id := sec.ID
	switch sec.Phase {
	case PhaseFinalized:
		return nil
	case PhaseAborted:
		return fmt.Errorf("store: finalize sector %s: aborted: %w", id, ErrConflict)
	}
	nowMS := ms(now)
	if _, err := d.exec(ctx, `UPDATE sectors SET phase = 'finalized', done_ms = ?, updated_ms = ?
		WHERE miner_id = ? AND number = ?`, nowMS, nowMS, int64(id.Miner), int64(id.Number)); err != nil {
		return fmt.Errorf("store: finalize sector %s: %w", id, err)
	}
	if _, err := d.exec(ctx, `INSERT INTO usage_events (tenant_id, miner_id, number, stage, attempt, worker_id, bytes, at_ms)
		VALUES (?, ?, ?, 'finalized', 0, ?, ?, ?) ON CONFLICT (miner_id, number, stage, attempt) DO NOTHING`,
		sec.TenantID, int64(id.Miner), int64(id.Number), sec.WorkerID, int64(sec.SectorSize), nowMS); err != nil {
		return fmt.Errorf("store: finalize sector %s: usage: %w", id, err)
	}
	return d.appendHistory(ctx, id, nowMS, sec.WorkerID, sec.State, sec.State, eventFinalized, nil)
}

// AbortSector gives a sector up (operator or worker decision). Its number
// stays used. Idempotent (the first reason is kept); a finalized sector is
// ErrConflict.
func (s *Store) AbortSector(ctx context.Context, id SectorID, reason string, now time.Time) error {
	return s.tx(ctx, func(d db) error {
		sec, err := d.getSector(ctx, id, true)
		if err != nil {
			return err
		}
		return d.abort(ctx, sec, reason, now)
	})
}

// abort is AbortSector on a locked sector.
func (d db) abort(ctx context.Context, sec Sector, reason string, now time.Time) error {
	id := sec.ID
	switch sec.Phase {
	case PhaseAborted:
		return nil
	case PhaseFinalized:
		return fmt.Errorf("store: abort sector %s: finalized: %w", id, ErrConflict)
	}
	nowMS := ms(now)
	if _, err := d.exec(ctx, `UPDATE sectors SET phase = 'aborted', abort_reason = ?, done_ms = ?, updated_ms = ?
		WHERE miner_id = ? AND number = ?`, reason, nowMS, nowMS, int64(id.Miner), int64(id.Number)); err != nil {
		return fmt.Errorf("store: abort sector %s: %w", id, err)
	}
	return d.appendHistory(ctx, id, nowMS, "", sec.State, sec.State, eventAborted, &Failure{Level: "abort", Desc: reason})
}

// DeleteSector removes a finalized or aborted sector and its history,
// pieces and delivery. Its number is never reused. Deleting an active
// sector is ErrConflict (abort it first).
func (s *Store) DeleteSector(ctx context.Context, id SectorID) error {
	return s.tx(ctx, func(d db) error {
		sec, err := d.getSector(ctx, id, true)
		if err != nil {
			return err
		}
		if sec.Phase == PhaseActive {
			return fmt.Errorf("store: delete sector %s: active: %w", id, ErrConflict)
		}
		if _, err := d.exec(ctx, `DELETE FROM sectors WHERE miner_id = ? AND number = ?`, int64(id.Miner), int64(id.Number)); err != nil {
			return fmt.Errorf("store: delete sector %s: %w", id, err)
		}
		return nil
	})
}

// SubmitResult is the outcome of an idempotent submission.
type SubmitResult int

// Submission outcomes (damocles SubmitResult).
const (
	// SubmitAccepted: first submission, stored.
	SubmitAccepted SubmitResult = iota + 1
	// SubmitDuplicate: identical to what is stored; nothing changed.
	SubmitDuplicate
	// SubmitMismatch: differs from what is stored; nothing changed. The
	// worker has diverged (e.g. resealed with another ticket) and the
	// sector needs an operator.
	SubmitMismatch
)

// String names the result: accepted, duplicate or mismatch.
func (r SubmitResult) String() string {
	switch r {
	case SubmitAccepted:
		return "accepted"
	case SubmitDuplicate:
		return "duplicate"
	case SubmitMismatch:
		return "mismatch"
	}
	return "SubmitResult(" + strconv.Itoa(int(r)) + ")"
}

// MarshalText encodes the result by name.
func (r SubmitResult) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// setOnce implements store-once semantics for one or more columns: if all
// are NULL they are set; if equal to vals the result is a duplicate;
// otherwise a mismatch. The sector must be active and held by workerID
// (workerID "" skips the holder check, for manager-side writes).
func (d db) setOnce(ctx context.Context, id SectorID, workerID, what string, cols []string, vals [][]byte, now time.Time, extra func(Sector) (SubmitResult, bool)) (SubmitResult, error) {
	var sec Sector
	var err error
	if workerID != "" {
		sec, err = d.lockHeld(ctx, id, workerID)
	} else {
		sec, err = d.getSector(ctx, id, true)
	}
	if err != nil {
		return 0, err
	}
	if sec.Phase != PhaseActive {
		return 0, fmt.Errorf("store: %s for sector %s: %s: %w", what, id, sec.Phase, ErrSectorDone)
	}
	if extra != nil {
		if r, stop := extra(sec); stop {
			return r, nil
		}
	}
	q := `SELECT ` + strings.Join(cols, ", ") + ` FROM sectors WHERE miner_id = ? AND number = ?`
	cur := make([][]byte, len(cols))
	ptrs := make([]any, len(cols))
	for i := range cur {
		ptrs[i] = &cur[i]
	}
	if err := d.queryRow(ctx, q, int64(id.Miner), int64(id.Number)).Scan(ptrs...); err != nil {
		return 0, fmt.Errorf("store: %s for sector %s: %w", what, id, err)
	}
	set := 0
	for i := range cur {
		if cur[i] != nil {
			set++
		}
	}
	if set > 0 {
		for i := range cur {
			if !bytes.Equal(cur[i], vals[i]) {
				return SubmitMismatch, nil
			}
		}
		return SubmitDuplicate, nil
	}
	assign := make([]string, len(cols))
	args := make([]any, 0, len(cols)+3)
	for i, c := range cols {
		assign[i] = c + " = ?"
		args = append(args, vals[i])
	}
	args = append(args, ms(now), int64(id.Miner), int64(id.Number))
	if _, err := d.exec(ctx, `UPDATE sectors SET `+strings.Join(assign, ", ")+`, updated_ms = ? WHERE miner_id = ? AND number = ?`, args...); err != nil {
		return 0, fmt.Errorf("store: %s for sector %s: %w", what, id, err)
	}
	return SubmitAccepted, nil
}

// AssignTicket stores the sector's ticket once and returns the stored one:
// the first call's ticket wins and later calls (a restarted worker, a second
// manager) get the same ticket back, so one sector is never sealed with two
// tickets.
func (s *Store) AssignTicket(ctx context.Context, id SectorID, workerID string, t Ticket, now time.Time) (Ticket, error) {
	return s.assignRandomness(ctx, id, workerID, t, now, "ticket", "ticket_epoch")
}

// AssignSeed stores the interactive PoRep seed once and returns the stored
// one; see AssignTicket.
func (s *Store) AssignSeed(ctx context.Context, id SectorID, workerID string, t Ticket, now time.Time) (Ticket, error) {
	return s.assignRandomness(ctx, id, workerID, t, now, "seed", "seed_epoch")
}

func (s *Store) assignRandomness(ctx context.Context, id SectorID, workerID string, t Ticket, now time.Time, col, epochCol string) (Ticket, error) {
	if len(t.Value) != 32 {
		return Ticket{}, fmt.Errorf("store: assign %s for sector %s: need 32 bytes, got %d: %w", col, id, len(t.Value), ErrInvalid)
	}
	var out Ticket
	err := s.tx(ctx, func(d db) error {
		sec, err := d.lockHeld(ctx, id, workerID)
		if err != nil {
			return err
		}
		var ok bool
		out, ok, err = d.assignRandomness(ctx, sec, &t, now, col == "seed")
		if err == nil && !ok {
			err = fmt.Errorf("store: assign %s for sector %s: not stored", col, id)
		}
		return err
	})
	return out, err
}

// assignRandomness is AssignTicket (seed false) or AssignSeed on a locked
// sector: it returns the stored value, else stores t and returns it. With
// t nil it only reads: ok is false when nothing is stored.
func (d db) assignRandomness(ctx context.Context, sec Sector, t *Ticket, now time.Time, seed bool) (out Ticket, ok bool, err error) {
	col, epochCol, cur := "ticket", "ticket_epoch", sec.Ticket
	if seed {
		col, epochCol, cur = "seed", "seed_epoch", sec.Seed
	}
	id := sec.ID
	if cur != nil {
		return *cur, true, nil
	}
	if sec.Phase != PhaseActive {
		return Ticket{}, false, fmt.Errorf("store: assign %s for sector %s: %s: %w", col, id, sec.Phase, ErrSectorDone)
	}
	if t == nil {
		return Ticket{}, false, nil
	}
	if len(t.Value) != 32 {
		return Ticket{}, false, fmt.Errorf("store: assign %s for sector %s: need 32 bytes, got %d: %w", col, id, len(t.Value), ErrInvalid)
	}
	if _, err := d.exec(ctx, `UPDATE sectors SET `+col+` = ?, `+epochCol+` = ?, updated_ms = ? WHERE miner_id = ? AND number = ?`,
		t.Value, t.Epoch, ms(now), int64(id.Miner), int64(id.Number)); err != nil {
		return Ticket{}, false, fmt.Errorf("store: assign %s for sector %s: %w", col, id, err)
	}
	return *t, true, nil
}

// PreCommitInfo is what a worker submits after PC2.
type PreCommitInfo struct {
	CommR  []byte `json:"comm_r"`
	CommD  []byte `json:"comm_d"`
	Ticket Ticket `json:"ticket"`
}

// SubmitPreCommit stores comm_r and comm_d once. The ticket must be the one
// AssignTicket stored (else SubmitMismatch). A second identical submission
// is SubmitDuplicate, a different one SubmitMismatch; neither changes
// anything.
func (s *Store) SubmitPreCommit(ctx context.Context, id SectorID, workerID string, pc PreCommitInfo, now time.Time) (SubmitResult, error) {
	if len(pc.CommR) != 32 || len(pc.CommD) != 32 {
		return 0, fmt.Errorf("store: submit precommit for sector %s: commitments must be 32 bytes: %w", id, ErrInvalid)
	}
	var out SubmitResult
	err := s.tx(ctx, func(d db) error {
		r, err := d.setOnce(ctx, id, workerID, "submit precommit", []string{"comm_r", "comm_d"}, [][]byte{pc.CommR, pc.CommD}, now,
			func(sec Sector) (SubmitResult, bool) {
				if sec.Ticket == nil || sec.Ticket.Epoch != pc.Ticket.Epoch || !bytes.Equal(sec.Ticket.Value, pc.Ticket.Value) {
					return SubmitMismatch, true
				}
				return 0, false
			})
		out = r
		return err
	})
	return out, err
}

// SubmitProof stores the sector's (C2) proof once; see SubmitPreCommit.
func (s *Store) SubmitProof(ctx context.Context, id SectorID, workerID string, proof []byte, now time.Time) (SubmitResult, error) {
	if len(proof) == 0 {
		return 0, fmt.Errorf("store: submit proof for sector %s: empty proof: %w", id, ErrInvalid)
	}
	var out SubmitResult
	err := s.tx(ctx, func(d db) error {
		r, err := d.setOnce(ctx, id, workerID, "submit proof", []string{"proof"}, [][]byte{proof}, now, nil)
		out = r
		return err
	})
	return out, err
}

// Proof returns the stored proof of a sector (nil if none).
func (s *Store) Proof(ctx context.Context, id SectorID) ([]byte, error) {
	var p []byte
	err := s.reader().queryRow(ctx, `SELECT proof FROM sectors WHERE miner_id = ? AND number = ?`,
		int64(id.Miner), int64(id.Number)).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: sector %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: proof of sector %s: %w", id, err)
	}
	return p, nil
}

// Piece is one piece packed into a sector.
type Piece struct {
	CID    string `json:"cid"`
	Size   uint64 `json:"size"`
	DealID uint64 `json:"deal_id,omitempty"`
	// PayloadSize is the unpadded payload and SourceURL where the worker
	// fetches it (empty for pieces recorded without them).
	PayloadSize uint64 `json:"payload_size,omitempty"`
	SourceURL   string `json:"source_url,omitempty"`
}

// SetPieces stores a sector's pieces once (same semantics as
// SubmitPreCommit: accepted, duplicate, or mismatch). An empty list records
// a committed-capacity sector; a later non-empty list is then a mismatch.
func (s *Store) SetPieces(ctx context.Context, id SectorID, workerID string, pieces []Piece, now time.Time) (SubmitResult, error) {
	for i, p := range pieces {
		if p.CID == "" || p.Size == 0 || p.Size > 1<<63-1 || p.DealID > 1<<63-1 || p.PayloadSize > p.Size {
			return 0, fmt.Errorf("store: set pieces for sector %s: piece %d: empty cid or bad size: %w", id, i, ErrInvalid)
		}
	}
	var out SubmitResult
	err := s.tx(ctx, func(d db) error {
		sec, err := d.lockHeld(ctx, id, workerID)
		if err != nil {
			return err
		}
		if sec.Phase != PhaseActive {
			return fmt.Errorf("store: set pieces for sector %s: %s: %w", id, sec.Phase, ErrSectorDone)
		}
		var set bool
		if err := d.queryRow(ctx, `SELECT pieces_set FROM sectors WHERE miner_id = ? AND number = ?`,
			int64(id.Miner), int64(id.Number)).Scan(&set); err != nil {
			return fmt.Errorf("store: set pieces for sector %s: %w", id, err)
		}
		if set {
			cur, err := d.pieces(ctx, id)
			if err != nil {
				return err
			}
			out = SubmitDuplicate
			if len(cur) != len(pieces) {
				out = SubmitMismatch
			} else {
				for i := range cur {
					if cur[i] != pieces[i] {
						out = SubmitMismatch
						break
					}
				}
			}
			return nil
		}
		if err := d.recordPieces(ctx, id, pieces, now); err != nil {
			return err
		}
		out = SubmitAccepted
		return nil
	})
	return out, err
}

// recordPieces stores a sector's pieces (none: committed capacity) and
// marks them decided.
func (d db) recordPieces(ctx context.Context, id SectorID, pieces []Piece, now time.Time) error {
	for i, p := range pieces {
		if _, err := d.exec(ctx, `INSERT INTO sector_pieces (miner_id, number, idx, piece_cid, size, deal_id, payload_size, source_url)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, int64(id.Miner), int64(id.Number), i, p.CID, int64(p.Size), int64(p.DealID),
			int64(p.PayloadSize), p.SourceURL); err != nil {
			return fmt.Errorf("store: set pieces for sector %s: %w", id, err)
		}
	}
	if _, err := d.exec(ctx, `UPDATE sectors SET pieces_set = ?, updated_ms = ? WHERE miner_id = ? AND number = ?`,
		true, ms(now), int64(id.Miner), int64(id.Number)); err != nil {
		return fmt.Errorf("store: set pieces for sector %s: %w", id, err)
	}
	return nil
}

func (d db) pieces(ctx context.Context, id SectorID) ([]Piece, error) {
	rows, err := d.query(ctx, `SELECT piece_cid, size, deal_id, payload_size, source_url FROM sector_pieces WHERE miner_id = ? AND number = ? ORDER BY idx`,
		int64(id.Miner), int64(id.Number))
	if err != nil {
		return nil, fmt.Errorf("store: pieces of sector %s: %w", id, err)
	}
	defer rows.Close()
	var out []Piece
	for rows.Next() {
		var p Piece
		var size, deal, payload int64
		if err := rows.Scan(&p.CID, &size, &deal, &payload, &p.SourceURL); err != nil {
			return nil, fmt.Errorf("store: pieces of sector %s: %w", id, err)
		}
		p.Size, p.DealID, p.PayloadSize = uint64(size), uint64(deal), uint64(payload)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pieces of sector %s: %w", id, err)
	}
	return out, nil
}

// Pieces returns a sector's pieces in order (nil for CC or not yet set).
func (s *Store) Pieces(ctx context.Context, id SectorID) ([]Piece, error) {
	return s.reader().pieces(ctx, id)
}
