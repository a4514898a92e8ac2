package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
)

// ReportOutcome is the answer to a worker's state report.
type ReportOutcome struct {
	ReportResult
	// Resend: the report repeats the last recorded one (a worker resending
	// after a restart); only the lease was renewed.
	Resend bool
}

// WorkerReport records a worker's state report in one transaction: the
// history line, the sector's current state, the lease (renewed to
// Now+TTL) and the CPU seconds per stage the step used (usage rows; the
// attempt is the report's position in the history, so a retried stage is
// billed again and a resent report is not). A report equal to the last
// recorded one is a resend and records nothing. On an aborted sector
// nothing is recorded and the outcome carries the abort. validate, when
// set, checks the report against the stored sector first; its error ends
// the call unchanged.
func (s *Store) WorkerReport(ctx context.Context, h Holder, r StateReport, cpu map[string]float64, validate func(Sector) error) (ReportOutcome, error) {
	ttl := AllocatePolicy{LeaseTTL: h.TTL}.withDefaults().LeaseTTL
	var out ReportOutcome
	err := s.callTx(ctx, r.ID, false, func(d db) error {
		ctx := context.WithoutCancel(ctx) // see callTx
		sec, err := d.lockFor(ctx, r.ID, h)
		if err != nil {
			return err
		}
		out = ReportOutcome{ReportResult: ReportResult{Phase: sec.Phase, AbortReason: sec.AbortReason, LeaseExpires: sec.LeaseExpires}}
		if sec.Phase == PhaseAborted {
			return nil
		}
		// The last line and the number of lines, in one round trip.
		var n int64
		var last HistoryEntry
		err = d.queryRow(ctx, `SELECT prev_state, next_state, event, worker_id,
			(SELECT COUNT(*) FROM sector_history WHERE miner_id = ? AND number = ?)
			FROM sector_history WHERE miner_id = ? AND number = ? ORDER BY id DESC LIMIT 1`,
			int64(r.ID.Miner), int64(r.ID.Number), int64(r.ID.Miner), int64(r.ID.Number)).Scan(&last.Prev, &last.Next, &last.Event, &last.WorkerID, &n)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: report state of sector %s: %w", r.ID, err)
		}
		if err == nil && last.Prev == r.Prev && last.Next == r.Next && last.Event == r.Event && last.WorkerID == sec.WorkerID {
			out.Resend = true
			return nil
		}
		if validate != nil {
			if err := validate(sec); err != nil {
				return err
			}
		}
		r.WorkerID = sec.WorkerID
		if out.ReportResult, err = d.report(ctx, sec, r, h.Now, ttl); err != nil {
			return err
		}
		for stage, secs := range cpu {
			if stage == "" || stage == StageAllocated || stage == StageFinalized || secs < 0 || math.IsNaN(secs) || math.IsInf(secs, 0) {
				continue // not billable: ignored, as a bad report line always was
			}
			if _, err := d.exec(ctx, `INSERT INTO usage_events (tenant_id, miner_id, number, stage, attempt, worker_id, cpu_seconds, bytes, at_ms)
				VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT (miner_id, number, stage, attempt) DO NOTHING`,
				sec.TenantID, int64(r.ID.Miner), int64(r.ID.Number), stage, n, r.WorkerID, secs, ms(h.Now)); err != nil {
				return fmt.Errorf("store: report state of sector %s: usage: %w", r.ID, err)
			}
		}
		return nil
	})
	return out, err
}
