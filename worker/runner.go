package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/worker/sectorfsm"
)

// Thread runs one sealing thread: a thin loop around sectorfsm.Step.
//
//	load record → Step(Restart) → loop {
//	    persist record (fsync) and append to the event log
//	    report the transition to the manager (best effort)
//	    run the actions; the last one's result is the next event
//	}
//
// Persist, then act (shared/style.md §1): a crash at any point re-enters
// the stored state and reruns its idempotent action.
type Thread struct {
	Name    string
	Manager string
	exec    *Executor
	machine sectorfsm.Machine
	log     *slog.Logger
	// reload re-reads the thread's settings before each new sector.
	reload func() (Sealing, error)

	cmds chan command

	// meter attributes process CPU time to compute actions; cpu holds the
	// last action's usage until it is reported with its transition.
	meter *cpuMeter
	cpu   map[string]float64

	mu     sync.Mutex
	rec    sectorfsm.Record
	stage  string
	since  time.Time
	lastEr string
}

type command struct {
	pause  bool
	resume bool
	to     sectorfsm.State
	abort  string
	done   chan error
}

// Info is the thread's status for the admin API and WorkerPing.
func (t *Thread) Info() api.ThreadInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	info := api.ThreadInfo{Name: t.Name, State: t.rec.State.String(), Stage: t.stage, Paused: t.rec.State == sectorfsm.StatePaused,
		Since: t.since, Manager: t.Manager, Error: t.lastEr}
	if t.rec.Sector != (sectorfsm.SectorID{}) {
		id := apiID(t.rec.Sector)
		info.Sector = &id
	}
	if info.Paused && t.rec.Failure != nil {
		info.Error = t.rec.Failure.Reason
		info.Stage = t.rec.PausedIn.String()
	}
	return info
}

// Pause stops the thread at its current state (a permanent failure
// through the table), interrupting the action in flight.
func (t *Thread) Pause(ctx context.Context) error { return t.send(ctx, command{pause: true}) }

// Resume resumes a paused thread, optionally forcing an earlier state.
func (t *Thread) Resume(ctx context.Context, to sectorfsm.State) error {
	return t.send(ctx, command{resume: true, to: to})
}

// Abort gives up the thread's sector.
func (t *Thread) Abort(ctx context.Context, reason string) error {
	return t.send(ctx, command{abort: reason})
}

func (t *Thread) send(ctx context.Context, c command) error {
	c.done = make(chan error, 1)
	select {
	case t.cmds <- c:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c command) event() sectorfsm.Event {
	switch {
	case c.pause:
		return sectorfsm.Failure{Level: sectorfsm.LevelPermanent, Stage: "operator", Reason: "paused by operator"}
	case c.resume:
		return sectorfsm.OperatorResume{To: c.to}
	}
	return sectorfsm.OperatorAbort{Reason: c.abort}
}

func (t *Thread) setStage(s string) {
	t.mu.Lock()
	t.stage = s
	t.mu.Unlock()
}

// Run drives the thread until ctx ends. It returns only ctx's error or an
// unrecoverable store error.
func (t *Thread) Run(ctx context.Context) error {
	rec, err := t.exec.Store.Load()
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.rec, t.since = rec, time.Now()
	t.mu.Unlock()
	var ev sectorfsm.Event = sectorfsm.Restart{}
	var pending *command
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		next, acts, err := t.machine.Step(rec, ev)
		if pending != nil {
			pending.done <- err
			pending = nil
		}
		if err != nil {
			// The table refused the event: log it and wait for the next
			// real input (an operator command), never bypass the table.
			t.log.Error("state machine refused event", "sector", apiID(rec.Sector).String(), "event", ev.Kind(), "state", rec.State, "err", err)
			c, err := t.waitCommand(ctx)
			if err != nil {
				return err
			}
			ev, pending = c.event(), &c
			continue
		}
		if err := t.persist(rec, next, ev, acts); err != nil {
			return err
		}
		abortReason := t.report(ctx, rec, next, ev)
		rec = next
		if abortReason != "" && (rec.State.Working() || rec.State == sectorfsm.StatePaused) {
			ev = sectorfsm.OperatorAbort{Reason: "manager: " + abortReason}
			continue
		}
		switch {
		case rec.State.Terminal():
			if err := t.exit(ctx, rec, acts); err != nil {
				return err
			}
			rec = sectorfsm.New()
			t.mu.Lock()
			t.rec, t.since, t.stage = rec, time.Now(), ""
			t.mu.Unlock()
			if s, err := t.reload(); err != nil {
				t.log.Error("thread config not reloaded; keeping the previous one", "err", err)
			} else {
				t.exec.Sealing = s
				t.machine.Policy = s.Policy
			}
			ev = sectorfsm.Restart{}
		case len(acts) == 0: // paused
			c, err := t.waitCommand(ctx)
			if err != nil {
				return err
			}
			ev, pending = c.event(), &c
		default:
			ev, pending, err = t.act(ctx, rec, acts)
			if err != nil {
				return err
			}
		}
	}
}

func (t *Thread) waitCommand(ctx context.Context) (command, error) {
	select {
	case c := <-t.cmds:
		return c, nil
	case <-ctx.Done():
		return command{}, ctx.Err()
	}
}

// persist saves next durably and appends the transition to the event log.
func (t *Thread) persist(prev, next sectorfsm.Record, ev sectorfsm.Event, acts []sectorfsm.Action) error {
	if err := t.exec.Store.Save(next); err != nil {
		return err
	}
	detail, _ := json.Marshal(ev)
	e := LogEntry{Time: time.Now().UTC(), Step: next.Steps, Sector: next.Sector, From: prev.State.String(),
		To: next.State.String(), Event: ev.Kind().String(), Detail: detail}
	if string(detail) == "{}" {
		e.Detail = nil
	}
	for _, a := range acts {
		e.Actions = append(e.Actions, sectorfsm.FormatAction(a))
	}
	if next.Failure != nil && (prev.Failure == nil || *prev.Failure != *next.Failure) {
		e.Error = next.Failure.Reason
	}
	if err := t.exec.Store.Append(e); err != nil {
		// The record is what recovery needs; the log is history.
		t.log.Warn("event log append failed", "err", err)
	}
	t.mu.Lock()
	if prev.State != next.State {
		t.since = time.Now()
	}
	t.rec = next
	if next.Failure != nil {
		t.lastEr = next.Failure.Reason
	} else {
		t.lastEr = ""
	}
	t.mu.Unlock()
	return nil
}

// report sends the transition to the manager and returns an abort order.
func (t *Thread) report(ctx context.Context, prev, next sectorfsm.Record, ev sectorfsm.Event) string {
	if next.Sector == (sectorfsm.SectorID{}) || (prev.State == next.State && ev.Kind() != sectorfsm.KindFailure) {
		return ""
	}
	r := api.StateReport{Worker: t.exec.Worker, Thread: t.Name, Prev: prev.State.String(), Next: next.State.String(),
		Event: ev.Kind().String(), Stage: t.Info().Stage, CPUSeconds: t.cpu}
	t.cpu = nil
	if f := next.Failure; f != nil && ev.Kind() == sectorfsm.KindFailure {
		r.Failure = &api.Failure{Level: api.FailureLevel(f.Level.String()), Desc: f.Reason}
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := t.exec.Manager.ReportState(cctx, apiID(next.Sector), r)
	if err != nil {
		t.log.Debug("report state failed (ignored)", "err", err)
		return ""
	}
	return resp.AbortReason
}

// act runs a working state's action and returns the event it yields.
// Operator commands interrupt it. The action runs in its own goroutine so
// that commands are seen while it runs; act owns that goroutine and never
// returns before it has ended (a cancelled action is waited for).
func (t *Thread) act(ctx context.Context, rec sectorfsm.Record, acts []sectorfsm.Action) (sectorfsm.Event, *command, error) {
	a := acts[len(acts)-1]
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		ev  sectorfsm.Event
		err error
	}
	done := make(chan result, 1)
	go func() {
		if s, ok := a.(sectorfsm.Sleep); ok {
			timer := time.NewTimer(time.Duration(s.Duration))
			defer timer.Stop()
			select {
			case <-timer.C:
				done <- result{ev: sectorfsm.Retry{}}
			case <-actx.Done():
				done <- result{err: actx.Err()}
			}
			return
		}
		stage, metered := meteredStages[a.Name()]
		var tk *cpuTicket
		if metered && t.meter != nil {
			tk = t.meter.start()
		}
		ev, err := t.exec.Do(actx, rec, a)
		if tk != nil {
			// Failed attempts are metered too: the CPU was spent.
			if t.cpu == nil {
				t.cpu = map[string]float64{}
			}
			t.cpu[stage] += t.meter.stop(tk).Seconds()
		}
		done <- result{ev, err}
	}()
	select {
	case r := <-done:
		t.setStage("")
		if r.err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			err := &StageError{Sector: rec.Sector, Stage: a.Name(), Err: r.err}
			t.log.Warn("action failed", "stage", a.Name(), "sector", apiID(rec.Sector).String(), "err", r.err)
			return sectorfsm.Failure{Level: Level(r.err), Stage: a.Name(), Reason: err.Error()}, nil, nil
		}
		if r.ev == nil {
			return nil, nil, fmt.Errorf("worker: action %s yielded no event", a.Name())
		}
		return r.ev, nil, nil
	case c := <-t.cmds:
		if c.resume {
			c.done <- errors.New("worker: thread is not paused")
			// keep waiting for the action
			r := <-done
			if r.err != nil {
				return sectorfsm.Failure{Level: Level(r.err), Stage: a.Name(), Reason: r.err.Error()}, nil, nil
			}
			return r.ev, nil, nil
		}
		cancel()
		<-done
		return c.event(), &c, nil
	case <-ctx.Done():
		cancel()
		<-done
		return nil, nil, ctx.Err()
	}
}

// exit runs a terminal state's exit actions until each succeeds, then
// resets the store for the next sector.
func (t *Thread) exit(ctx context.Context, rec sectorfsm.Record, acts []sectorfsm.Action) error {
	for _, a := range acts {
		for attempt := 1; ; attempt++ {
			_, err := t.exec.Do(ctx, rec, a)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			d := time.Duration(t.machine.Policy.Backoff(attempt))
			t.log.Warn("exit action failed; retrying", "sector", apiID(rec.Sector).String(), "stage", a.Name(), "in", d, "err", err)
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return t.exec.Store.Reset(rec.Sector)
}
