package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"
)

// Queued state reports.
//
// A worker's state report is information: the worker's own record is the
// truth about where its sector is, and the manager keeps the history for
// operators, tenants and metering. So the manager need not pay a write
// transaction per report: it accepts a report against what it knows, keeps
// it in memory, and writes it later, either inside the next worker call
// for the same sector (Holder.Reports: the call's own transaction writes
// the sector's reports first, in order, so the history and the call's own
// writes never cross) or with other sectors' reports in a flush
// (WriteReports). A report is checked again against the locked sector when
// it is written; one that no longer fits (the lease moved to another
// worker, the sector was aborted meanwhile) is dropped, and only its
// history line is lost.

// errReportRefused marks a queued report its Validate refused.
var errReportRefused = errors.New("store: queued report refused")

// QueuedReport is a state report the manager accepted and writes later.
type QueuedReport struct {
	Report StateReport
	// CPU is the CPU seconds per stage the step used (usage rows).
	CPU map[string]float64
	// Check runs on the locked sector before the report is written (the
	// manager checks the caller's claim on it); its error drops the report.
	Check func(Sector) error
	// Validate checks a report that is not a resend against the stored
	// sector (the manager's state rules); its error drops the report.
	Validate func(Sector) error
	// At is when the manager accepted the report: the history line's time
	// and the start of the renewed lease.
	At time.Time
	// Retry marks a report handed to a call that failed: it may have been
	// written (a PostgreSQL group keeps a failed call's writes), so it is
	// written only if its history line is not there yet.
	Retry bool
}

// SectorReports is one sector's queued reports, oldest first.
type SectorReports struct {
	ID      SectorID
	Reports []QueuedReport
}

// applyReports writes a locked sector's queued reports in order and
// returns the sector as they leave it. Reports that fail their check, or
// arrive for an aborted sector, are dropped; dropped counts them.
func (d db) applyReports(ctx context.Context, sec Sector, qs []QueuedReport, ttl time.Duration) (out Sector, dropped int, err error) {
	ttl = AllocatePolicy{LeaseTTL: ttl}.withDefaults().LeaseTTL
	for _, q := range qs {
		if sec.Phase == PhaseAborted {
			dropped++
			continue
		}
		if q.Check != nil {
			if err := q.Check(sec); err != nil {
				dropped++
				continue
			}
		}
		r := q.Report
		r.ID = sec.ID
		if q.Retry {
			var one int
			err := d.queryRow(ctx, `SELECT 1 FROM sector_history WHERE miner_id = ? AND number = ? AND at_ms = ?
				AND prev_state = ? AND next_state = ? AND event = ? LIMIT 1`,
				int64(r.ID.Miner), int64(r.ID.Number), ms(q.At), r.Prev, r.Next, r.Event).Scan(&one)
			if err == nil {
				sec.State = r.Next // written by the failed call's group
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return sec, dropped, fmt.Errorf("store: report state of sector %s: %w", r.ID, err)
			}
		}
		var validate func(Sector) error
		if q.Validate != nil {
			validate = func(sec Sector) error {
				if err := q.Validate(sec); err != nil {
					return fmt.Errorf("%w: %w", errReportRefused, err)
				}
				return nil
			}
		}
		res, resend, err := d.applyReport(ctx, sec, r, q.CPU, q.At, ttl, validate)
		if errors.Is(err, errReportRefused) {
			dropped++
			continue
		}
		if err != nil {
			return sec, dropped, err
		}
		if !resend {
			sec.State, sec.LeaseExpires = r.Next, res.LeaseExpires
		}
	}
	return sec, dropped, nil
}

// applyReport records one state report on a locked, not aborted sector:
// the history line, the sector's state, the renewed lease and the usage
// rows. A report equal to the last history line (a worker resending after
// a restart) is a resend and records nothing. validate, when set, checks
// the report first; its error ends the call unchanged.
func (d db) applyReport(ctx context.Context, sec Sector, r StateReport, cpu map[string]float64, now time.Time, ttl time.Duration, validate func(Sector) error) (ReportResult, bool, error) {
	// The last line and the number of lines, in one round trip.
	var n int64
	var last HistoryEntry
	err := d.queryRow(ctx, `SELECT prev_state, next_state, event, worker_id,
		(SELECT COUNT(*) FROM sector_history WHERE miner_id = ? AND number = ?)
		FROM sector_history WHERE miner_id = ? AND number = ? ORDER BY id DESC LIMIT 1`,
		int64(r.ID.Miner), int64(r.ID.Number), int64(r.ID.Miner), int64(r.ID.Number)).Scan(&last.Prev, &last.Next, &last.Event, &last.WorkerID, &n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return ReportResult{}, false, fmt.Errorf("store: report state of sector %s: %w", r.ID, err)
	}
	if err == nil && last.Prev == r.Prev && last.Next == r.Next && last.Event == r.Event && last.WorkerID == sec.WorkerID {
		return ReportResult{Phase: sec.Phase, AbortReason: sec.AbortReason, LeaseExpires: sec.LeaseExpires}, true, nil
	}
	if validate != nil {
		if err := validate(sec); err != nil {
			return ReportResult{}, false, err
		}
	}
	r.WorkerID = sec.WorkerID
	res, err := d.report(ctx, sec, r, now, ttl)
	if err != nil {
		return ReportResult{}, false, err
	}
	for stage, secs := range cpu {
		if stage == "" || stage == StageAllocated || stage == StageFinalized || secs < 0 || math.IsNaN(secs) || math.IsInf(secs, 0) {
			continue // not billable: ignored, as a bad report line always was
		}
		if err := d.later(ctx, nil, `INSERT INTO usage_events (tenant_id, miner_id, number, stage, attempt, worker_id, cpu_seconds, bytes, at_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT (miner_id, number, stage, attempt) DO NOTHING`,
			sec.TenantID, int64(r.ID.Miner), int64(r.ID.Number), stage, n, r.WorkerID, secs, ms(now)); err != nil {
			return ReportResult{}, false, fmt.Errorf("store: report state of sector %s: usage: %w", r.ID, err)
		}
	}
	return res, false, nil
}

// WriteReports writes queued reports of many sectors: on PostgreSQL one
// call per sector lane, each in that lane's group transaction, on SQLite
// all in one transaction; the lanes' calls run at once. The caller keeps
// the sectors' own calls from running meanwhile (the manager's calls wait
// for reports in flight), so a flush takes no row lock a submission
// holds, which would otherwise be a lock cycle with a batch lane. Sectors are
// written in id order. failed holds the sectors of every lane call that
// failed: their reports were not written and may be written again (marked
// Retry). dropped counts the reports that no longer fit their sector (see
// applyReports) or whose sector is gone.
func (s *Store) WriteReports(ctx context.Context, batch []SectorReports, ttl time.Duration) (failed []SectorReports, dropped int, err error) {
	sort.Slice(batch, func(i, j int) bool { return batch[i].ID.less(batch[j].ID) })
	parts := map[int][]SectorReports{}
	for _, sr := range batch {
		lane := 0
		if s.lanes != nil {
			lane = sectorLane(sr.ID)
		}
		parts[lane] = append(parts[lane], sr)
	}
	lanes := make([]int, 0, len(parts))
	for lane := range parts {
		lanes = append(lanes, lane)
	}
	sort.Ints(lanes)
	type laneResult struct {
		n   int
		err error
	}
	results := make([]laneResult, len(lanes))
	var wg sync.WaitGroup
	for i, lane := range lanes {
		part := parts[lane]
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int
			werr := s.callTx(ctx, part[0].ID, sectorCall, func(d db) error {
				ctx := context.WithoutCancel(ctx) // see callTx
				n = 0
				for _, sr := range part {
					sec, err := d.getSector(ctx, sr.ID, true)
					if errors.Is(err, ErrNotFound) {
						n += len(sr.Reports)
						continue
					}
					if err != nil {
						return err
					}
					_, k, err := d.applyReports(ctx, sec, sr.Reports, ttl)
					if err != nil {
						return err
					}
					n += k
				}
				return nil
			})
			results[i] = laneResult{n, werr}
		}()
	}
	wg.Wait()
	for i, lane := range lanes {
		if r := results[i]; r.err != nil {
			failed = append(failed, parts[lane]...)
			err = errors.Join(err, fmt.Errorf("store: write queued reports: %w", r.err))
		} else {
			dropped += r.n
		}
	}
	return failed, dropped, err
}

func (a SectorID) less(b SectorID) bool {
	if a.Miner != b.Miner {
		return a.Miner < b.Miner
	}
	return a.Number < b.Number
}
