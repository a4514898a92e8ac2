package store

import (
	"context"
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
	err := s.callTx(ctx, r.ID, sectorCall, func(d db) error {
		ctx := context.WithoutCancel(ctx) // see callTx
		sec, err := d.lockFor(ctx, r.ID, h)
		if err != nil {
			return err
		}
		out = ReportOutcome{ReportResult: ReportResult{Phase: sec.Phase, AbortReason: sec.AbortReason, LeaseExpires: sec.LeaseExpires}}
		if sec.Phase == PhaseAborted {
			return nil
		}
		out.ReportResult, out.Resend, err = d.applyReport(ctx, sec, r, cpu, h.Now, ttl, validate)
		return err
	})
	return out, err
}
