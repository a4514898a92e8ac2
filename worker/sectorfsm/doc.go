// Package sectorfsm is the state machine of one sealing thread: the pure
// core that decides what a worker does next with its sector. It performs no
// I/O, reads no clock or environment and starts no goroutines (imports are
// checked by a test), so every decision is deterministic and testable
// without disks, chains or GPUs. The I/O lives at the edge, in a runner
// that is not part of this package.
//
// # Model
//
// The design follows etcd raft's pure core (Step in, data out) and
// damocles-worker's sealing planner (one table; states name facts):
//
//	Step(rec Record, ev Event) (Record, []Action, error)
//
// Its parts:
//
//   - A State names the last fact achieved (PC1Done, PreCommitLanded), never
//     an activity. Each working state has exactly one next action (RunPC2,
//     PollPreCommit …), so a restarted worker re-enters the stored state
//     and reruns that action: Restart returns it.
//   - An Event is a typed result fed back by the runner (PC2Done{CommR …},
//     PreCommitState{Landed}), or an input from the operator or the process
//     (OperatorResume, Restart). Chain and manager answers use damocles'
//     SubmitResult and OnChainState semantics.
//   - An Action is data describing the next I/O. Waiting is data too: the
//     FSM emits Sleep{Duration} computed from the retry count or taken from
//     the manager, and the runner feeds Retry when it has elapsed. Time is
//     an input, as in raft's Tick.
//   - The table (table.go) maps (state, event kind) to a row; the event's
//     payload then picks one of the verdicts its kind allows (advance,
//     wait, retry, back, pause, abort, rerun, resume), which the row turns
//     into a target state. Every pair not in the table is an
//     *IllegalTransitionError and leaves the record unchanged. Operator
//     moves use the same table: OperatorResume is a row of Paused, and a
//     forced resume may only go back along the table's main line.
//     docs/sector-states.md is generated from the table and checked by a
//     test, so the picture cannot drift from the code.
//
// # Failures
//
// A Failure event carries a Level. Temporary retries the same action after
// BackoffBase·2^(n-1) (capped), and pauses after Policy.MaxRetries.
// Permanent pauses: the sector moves to Paused, PausedIn remembers where,
// and OperatorResume re-enters that state (or an earlier one) with a fresh
// retry budget. Abort ends in Aborted with ReportAborted and Cleanup.
// Manager answers map onto the same levels: a mismatched or rejected
// submission pauses, FilesMissed retries, an on-chain Failed goes back one
// state to resubmit with reset, PermFailed and NotFound pause, ShouldAbort
// aborts. C2Unavailable — the edge's verdict that a real-network sector has
// no C2 processor — pauses with a message naming the fix.
//
// # Runner contract: persist, then act
//
// A runner drives one record:
//
//	rec, acts, err := m.Step(rec, ev)
//	// 1. persist rec (atomically: it holds everything, see Record)
//	// 2. report the transition to the manager (best effort)
//	// 3. run acts in order; the last one yields the next event
//
// The record must be durable before any action starts, as raft persists
// HardState before sending messages; otherwise a crash could lose a fact
// that the outside world (the manager, the chain) has already seen. The
// converse is what the runner must tolerate: a crash after persisting and
// before an action completes makes it run again after Restart, so every
// action is idempotent at the edge (each Action type documents how).
//
// Per step, a working state yields exactly one action with a result, and
// it comes last; Action.Yields lists the event kinds it may produce, and
// any error becomes a Failure with a level the edge chooses. Terminal
// states emit exit actions (ReportFinished or ReportAborted, then Cleanup)
// that yield nothing: the runner repeats them until they succeed, feeding
// Restart if it restarts, and then deletes the record. Paused emits
// nothing. An error from Step means the runner or edge produced an event
// the table does not allow: log it and wait for the next real event or an
// operator, never bypass the table.
//
// # Finalize and delivery after the proof
//
// Once the ProveCommit lands (ProofLanded) the sector is active, so the
// thread finalizes it: Finalize drops the label layers, tree C and tree D,
// keeps the sealed file and cache/{tree-r-last, p_aux, t_aux} (plus the
// unsealed file of a data sector), moves them into the thread's persist
// store in lotus layout with SHA-256 checksums and reports them
// (Finalized). Deliver then hands exactly those files to wherever the
// manager says the sector goes (the SP's receiver, or the provider's own
// store), asks the SP's receiver to verify them without waiting, and
// reports it (Delivered); ConfirmDelivery polls until the manager confirms
// the verdict (Finished) and says whether the worker may delete its
// copy (Record.MayCleanUp, used by the Cleanup exit action). Delivering
// after the proof, not during the seed wait as damocles persists, means an
// SP never receives files of a sector that failed to prove.
//
// # Persistence
//
// Record is a versioned JSON document (Version, CurrentVersion). States
// and enums are stored by name, never by number, and unknown names or
// fields are decode errors. Decode runs the migrations registered in
// record.go (migrations[v] upgrades version v to v+1) before decoding, so
// a state can be renamed or retired by a migration instead of living
// forever as in lotus' sector_state.go.
package sectorfsm

//go:generate go test -run TestStateDoc -update .
