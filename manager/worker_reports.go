package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/store"
	"github.com/sealant/sealant/worker/sectorfsm"
)

// ReportState records a worker state change: the sector's history line
// and state, its renewed lease and the CPU time the step used (metering).
// A report equal to the last one (a resend after a worker restart)
// records nothing. The answer carries an abort order when the sector was
// aborted: one made through this manager at once, one made by the
// pipeline or another manager within the poll cache's TTL (the worker
// also learns it from its next poll or submission).
//
// A report is information (the worker's own record is the truth), so it
// does not cost a transaction of its own: it is checked against the
// sector as this manager knows it (the poll cache and the reports queued
// before it) and queued, and written with the sector's next call that
// writes anyway, or with other sectors' reports within
// Options.ReportFlush (see reportQueue). With ReportFlush negative it is
// written at once, in one transaction.
func (s *Service) ReportState(ctx context.Context, id api.SectorID, r api.StateReport) (api.ReportStateResponse, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return api.ReportStateResponse{}, err
	}
	sid := toStoreID(id)
	rep := store.StateReport{ID: sid, Prev: r.Prev, Next: r.Next, Event: r.Event}
	if r.Failure != nil {
		rep.Failure = &store.Failure{Level: string(r.Failure.Level), Desc: r.Failure.Desc}
	}
	validate := func(sec store.Sector) error {
		if err := checkReport(sec.State, r); err != nil {
			return fmt.Errorf("sector %s: %w", sec.ID, err)
		}
		return nil
	}
	if s.reports == nil {
		return s.writeReport(ctx, rep, r.CPUSeconds, validate)
	}
	sec, err := s.pollSector(ctx, id)
	if err != nil {
		return api.ReportStateResponse{}, err
	}
	if sec.Phase == store.PhaseAborted {
		return api.ReportStateResponse{AbortReason: nonEmpty(sec.AbortReason, "aborted")}, nil
	}
	state := sec.State
	if last, ok := s.reports.last(sid); ok {
		lr := last.Report
		if lr.Prev == rep.Prev && lr.Next == rep.Next && lr.Event == rep.Event {
			return api.ReportStateResponse{}, nil // a resend of a queued report
		}
		state = lr.Next
	}
	// A report whose Next is the known state may be a resend of the last
	// written one (the store tells when it writes), so it is not refused
	// for coming from behind; anything else must fit, and names and levels
	// must be valid in any case.
	if err := checkReport(state, r); err != nil && !(r.Next == state && errors.Is(err, ErrConflict)) {
		return api.ReportStateResponse{}, fmt.Errorf("sector %s: %w", sid, err)
	}
	q := store.QueuedReport{Report: rep, CPU: r.CPUSeconds, Check: c.mayWork, Validate: validate, At: s.now()}
	if s.reports.add(sid, q) {
		if err := s.reports.writeSector(ctx, sid); err != nil {
			return api.ReportStateResponse{}, mapStoreErr(err)
		}
	}
	return api.ReportStateResponse{}, nil
}

// writeReport is ReportState in one transaction of its own.
func (s *Service) writeReport(ctx context.Context, rep store.StateReport, cpu map[string]float64, validate func(store.Sector) error) (api.ReportStateResponse, error) {
	h, err := s.holderFor(ctx, rep.ID)
	if err != nil {
		return api.ReportStateResponse{}, err
	}
	res, err := s.st.WorkerReport(ctx, h, rep, cpu, validate)
	s.settle(rep.ID, h, err)
	if err != nil {
		return api.ReportStateResponse{}, mapStoreErr(err)
	}
	s.sectors.forget(rep.ID)
	if res.Phase == store.PhaseAborted {
		return api.ReportStateResponse{AbortReason: nonEmpty(res.AbortReason, "aborted")}, nil
	}
	return api.ReportStateResponse{}, nil
}

// ReportFinalized marks the sector finalized (its lease ends), records where
// its files are, and opens its delivery record, in one transaction.
func (s *Service) ReportFinalized(ctx context.Context, id api.SectorID, fi api.FinalizedInfo) (struct{}, error) {
	files, err := json.Marshal(fi.Files)
	if err != nil {
		return struct{}{}, fmt.Errorf("%w: files: %v", ErrInvalid, err)
	}
	sid := toStoreID(id)
	h, err := s.holderFor(ctx, sid)
	if err != nil {
		return struct{}{}, err
	}
	sec, target, err := s.st.WorkerFinalize(ctx, sid, h, fi.Location, string(files), s.delivery.StorePath)
	s.settle(sid, h, err)
	if err != nil {
		return struct{}{}, mapStoreErr(err)
	}
	s.sectors.forget(sid)
	s.log.Info("sector finalized", "sector", sid, "tenant", sec.TenantID, "worker", sec.WorkerID)
	if target != "" {
		// Architecture 2: the metadata goes to the receiver now, while the
		// worker starts its transfer (the receiver verifies once both are
		// there).
		s.wakeHandoff()
	}
	return struct{}{}, nil
}

// ReportAborted records that the worker gave the sector up. Its number
// stays used. Idempotent. One transaction.
func (s *Service) ReportAborted(ctx context.Context, id api.SectorID, reason string) (struct{}, error) {
	sid := toStoreID(id)
	h, err := s.holderFor(ctx, sid)
	if err != nil {
		return struct{}{}, err
	}
	err = s.st.WorkerAbort(ctx, sid, h, nonEmpty(reason, "aborted by worker"))
	s.settle(sid, h, err)
	if err != nil {
		return struct{}{}, mapStoreErr(err)
	}
	s.sectors.forget(sid)
	s.log.Info("sector aborted by worker", "sector", sid, "reason", reason)
	return struct{}{}, nil
}

// WorkerPing records a worker's heartbeat and hands it the operator's
// pending pause/resume orders (each delivered once). Heartbeats are
// information (the worker is the authority on its own threads), so they
// are kept in memory and written together now and then (see heartbeats).
func (s *Service) WorkerPing(ctx context.Context, p api.WorkerPing) (api.WorkerPingResponse, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return api.WorkerPingResponse{}, err
	}
	name := nonEmpty(p.Worker, c.subject)
	if name != c.subject {
		return api.WorkerPingResponse{}, fmt.Errorf("%w: token is for worker %q, not %q", ErrPermission, c.subject, name)
	}
	now := s.now()
	info := api.WorkerInfo{Name: name, Version: p.Version, AdminURL: p.AdminURL, LastSeen: now, Threads: p.Threads}
	s.cmdMu.Lock()
	var resp api.WorkerPingResponse
	if tc := s.commands[name]; tc != nil {
		resp.Pause, resp.Resume = tc.pause, tc.resume
		delete(s.commands, name)
	}
	s.cmdMu.Unlock()
	if err := s.beats.note(ctx, info); err != nil {
		return api.WorkerPingResponse{}, err
	}
	return resp, nil
}

// checkReport validates a state report against the worker state machine's
// names and the stored state. Prev and Next must be state names. Prev
// normally equals the stored state; reports are best effort, so after a
// lost report Prev may be ahead of it (the worker's machine is the
// authority going forward), but a Prev behind the stored state is a stale
// or replayed report and is refused. Paused and Aborted can be entered
// from, and left to, any state.
func checkReport(stored string, r api.StateReport) error {
	prev, err := sectorfsm.ParseState(r.Prev)
	if err != nil {
		return fmt.Errorf("%w: prev: %v", ErrInvalid, err)
	}
	if _, err := sectorfsm.ParseState(r.Next); err != nil {
		return fmt.Errorf("%w: next: %v", ErrInvalid, err)
	}
	if r.Failure != nil {
		switch r.Failure.Level {
		case api.FailureTemporary, api.FailureAbort, api.FailurePermanent:
		default:
			return fmt.Errorf("%w: failure level %q", ErrInvalid, r.Failure.Level)
		}
	}
	cur, err := sectorfsm.ParseState(stored)
	if stored == "" || err != nil {
		return nil // nothing reported yet (or a name from an older version)
	}
	special := func(s sectorfsm.State) bool { return s == sectorfsm.StatePaused || s == sectorfsm.StateAborted }
	if prev < cur && !special(prev) && !special(cur) {
		return fmt.Errorf("%w: report from %s, but the sector is already in %s", ErrConflict, prev, cur)
	}
	return nil
}
