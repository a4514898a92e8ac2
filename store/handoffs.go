package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Handoff is a sector's metadata handoff progress (Architecture 2): which
// metadata (its hash) was pushed to the SP's receiver for which delivery
// attempt, and the back-off of failed pushes or status reads.
type Handoff struct {
	Hash      string    `json:"hash"`
	Attempt   int       `json:"attempt"`
	Pushed    time.Time `json:"pushed,omitzero"`
	Failures  int       `json:"failures"`
	Next      time.Time `json:"next,omitzero"`
	LastError string    `json:"last_error,omitempty"`
}

// GetHandoff returns a sector's handoff record; ok is false when it has
// none.
func (s *Store) GetHandoff(ctx context.Context, id SectorID) (h Handoff, ok bool, err error) {
	var attempt, pushed, failures, next int64
	err = s.reader().queryRow(ctx, `SELECT md_hash, attempt, pushed_ms, failures, next_ms, last_error FROM sector_handoffs
		WHERE miner_id = ? AND number = ?`, int64(id.Miner), int64(id.Number)).Scan(&h.Hash, &attempt, &pushed, &failures, &next, &h.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return Handoff{}, false, nil
	}
	if err != nil {
		return Handoff{}, false, fmt.Errorf("store: sector %s handoff: %w", id, err)
	}
	h.Attempt, h.Failures = int(attempt), int(failures)
	h.Pushed, h.Next = fromMS(pushed), fromMS(next)
	return h, true, nil
}

// PutHandoff stores a sector's handoff record, replacing the previous one.
func (s *Store) PutHandoff(ctx context.Context, id SectorID, h Handoff) error {
	err := s.tx(ctx, func(d db) error {
		_, err := d.exec(ctx, `INSERT INTO sector_handoffs (miner_id, number, md_hash, attempt, pushed_ms, failures, next_ms, last_error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (miner_id, number) DO UPDATE SET md_hash = excluded.md_hash, attempt = excluded.attempt, pushed_ms = excluded.pushed_ms,
			failures = excluded.failures, next_ms = excluded.next_ms, last_error = excluded.last_error`,
			int64(id.Miner), int64(id.Number), h.Hash, int64(h.Attempt), ms(h.Pushed), int64(h.Failures), ms(h.Next), h.LastError)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: sector %s handoff: %w", id, err)
	}
	return nil
}
