package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

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
	var u sets
	if out, ok, err = randomnessSets(sec, t, now, seed, &u); err != nil || !ok {
		return out, ok, err
	}
	if err := d.writeSets(ctx, sec.ID, u); err != nil {
		return Ticket{}, false, err
	}
	return out, true, nil
}

// randomnessSets is assignRandomness for a call that writes the sector
// row once with its other changes: what to store goes into u.
func randomnessSets(sec Sector, t *Ticket, now time.Time, seed bool, u *sets) (out Ticket, ok bool, err error) {
	col, epochCol, cur := "ticket", "ticket_epoch", sec.Ticket
	if seed {
		col, epochCol, cur = "seed", "seed_epoch", sec.Seed
	}
	if cur != nil {
		return *cur, true, nil
	}
	if sec.Phase != PhaseActive {
		return Ticket{}, false, fmt.Errorf("store: assign %s for sector %s: %s: %w", col, sec.ID, sec.Phase, ErrSectorDone)
	}
	if t == nil {
		return Ticket{}, false, nil
	}
	if len(t.Value) != 32 {
		return Ticket{}, false, fmt.Errorf("store: assign %s for sector %s: need 32 bytes, got %d: %w", col, sec.ID, len(t.Value), ErrInvalid)
	}
	u.add(col, t.Value)
	u.add(epochCol, t.Epoch)
	u.add("updated_ms", ms(now))
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
	var u sets
	if err := d.insertPieces(ctx, id, pieces, now, &u); err != nil {
		return err
	}
	return d.writeSets(ctx, id, u)
}

// insertPieces stores a sector's pieces and adds marking them decided to
// u, for the caller's one update of the sector row.
func (d db) insertPieces(ctx context.Context, id SectorID, pieces []Piece, now time.Time, u *sets) error {
	for i, p := range pieces {
		if _, err := d.exec(ctx, `INSERT INTO sector_pieces (miner_id, number, idx, piece_cid, size, deal_id, payload_size, source_url)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, int64(id.Miner), int64(id.Number), i, p.CID, int64(p.Size), int64(p.DealID),
			int64(p.PayloadSize), p.SourceURL); err != nil {
			return fmt.Errorf("store: set pieces for sector %s: %w", id, err)
		}
	}
	u.add("pieces_set", true)
	u.add("updated_ms", ms(now))
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
