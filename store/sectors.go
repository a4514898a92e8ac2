package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
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
	if d.group != nil {
		if sec, ok := d.group.rows[id]; ok {
			return sec, nil // locked up front, not written since
		}
	}
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
	if err := d.later(ctx, nil, `INSERT INTO sector_history (miner_id, number, at_ms, worker_id, prev_state, next_state,
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

// StateReport is one worker state transition (damocles ReportState). The
// worker calls record it with WorkerID set to the sector's lease holder,
// whatever the report says.
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

// report records a state report on a locked sector: the history line,
// the sector's current state and its lease, renewed to now+ttl while it is
// active. The worker's Prev is recorded as sent, even if it differs from
// the stored state: the worker's state machine is the authority and the
// history is a log.
func (d db) report(ctx context.Context, sec Sector, r StateReport, now time.Time, ttl time.Duration) (ReportResult, error) {
	nowMS := ms(now)
	if err := d.appendHistory(ctx, r.ID, nowMS, r.WorkerID, r.Prev, r.Next, r.Event, r.Failure); err != nil {
		return ReportResult{}, err
	}
	lease := ms(sec.LeaseExpires)
	if sec.Phase == PhaseActive {
		// Never earlier than it is: a report written late (queued, or
		// retried) must not undo a renewal made since.
		lease = max(lease, ms(now.Add(ttl)))
	}
	if err := d.later(ctx, &r.ID, `UPDATE sectors SET state = ?, lease_expires_ms = ?, updated_ms = ?
		WHERE miner_id = ? AND number = ?`, r.Next, lease, nowMS, int64(r.ID.Miner), int64(r.ID.Number)); err != nil {
		return ReportResult{}, fmt.Errorf("store: report state of sector %s: %w", r.ID, err)
	}
	return ReportResult{Phase: sec.Phase, AbortReason: sec.AbortReason, LeaseExpires: fromMS(lease)}, nil
}

// finalize marks a locked sector finalized (sealed and handed over): the
// lease ends and a 'finalized' usage row is written. Idempotent; an
// aborted sector is ErrConflict.
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
