package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
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

// assignRandomness stores a locked sector's ticket (seed false) or
// interactive seed once: it returns the stored value, else stores t and
// returns it, so the first value stored wins. With t nil it only reads: ok
// is false when nothing is stored.
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

// insertPieces stores a sector's pieces and adds marking them decided to
// u, for the caller's one update of the sector row.
func (d db) insertPieces(ctx context.Context, id SectorID, pieces []Piece, now time.Time, u *sets) error {
	for i, p := range pieces {
		if err := d.later(ctx, nil, `INSERT INTO sector_pieces (miner_id, number, idx, piece_cid, size, deal_id, payload_size, source_url)
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
