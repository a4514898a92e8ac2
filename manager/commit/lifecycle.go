package commit

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

// This file and lifecycle_table.go are the batch lifecycle as a pure state
// machine, in the style of worker/sectorfsm and etcd raft: Plan(facts)
// returns the next actions as values, with no store, chain, clock or
// goroutine. The runner (apply.go) gathers the facts, calls Plan, carries
// out the actions and feeds what they learn back in as facts, until Plan
// waits or the batch is done. docs/batch-states.md is generated from the
// table (TestBatchStateDoc).

// State is what a batch has achieved, as the store records it: a restart
// derives it again from the store (StateOf), so every state names a durable
// fact and resuming means planning from it again.
type State uint8

// Batch states, in lifecycle order.
const (
	_ State = iota
	// StateOpen: the batch takes sectors.
	StateOpen
	// StateClosed: frozen; no message yet.
	StateClosed
	// StateReserved: a nonce is reserved for its message but the message
	// bytes are not stored (a crash in between).
	StateReserved
	// StatePrepared: the unsigned message is stored under the nonce.
	StatePrepared
	// StateSigned: the signed message's CID is recorded.
	StateSigned
	// StatePushed: the message is in the mpool and followed on chain.
	StatePushed
	// StateLanded: the message executed with exit code 0 (terminal).
	StateLanded
	// StateFailed: the batch released its sectors: its message failed on
	// chain or was abandoned, or the batch was given up unsent (terminal).
	StateFailed
	numStates
)

var stateNames = [...]string{"", "Open", "Closed", "Reserved", "Prepared", "Signed", "Pushed", "Landed", "Failed"}

// String names the state.
func (s State) String() string {
	if s > 0 && s < numStates {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Terminal reports whether nothing more happens to a batch in s.
func (s State) Terminal() bool { return s == StateLanded || s == StateFailed }

// States lists every state in lifecycle order.
func States() []State {
	out := make([]State, 0, numStates-1)
	for s := StateOpen; s < numStates; s++ {
		out = append(out, s)
	}
	return out
}

// StateOf derives a stored batch's state from its row and its message.
func StateOf(b store.Batch) State {
	switch b.State {
	case store.BatchOpen:
		return StateOpen
	case store.BatchLanded:
		return StateLanded
	case store.BatchFailed:
		return StateFailed
	}
	m := b.Message
	if m == nil {
		return StateClosed
	}
	switch m.State {
	case store.MsgPending:
		if m.Unsigned == nil {
			return StateReserved
		}
		return StatePrepared
	case store.MsgSigned:
		return StateSigned
	case store.MsgPushed:
		return StatePushed
	case store.MsgLanded:
		if m.ExitCode != nil && *m.ExitCode != 0 {
			return StateFailed
		}
		return StateLanded
	}
	return StateFailed
}

// Facts is everything Plan may look at for one batch. The runner fills the
// durable part from the store and its memory before the first Plan of a
// pass; the pointer fields are answers to Plan's gathering actions (nil:
// not asked yet in this pass).
type Facts struct {
	State   State
	Kind    store.BatchKind
	Members []store.SectorID
	// From and Nonce are the reserved message's sender and nonce (Reserved
	// and later).
	From  string
	Nonce uint64

	Now  time.Time
	Head types.ChainEpoch
	// Close is the open batch's closing input (StateOpen).
	Close CloseInput
	// Confidence is how deep a receipt must be before it is recorded.
	Confidence types.ChainEpoch

	// Precheck answers ActPrecheck: every member's verdict, in member
	// order.
	Precheck []MemberCheck
	// Build answers ActBuild: how the built message fares.
	Build *BuildFacts
	// ReleaseRefused: an ActRelease in this pass was refused because the
	// batch holds a nonce that is not its sender's highest.
	ReleaseRefused bool

	// Sign is the state of this process's signing of the message.
	Sign SignFacts
	// RepushDue: a pushed message has been unseen on chain for
	// RepushAfter (or a re-push is still owed).
	RepushDue bool
	// Chain answers ActLookup: the message (or a replacement) on chain.
	Chain *ChainFacts
	// Push answers ActPush.
	Push *PushFacts
	// Culprits answers ActCulprits after a failed receipt: members a fresh
	// precheck finds certainly bad, with the reason (empty map: none).
	Culprits map[store.SectorID]string
}

// MemberCheck is one member's precheck.
type MemberCheck struct {
	ID    store.SectorID
	Check Check
	// ProofType is the sector's seal proof; NI its NI-PoRep path.
	ProofType int64
	NI        bool
}

// BuildFacts is what building and estimating the message found.
type BuildFacts struct {
	// EstimateErr is gas estimation's error ("" if it succeeded);
	// EstimateExit its exit code when the error carries one (see
	// EstimateExit), which predicts the on-chain failure.
	EstimateErr    string
	EstimateExit   types.ExitCode
	EstimateExitOK bool
	// GasLimit is the estimated gas limit; Fee the capped fee.
	GasLimit int64
	Fee      FeeDecision
	// Size is the message's size with room for a signature, Limit the
	// largest allowed.
	Size, Limit int
}

// SignFacts is what this process knows about signing the message. The
// signatures live in memory only; after a restart Have is false and the
// message is signed again (deterministically: same CID).
type SignFacts struct {
	// Have: this process holds the signed message.
	Have bool
	// AltCID: the held signature's CID differs from the recorded one (the
	// signer is not deterministic) and is not followed yet.
	AltCID bool
	// InFlight: a signing request is running.
	InFlight bool
	// Failed: the last request failed, at FailedAt, with Err; Refused when
	// the signer said no (asked again after RetryBackoff), otherwise it was
	// unavailable (asked again at once).
	Failed   bool
	Refused  bool
	FailedAt time.Time
	Err      string
	// RetryBackoff is the pause before a refused request is asked again.
	RetryBackoff time.Duration
	// NoSigner is non-empty when the tenant's signing route has no signer
	// configured: why.
	NoSigner string
}

// ChainFacts is a message search's answer.
type ChainFacts struct {
	Found bool
	// Height is the execution epoch, Exit and Return the receipt, CID the
	// message found (ours, or a gas-bumped replacement).
	Height types.ChainEpoch
	Exit   types.ExitCode
	Return []byte
	CID    string
}

// PushFacts is an MpoolPush's answer.
type PushFacts struct {
	Outcome PushOutcome
	// Err is the node's error ("" on success).
	Err string
}

// ActionKind names what an Action asks the runner to do.
type ActionKind uint8

// Actions. Gathering actions (Precheck, Build, Lookup, Push, Culprits) end
// the list: the runner records the answer in Facts and plans again.
const (
	_ ActionKind = iota
	// ActClose closes the open batch (Reason: why).
	ActClose
	// ActPrecheck judges every member against the chain (gathers Precheck).
	ActPrecheck
	// ActBuild builds the message and estimates its gas (gathers Build).
	ActBuild
	// ActStoreMessage reserves a nonce (idempotent per batch) and stores
	// the unsigned bytes under it: from here the batch is resent, never
	// rebuilt.
	ActStoreMessage
	// ActSign starts an asynchronous signing request, forgetting a failed
	// one; the batch shows WaitingForSigner.
	ActSign
	// ActClearSign forgets a failed signing request (Reason is shown).
	ActClearSign
	// ActRecordSigned records the signed CID.
	ActRecordSigned
	// ActNoteAltCID follows a re-signature whose CID differs from the
	// recorded one as well.
	ActNoteAltCID
	// ActLookup searches the chain for the message (gathers Chain).
	ActLookup
	// ActPush pushes the signed bytes (gathers Push).
	ActPush
	// ActRecordPushed records the push (Reason: a note for the log).
	ActRecordPushed
	// ActRelease gives the unsent batch up (store.ReleaseBatch), then fails
	// Fail and regroups Groups. Refused (nonce gap): sets ReleaseRefused.
	ActRelease
	// ActAbandon fails the batch's message with Reason (its nonce is spent
	// or it cannot be sent), then regroups Groups.
	ActAbandon
	// ActCulprits prechecks the members again after a failed receipt
	// (gathers Culprits).
	ActCulprits
	// ActLand records the receipt (Exit), then fails Fail, pauses Retry and
	// regroups Groups; Reason is a note for the log.
	ActLand
	// ActMarkExternal remembers that the chain already did this kind's work
	// for Sectors, so membership skips them.
	ActMarkExternal
	// ActWait ends the pass: the batch waits, showing Reason.
	ActWait
	numActions
)

var actionNames = [...]string{"", "close", "precheck", "build", "store-message", "sign", "clear-sign",
	"record-signed", "note-alt-cid", "lookup", "push", "record-pushed", "release", "abandon", "culprits",
	"land", "mark-external", "wait"}

// String names the action kind.
func (k ActionKind) String() string {
	if k > 0 && k < numActions {
		return actionNames[k]
	}
	return "ActionKind(" + strconv.Itoa(int(k)) + ")"
}

// Gathers reports whether the action answers a question (the runner plans
// again afterwards).
func (k ActionKind) Gathers() bool {
	switch k {
	case ActPrecheck, ActBuild, ActLookup, ActPush, ActCulprits:
		return true
	}
	return false
}

// Action is one step for the runner. Only the fields its Kind names are
// set.
type Action struct {
	Kind   ActionKind
	Reason string
	// WaitingForSigner marks an ActWait (or ActClearSign) that waits for a
	// signer.
	WaitingForSigner bool
	// Exit is ActLand's receipt exit code.
	Exit types.ExitCode
	// Sectors are ActMarkExternal's sectors.
	Sectors []store.SectorID
	// Fail are sectors failed for good, with the reason; Retry sectors
	// rejoin batching after RetryBackoff; Groups each become a closed batch
	// of their own.
	Fail   map[store.SectorID]string
	Retry  []store.SectorID
	Groups [][]store.SectorID
}

// String is a compact form for logs and tests.
func (a Action) String() string {
	s := a.Kind.String()
	if a.Reason != "" {
		s += fmt.Sprintf("(%s)", a.Reason)
	}
	if a.WaitingForSigner {
		s += "[signer]"
	}
	if len(a.Fail) > 0 {
		s += fmt.Sprintf(" fail=%d", len(a.Fail))
	}
	if len(a.Retry) > 0 {
		s += fmt.Sprintf(" retry=%d", len(a.Retry))
	}
	if len(a.Groups) > 0 {
		s += fmt.Sprintf(" groups=%v", a.Groups)
	}
	return s
}

// Decision is Plan's answer: the table row that matched, the state the
// batch reaches once the actions are done, and the actions.
type Decision struct {
	Rule    string
	Next    State
	Actions []Action
}

// Plan decides the next actions for a batch from its facts: the first row
// of the transition table (lifecycle_table.go) whose state matches and
// whose condition holds. A terminal state plans nothing. It is pure and
// deterministic.
func Plan(f Facts) Decision {
	if f.State.Terminal() {
		return Decision{Rule: "terminal", Next: f.State}
	}
	for _, r := range table {
		if r.From == f.State && r.When(&f) {
			return Decision{Rule: r.Name, Next: r.next(f.State), Actions: r.Do(&f)}
		}
	}
	// Unreachable: every state's last row matches anything.
	return Decision{Rule: "none", Next: f.State, Actions: []Action{{Kind: ActWait, Reason: "commit: no plan for state " + f.State.String()}}}
}

// memberIDs lists the precheck's sectors.
func memberIDs(cs []MemberCheck) []store.SectorID {
	out := make([]store.SectorID, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// MemberFacts is what decides whether, and for which message, an active
// sector joins a batch.
type MemberFacts struct {
	// NI: an NI-PoRep sector (no PreCommit).
	NI bool
	// Submitted: its PreCommit (CommR and ticket) is stored; HasProof: its
	// proof is.
	Submitted, HasProof bool
	// InPreCommit / InProveCommit: it belongs to a live or landed batch of
	// that kind (the store keeps a landed batch's members).
	InPreCommit, InProveCommit bool
	// PreCommitLanded: its PreCommit batch landed.
	PreCommitLanded bool
	// Paused: it waits out RetryBackoff after a transient failure.
	Paused bool
	// External: the chain already executed this kind of message for it,
	// sent by someone else ("" if not).
	External store.BatchKind
}

// Membership is the one rule for batch membership: the kind of batch an
// active sector joins, if any. The runner applies it to every active
// sector each tick (adopt), so a sector released by a failed batch, or
// stranded by a crash, always finds its way back. Regrouping only splits
// sectors the rule already placed; the manager's submission handlers join
// a sector early (the same idempotent store call) to save a tick.
func Membership(m MemberFacts) (store.BatchKind, bool) {
	if m.Paused || m.External == store.BatchProveCommit {
		return "", false
	}
	preDone := m.External == store.BatchPreCommit
	switch {
	case m.NI:
		// NI-PoRep: the proof goes straight to ProveCommitSectorsNI.
		return store.BatchProveCommit, m.HasProof && !m.InProveCommit
	case m.Submitted && !m.InPreCommit && !preDone:
		return store.BatchPreCommit, true
	case m.HasProof && !m.InProveCommit && (preDone || m.InPreCommit && m.PreCommitLanded):
		return store.BatchProveCommit, true
	}
	return "", false
}
