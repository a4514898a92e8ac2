package sectorfsm

import (
	"strconv"
	"strings"
)

// Duration is a span of time in nanoseconds, the same unit as
// time.Duration, so the runner converts with time.Duration(d). The package
// has its own type because it must not import time: durations are data the
// FSM computes, never a clock it reads.
type Duration int64

// Common durations.
const (
	Millisecond Duration = 1_000_000
	Second               = 1000 * Millisecond
	Minute               = 60 * Second
	Hour                 = 60 * Minute
)

// String formats d like time.Duration does for whole seconds ("1h2m3s",
// "30s", "0s"); sub-second durations are written in milliseconds or
// nanoseconds.
func (d Duration) String() string {
	if d < 0 {
		return "-" + (-d).String()
	}
	if d%Second != 0 {
		if d%Millisecond == 0 {
			return strconv.FormatInt(int64(d/Millisecond), 10) + "ms"
		}
		return strconv.FormatInt(int64(d), 10) + "ns"
	}
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	h, m, s := d/Hour, (d%Hour)/Minute, (d%Minute)/Second
	if h > 0 {
		b.WriteString(strconv.FormatInt(int64(h), 10) + "h")
	}
	if h > 0 || m > 0 {
		b.WriteString(strconv.FormatInt(int64(m), 10) + "m")
	}
	b.WriteString(strconv.FormatInt(int64(s), 10) + "s")
	return b.String()
}

// Action is I/O for the runner to perform, described as data. The runner
// persists the record returned by Step before running any of its actions
// ("persist, then act"), runs them in order, and feeds the result back as
// an event. Because a crash may happen after the persist and before or
// during an action, the runner may run any action more than once: every
// action must be idempotent at the edge, as each type's contract states.
//
// Per step, a working state yields exactly one action whose result drives
// the next step, and it is the last one; Yields lists the event kinds it
// may produce. Sleep yields Retry. Exit actions (ReportFinished,
// ReportAborted, Cleanup) yield nothing: the runner retries them until they
// succeed and then deletes the record.
type Action interface {
	// Name is the stable kebab-case name, used in logs and as the
	// default failure stage.
	Name() string
	// Yields lists the event kinds the runner may feed back after running
	// the action; nil for exit actions.
	Yields() []EventKind
	action()
}

// AllocateSector asks the manager for a sector to seal. Idempotent when the
// manager keys the allocation by worker thread: asking again after a crash
// must return the same sector, not allocate a second one.
type AllocateSector struct{}

// AcquirePieces asks the manager for the deals to pack. The manager must
// return the same pieces for a sector it has already matched.
type AcquirePieces struct{}

// AddPieces writes the staged file from the recorded pieces. It truncates and
// rewrites the file, so a partial earlier run is harmless.
type AddPieces struct{}

// BuildTreeD builds tree D over the staged file, overwriting any earlier
// output.
type BuildTreeD struct{}

// AssignTicket asks the manager for the ticket. The manager must return the
// ticket already assigned to the sector, if any.
type AssignTicket struct{}

// RunPC1 labels the SDR layers from the recorded ticket. It overwrites
// existing layer files; a layer is only trusted once PC1Done is recorded.
type RunPC1 struct{}

// RunPC2 builds tree C and tree R from the layers, overwriting earlier
// output. The sealed file is rewritten from the staged file.
type RunPC2 struct{}

// SubmitPreCommit sends the recorded CommR, CommD and ticket to the manager.
// A repeat with the same content is answered SubmitDuplicate (treated as
// accepted). Reset asks the manager to replace a failed earlier submission.
type SubmitPreCommit struct{ Reset bool }

// PollPreCommit asks the manager for the PreCommit's on-chain state. Read
// only.
type PollPreCommit struct{}

// WaitSeed asks the manager for the interactive seed. Read only; the answer
// is SeedAssigned or SeedNotReady.
type WaitSeed struct{}

// RunC1 computes the vanilla proofs from the recorded seed, overwriting any
// earlier output.
type RunC1 struct{}

// RunC2 computes the SNARK from the C1 output. Devnet says whether the
// sector belongs to a development network, where an in-process prover is
// acceptable; on a real network the edge must use an external C2 processor
// and, if none is configured, answer C2Unavailable instead of trying. Pure
// computation: rerunning it is safe.
type RunC2 struct{ Devnet bool }

// SubmitProof sends the recorded proof to the manager; repeats are answered
// SubmitDuplicate. Reset asks the manager to replace a failed submission.
type SubmitProof struct{ Reset bool }

// PollProof asks the manager for the proof's on-chain state. Read only.
type PollProof struct{}

// Finalize drops what the SP does not need (label layers, tree C, tree D
// and, for CC sectors, the staged file), moves the sealed file and the
// cache files (tree-r-last, p_aux, t_aux) into the thread's persist store
// in lotus layout, checksums them, and reports them to the manager
// (ReportFinalized). KeepUnsealed keeps the unsealed file of a data sector.
// Idempotent: files already moved are checksummed where they are, and a
// layer already dropped is not missed.
type Finalize struct{ KeepUnsealed bool }

// Deliver asks the manager where the sector goes and hands the finalized
// files over: uploaded to the SP's receiver, which is asked to verify them
// (architecture 2; the action does not wait for the verdict), or left in
// the provider's long-term store (architecture 1), then reports the
// delivery.
// Re-delivering the same files is harmless: the receiver and the manager
// compare checksums and answer SubmitDuplicate.
type Deliver struct{}

// ConfirmDelivery asks the manager whether the delivery was accepted and
// whether the worker may drop its copy (the manager's DeliveryStatus,
// which records nothing the worker claims). Read only; while there is no
// verdict the state machine sleeps and asks again, so it is the one
// poller of the verdict, and a restarted worker resumes waiting.
type ConfirmDelivery struct{}

// Sleep asks the runner to wait for Duration and then feed Retry. The FSM
// never reads a clock: the duration is computed from the record (retry
// count, policy) or taken from the manager. Why is a short label for logs.
// A process restart during the sleep simply reruns the action early.
type Sleep struct {
	Duration Duration
	Why      string
}

// ReportFinished tells the manager the sector is done. Exit action:
// repeated until it succeeds; the manager must accept repeats.
type ReportFinished struct{}

// ReportAborted tells the manager the sector was given up. Exit action;
// repeats must be accepted. It is a no-op for a record with no sector
// (aborted while Empty).
type ReportAborted struct{ Reason string }

// Cleanup deletes the sector's local sealing files. KeepPersisted keeps the
// finalized files in the persist store (the delivery has not allowed their
// removal). Exit action; deleting what is already gone is success.
type Cleanup struct{ KeepPersisted bool }

func (AllocateSector) Name() string  { return "allocate-sector" }
func (AcquirePieces) Name() string   { return "acquire-pieces" }
func (AddPieces) Name() string       { return "add-pieces" }
func (BuildTreeD) Name() string      { return "build-tree-d" }
func (AssignTicket) Name() string    { return "assign-ticket" }
func (RunPC1) Name() string          { return "run-pc1" }
func (RunPC2) Name() string          { return "run-pc2" }
func (SubmitPreCommit) Name() string { return "submit-precommit" }
func (PollPreCommit) Name() string   { return "poll-precommit" }
func (Deliver) Name() string         { return "deliver" }
func (WaitSeed) Name() string        { return "wait-seed" }
func (RunC1) Name() string           { return "run-c1" }
func (RunC2) Name() string           { return "run-c2" }
func (SubmitProof) Name() string     { return "submit-proof" }
func (PollProof) Name() string       { return "poll-proof" }
func (Finalize) Name() string        { return "finalize" }
func (ConfirmDelivery) Name() string { return "confirm-delivery" }
func (Sleep) Name() string           { return "sleep" }
func (ReportFinished) Name() string  { return "report-finished" }
func (ReportAborted) Name() string   { return "report-aborted" }
func (Cleanup) Name() string         { return "cleanup" }

// yields builds a Yields list: the given kinds plus KindFailure, which every
// work action may produce.
func yields(kinds ...EventKind) []EventKind { return append(kinds, KindFailure) }

func (AllocateSector) Yields() []EventKind  { return yields(KindAllocated, KindNoWork) }
func (AcquirePieces) Yields() []EventKind   { return yields(KindPiecesAcquired) }
func (AddPieces) Yields() []EventKind       { return yields(KindPiecesAdded) }
func (BuildTreeD) Yields() []EventKind      { return yields(KindTreeDBuilt) }
func (AssignTicket) Yields() []EventKind    { return yields(KindTicketAssigned) }
func (RunPC1) Yields() []EventKind          { return yields(KindPC1Done) }
func (RunPC2) Yields() []EventKind          { return yields(KindPC2Done) }
func (SubmitPreCommit) Yields() []EventKind { return yields(KindPreCommitSubmitted) }
func (PollPreCommit) Yields() []EventKind   { return yields(KindPreCommitState) }
func (Deliver) Yields() []EventKind         { return yields(KindDelivered) }
func (WaitSeed) Yields() []EventKind        { return yields(KindSeedAssigned, KindSeedNotReady) }
func (RunC1) Yields() []EventKind           { return yields(KindC1Done) }
func (RunC2) Yields() []EventKind           { return yields(KindC2Done, KindC2Unavailable) }
func (SubmitProof) Yields() []EventKind     { return yields(KindProofSubmitted) }
func (PollProof) Yields() []EventKind       { return yields(KindProofState) }
func (Finalize) Yields() []EventKind        { return yields(KindFinalized) }
func (ConfirmDelivery) Yields() []EventKind { return yields(KindDeliveryState) }
func (Sleep) Yields() []EventKind           { return []EventKind{KindRetry} }
func (ReportFinished) Yields() []EventKind  { return nil }
func (ReportAborted) Yields() []EventKind   { return nil }
func (Cleanup) Yields() []EventKind         { return nil }

func (AllocateSector) action()  {}
func (AcquirePieces) action()   {}
func (AddPieces) action()       {}
func (BuildTreeD) action()      {}
func (AssignTicket) action()    {}
func (RunPC1) action()          {}
func (RunPC2) action()          {}
func (SubmitPreCommit) action() {}
func (PollPreCommit) action()   {}
func (Deliver) action()         {}
func (WaitSeed) action()        {}
func (RunC1) action()           {}
func (RunC2) action()           {}
func (SubmitProof) action()     {}
func (PollProof) action()       {}
func (Finalize) action()        {}
func (ConfirmDelivery) action() {}
func (Sleep) action()           {}
func (ReportFinished) action()  {}
func (ReportAborted) action()   {}
func (Cleanup) action()         {}

// FormatAction renders an action as one line, its name followed by its
// parameters, for logs and golden files.
func FormatAction(a Action) string {
	switch a := a.(type) {
	case SubmitPreCommit:
		return a.Name() + " reset=" + strconv.FormatBool(a.Reset)
	case SubmitProof:
		return a.Name() + " reset=" + strconv.FormatBool(a.Reset)
	case RunC2:
		return a.Name() + " devnet=" + strconv.FormatBool(a.Devnet)
	case Sleep:
		return a.Name() + " " + a.Duration.String() + " (" + a.Why + ")"
	case ReportAborted:
		return a.Name() + " reason=" + strconv.Quote(a.Reason)
	case Finalize:
		return a.Name() + " keep-unsealed=" + strconv.FormatBool(a.KeepUnsealed)
	case Cleanup:
		return a.Name() + " keep-persisted=" + strconv.FormatBool(a.KeepPersisted)
	}
	return a.Name()
}
