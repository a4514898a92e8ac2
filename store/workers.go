package store

import (
	"context"
	"fmt"
	"time"
)

// Worker is a worker's last heartbeat. Info is the manager's description
// of the worker (JSON), kept verbatim.
type Worker struct {
	Name string    `json:"name"`
	Info string    `json:"info"`
	Seen time.Time `json:"seen"`
}

// PutWorkers records heartbeats, all in one transaction: the manager
// collects them and writes them now and then (a heartbeat is information,
// the worker is the authority on its own state). A worker's newer
// heartbeat replaces its older one; an older one than stored is ignored.
func (s *Store) PutWorkers(ctx context.Context, ws []Worker) error {
	for _, w := range ws {
		if w.Name == "" {
			return fmt.Errorf("store: put workers: empty name: %w", ErrInvalid)
		}
	}
	if len(ws) == 0 {
		return nil
	}
	return s.tx(ctx, func(d db) error {
		for _, w := range ws {
			if _, err := d.exec(ctx, `INSERT INTO workers (name, info, seen_ms) VALUES (?, ?, ?)
				ON CONFLICT (name) DO UPDATE SET info = excluded.info, seen_ms = excluded.seen_ms
				WHERE workers.seen_ms <= excluded.seen_ms`, w.Name, w.Info, ms(w.Seen)); err != nil {
				return fmt.Errorf("store: put worker %q: %w", w.Name, err)
			}
		}
		return nil
	})
}

// ListWorkers returns the recorded workers by name.
func (s *Store) ListWorkers(ctx context.Context) ([]Worker, error) {
	rows, err := s.reader().query(ctx, `SELECT name, info, seen_ms FROM workers ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list workers: %w", err)
	}
	defer rows.Close()
	var out []Worker
	for rows.Next() {
		var w Worker
		var seen int64
		if err := rows.Scan(&w.Name, &w.Info, &seen); err != nil {
			return nil, fmt.Errorf("store: list workers: %w", err)
		}
		w.Seen = fromMS(seen)
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list workers: %w", err)
	}
	return out, nil
}
