package sectorfsm

import (
	"fmt"
	"slices"
)

// Policy holds the timing and retry limits the FSM turns into Sleep
// actions. Zero (or negative) fields take the DefaultPolicy value.
type Policy struct {
	// MaxRetries is how many temporary failures of one action, and how
	// many on-chain failures of one submission, are retried before the
	// sector pauses. Default 5.
	MaxRetries int
	// BackoffBase is the delay before the first retry; it doubles per
	// retry up to BackoffMax. Defaults 30s and 30m.
	BackoffBase, BackoffMax Duration
	// PollInterval separates on-chain state polls. Default 3m, damocles'
	// rpc_polling_interval.
	PollInterval Duration
	// ResubmitDelay precedes a resubmission after an on-chain failure.
	// Default 30s.
	ResubmitDelay Duration
	// IdleInterval separates allocation attempts while the manager has no
	// work. Default 30s.
	IdleInterval Duration
}

// DefaultPolicy returns the default limits.
func DefaultPolicy() Policy {
	return Policy{
		MaxRetries:    5,
		BackoffBase:   30 * Second,
		BackoffMax:    30 * Minute,
		PollInterval:  3 * Minute,
		ResubmitDelay: 30 * Second,
		IdleInterval:  30 * Second,
	}
}

func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if p.MaxRetries <= 0 {
		p.MaxRetries = d.MaxRetries
	}
	orDefault := func(v *Duration, def Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	orDefault(&p.BackoffBase, d.BackoffBase)
	orDefault(&p.BackoffMax, d.BackoffMax)
	orDefault(&p.PollInterval, d.PollInterval)
	orDefault(&p.ResubmitDelay, d.ResubmitDelay)
	orDefault(&p.IdleInterval, d.IdleInterval)
	return p
}

// Backoff returns the delay before retry number n (1-based):
// BackoffBase·2^(n-1), capped at BackoffMax.
func (p Policy) Backoff(n int) Duration {
	p = p.withDefaults()
	d := p.BackoffBase
	for i := 1; i < n && d < p.BackoffMax; i++ {
		d *= 2
	}
	return min(d, p.BackoffMax)
}

// Machine steps records under a Policy. It has no other state: one Machine
// may serve any number of sectors and goroutines.
type Machine struct{ Policy Policy }

// Step applies ev to rec under the default policy; see Machine.Step.
func Step(rec Record, ev Event) (Record, []Action, error) { return Machine{}.Step(rec, ev) }

// IllegalTransitionError reports an event the table does not allow in the
// record's state, or an operator resume to a state it may not enter (To).
// The record is unchanged.
type IllegalTransitionError struct {
	State State
	Event EventKind
	To    State // the requested resume state, for operator-resume only
}

// Error names the event, the state it was refused in and, for an
// operator resume, the requested target state.
func (e *IllegalTransitionError) Error() string {
	if e.To != 0 {
		return fmt.Sprintf("sectorfsm: event %s to %s not allowed in state %s", e.Event, e.To, e.State)
	}
	return fmt.Sprintf("sectorfsm: event %s not allowed in state %s", e.Event, e.State)
}

// Step applies ev to rec and returns the new record and the actions to run.
// It is pure: no I/O, no clock, no randomness; the same inputs always give
// the same outputs, and rec is never modified.
//
// On error the returned record is rec, unchanged, and there are no actions:
// *IllegalTransitionError when the table has no row for (rec.State,
// ev.Kind()) or a forced resume is not allowed, ErrBadEvent for a malformed
// payload, ErrVersion or ErrBadRecord for a record Step cannot trust.
func (m Machine) Step(rec Record, ev Event) (Record, []Action, error) {
	if err := rec.validate(); err != nil {
		return rec, nil, err
	}
	if ev == nil {
		return rec, nil, fmt.Errorf("%w: nil event", ErrBadEvent)
	}
	k := ev.Kind()
	r, ok := lookup(rec.State, k)
	if !ok || !r.allows(PathOf(rec)) {
		return rec, nil, &IllegalTransitionError{State: rec.State, Event: k}
	}
	if err := checkEvent(ev); err != nil {
		return rec, nil, fmt.Errorf("%w: %s in state %s: %v", ErrBadEvent, k, rec.State, err)
	}
	p := m.Policy.withDefaults()
	d := decide(rec, ev, p)
	if d.verdict == resume && !canResume(PathOf(rec), rec.PausedIn, d.to) {
		return rec, nil, &IllegalTransitionError{State: rec.State, Event: k, To: d.to}
	}
	next := rec.clone()
	next.Steps++
	return next, p.apply(&next, r, d, ev), nil
}

// decision is what decide makes of an event.
type decision struct {
	verdict verdict
	reason  string   // for retry, back, pause, abort
	stage   string   // failing stage if the event names one
	sleep   Duration // for wait
	why     string   // for wait: the Sleep label
	to      State    // for resume
}

// decide interprets ev against rec. Only here does an event's payload choose
// between the verdicts its kind allows (kindVerdicts).
func decide(rec Record, ev Event, p Policy) decision {
	switch e := ev.(type) {
	case NoWork:
		return decision{verdict: wait, sleep: p.IdleInterval, why: "no work"}
	case PC2Done:
		if e.CommD != rec.CommD {
			return decision{verdict: pause, reason: fmt.Sprintf(
				"pc2 comm_d %s differs from tree-d comm_d %s: the staged data changed", e.CommD, rec.CommD)}
		}
	case PreCommitSubmitted:
		return submitted("precommit", e.Result, e.Desc)
	case Delivered:
		return submitted("delivery", e.Result, e.Desc)
	case DeliveryState:
		switch e.Status {
		case DeliveryPending:
			return decision{verdict: wait, sleep: p.PollInterval, why: "delivery pending"}
		case DeliveryRejected:
			return decision{verdict: pause, reason: "delivery rejected: " + e.Desc +
				"; fix the files or the receiver, then resume (or abort) the sector"}
		}
	case ProofSubmitted:
		return submitted("proof", e.Result, e.Desc)
	case PreCommitState:
		return onChain("precommit", e.State, e.Desc, p)
	case ProofState:
		return onChain("proof", e.State, e.Desc, p)
	case SeedNotReady:
		d := e.Delay
		if d == 0 {
			d = p.PollInterval
		}
		return decision{verdict: wait, sleep: d, why: "seed not ready"}
	case C2Unavailable:
		return decision{verdict: pause, stage: "run-c2", reason: "c2 unavailable: " + e.Reason +
			"; a real network needs an external c2 processor: configure one, then resume the sector"}
	case Failure:
		d := decision{verdict: pause, stage: e.Stage, reason: e.Reason}
		switch e.Level {
		case LevelTemporary:
			d.verdict = retry
		case LevelAbort:
			d.verdict = abort
		}
		return d
	case Retry, Restart:
		return decision{verdict: rerun}
	case OperatorResume:
		to := e.To
		if to == 0 {
			to = rec.PausedIn
		}
		return decision{verdict: resume, to: to}
	case OperatorAbort:
		reason := "aborted by operator"
		if e.Reason != "" {
			reason += ": " + e.Reason
		}
		return decision{verdict: abort, stage: "operator", reason: reason}
	}
	return decision{verdict: advance}
}

// submitted maps a manager's SubmitResult (damocles semantics).
func submitted(what string, r SubmitResult, desc string) decision {
	switch r {
	case SubmitAccepted, SubmitDuplicate:
		return decision{verdict: advance}
	case SubmitFilesMissed:
		return decision{verdict: retry, reason: what + " submit: files missed: " + desc}
	}
	return decision{verdict: pause, reason: fmt.Sprintf("%s submit %s: %s", what, r, desc)}
}

// onChain maps a polled OnChainState (damocles semantics).
func onChain(what string, s OnChainState, desc string, p Policy) decision {
	switch s {
	case ChainPending, ChainPacked:
		return decision{verdict: wait, sleep: p.PollInterval, why: what + " " + s.String()}
	case ChainLanded:
		return decision{verdict: advance}
	case ChainFailed:
		return decision{verdict: back, reason: what + " failed on chain: " + desc}
	case ChainShouldAbort:
		return decision{verdict: abort, reason: what + " will never land: " + desc}
	}
	return decision{verdict: pause, reason: fmt.Sprintf("%s on-chain state %s: %s", what, s, desc)}
}

// apply carries out decision d on next (a private copy) and returns the
// actions. from is the state before the step.
func (p Policy) apply(next *Record, r row, d decision, ev Event) []Action {
	from := next.State
	fault := func(l Level, reason string) *Fault {
		stage := d.stage
		if stage == "" && from.Working() {
			stage = nextActions(*next)[0].Name()
		}
		st := from
		if st == StatePaused {
			st = next.PausedIn
		}
		return &Fault{Level: l, State: st, Stage: stage, Reason: reason}
	}
	pauseWith := func(f *Fault) []Action {
		f.Level = LevelPermanent
		next.Failure = f
		next.PausedIn = from
		next.State = StatePaused
		return nil
	}
	switch d.verdict {
	case advance:
		recordFact(next, ev)
		next.State = r.To
		next.Retries = 0
		next.Failure = nil
	case wait:
		return []Action{Sleep{Duration: d.sleep, Why: d.why}}
	case retry:
		next.Retries++
		f := fault(LevelTemporary, d.reason)
		if next.Retries > p.MaxRetries {
			f.Reason = fmt.Sprintf("gave up after %d attempts: %s", next.Retries, d.reason)
			return pauseWith(f)
		}
		next.Failure = f
		return []Action{Sleep{Duration: p.Backoff(next.Retries), Why: "backoff"}}
	case back:
		sub := &next.PreCommit
		if r.On == KindProofState {
			sub = &next.ProofSubmit
		}
		sub.Resubmits++
		f := fault(LevelTemporary, d.reason)
		if sub.Resubmits > p.MaxRetries {
			f.Reason = fmt.Sprintf("gave up after %d resubmissions: %s", sub.Resubmits, d.reason)
			return pauseWith(f)
		}
		sub.Accepted, sub.Reset = false, true
		next.Failure = f
		next.State = r.Back
		return []Action{Sleep{Duration: p.ResubmitDelay, Why: "resubmit"}}
	case pause:
		return pauseWith(fault(LevelPermanent, d.reason))
	case abort:
		next.Failure = fault(LevelAbort, d.reason)
		next.AbortReason = d.reason
		next.PausedIn = 0
		next.State = StateAborted
	case resume:
		resumeInto(next, d.to)
	}
	// advance, rerun, abort and resume all (re-)enter a state.
	return nextActions(*next)
}

// resumeInto leaves Paused for state to. A forced move back before a
// submission marks it for reset, since the content will be recomputed and
// the manager must accept a replacement.
func resumeInto(next *Record, to State) {
	i := mainIndex(to)
	if i <= mainIndex(StatePC2Done) && next.PreCommit.Accepted {
		next.PreCommit.Accepted, next.PreCommit.Reset = false, true
	}
	if i <= mainIndex(StateC2Done) && next.ProofSubmit.Accepted {
		next.ProofSubmit.Accepted, next.ProofSubmit.Reset = false, true
	}
	next.State = to
	next.PausedIn = 0
	next.Retries = 0
	next.PreCommit.Resubmits = 0
	next.ProofSubmit.Resubmits = 0
}

// recordFact copies the fact an advancing event establishes into the record.
func recordFact(next *Record, ev Event) {
	switch e := ev.(type) {
	case Allocated:
		next.Sector, next.ProofType, next.Devnet = e.Sector, e.ProofType, e.Devnet
	case PiecesAcquired:
		next.Pieces = slices.Clone(e.Pieces)
	case TreeDBuilt:
		next.CommD = e.CommD
	case TicketAssigned:
		next.Ticket = e.Ticket
	case PC2Done:
		next.CommR, next.CommC, next.CommRLast = e.CommR, e.CommC, e.CommRLast
	case PreCommitSubmitted:
		next.PreCommit.Accepted, next.PreCommit.Reset = true, false
	case SeedAssigned:
		next.Seed = e.Seed
	case C2Done:
		next.Proof = slices.Clone(e.Proof)
	case ProofSubmitted:
		next.ProofSubmit.Accepted, next.ProofSubmit.Reset = true, false
	case Finalized:
		next.Location = e.Location
		next.Files = slices.Clone(e.Files)
	case DeliveryState:
		next.MayCleanUp = e.MayCleanUp
	}
}

// nextActions returns what to do in rec's state: for a working state the one
// action that achieves the next fact, for a terminal state its exit
// actions, for Paused nothing. Restart and Retry return exactly this, which
// is why a restart resumes work where it stopped.
func nextActions(rec Record) []Action {
	var a Action
	switch rec.State {
	case StateEmpty:
		a = AllocateSector{}
	case StateAllocated:
		a = AcquirePieces{}
	case StatePiecesAcquired:
		a = AddPieces{}
	case StatePiecesAdded:
		a = BuildTreeD{}
	case StateTreeDBuilt:
		a = AssignTicket{}
	case StateTicketAssigned:
		a = RunPC1{}
	case StatePC1Done:
		a = RunPC2{}
	case StatePC2Done:
		if PathOf(rec) == PathNI {
			a = RunC1{} // NI-PoRep: no PreCommit, no seed
		} else {
			a = SubmitPreCommit{Reset: rec.PreCommit.Reset}
		}
	case StatePreCommitSubmitted:
		a = PollPreCommit{}
	case StatePreCommitLanded:
		a = WaitSeed{}
	case StateSeedAssigned:
		a = RunC1{}
	case StateC1Done:
		a = RunC2{Devnet: rec.Devnet}
	case StateC2Done:
		a = SubmitProof{Reset: rec.ProofSubmit.Reset}
	case StateProofSubmitted:
		a = PollProof{}
	case StateProofLanded:
		a = Finalize{KeepUnsealed: len(rec.Pieces) > 0}
	case StateFinalized:
		a = Deliver{}
	case StateDelivered:
		a = ConfirmDelivery{}
	case StateFinished:
		return []Action{ReportFinished{}, Cleanup{KeepPersisted: !rec.MayCleanUp}}
	case StateAborted:
		// An aborted sector may have landed on chain (e.g. its delivery was
		// rejected and the operator gave up): its finalized files are the
		// only copy, so they are never deleted automatically.
		return []Action{ReportAborted{Reason: rec.AbortReason}, Cleanup{KeepPersisted: true}}
	default: // StatePaused waits for the operator
		return nil
	}
	return []Action{a}
}
