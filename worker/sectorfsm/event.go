package sectorfsm

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
)

// EventKind names an event type; together with State it keys the
// transition table. Kinds are logged by their stable names.
type EventKind uint8

// Event kinds, one per event type.
const (
	_ EventKind = iota
	KindNoWork
	KindAllocated
	KindPiecesAcquired
	KindPiecesAdded
	KindTreeDBuilt
	KindTicketAssigned
	KindPC1Done
	KindPC2Done
	KindPreCommitSubmitted
	KindPreCommitState
	KindSeedAssigned
	KindSeedNotReady
	KindC1Done
	KindC2Done
	KindC2Unavailable
	KindProofSubmitted
	KindProofState
	KindFinalized
	KindDelivered
	KindDeliveryState
	KindFailure
	KindRetry
	KindRestart
	KindOperatorResume
	KindOperatorAbort
	numKinds
)

var kindNames = [...]string{
	"",
	"no-work", "allocated", "pieces-acquired", "pieces-added", "tree-d-built",
	"ticket-assigned", "pc1-done", "pc2-done", "precommit-submitted",
	"precommit-state", "seed-assigned", "seed-not-ready",
	"c1-done", "c2-done", "c2-unavailable", "proof-submitted", "proof-state",
	"finalized", "delivered", "delivery-state", "failure", "retry", "restart", "operator-resume", "operator-abort",
}

// EventKinds returns every valid event kind in declaration order.
func EventKinds() []EventKind {
	out := make([]EventKind, 0, numKinds-1)
	for k := EventKind(1); k < numKinds; k++ {
		out = append(out, k)
	}
	return out
}

// String returns the stable name of k.
func (k EventKind) String() string { return enumName(k, kindNames[:], "EventKind") }

// MarshalText encodes k by name.
func (k EventKind) MarshalText() ([]byte, error) { return enumMarshal(k, kindNames[:], "event kind") }

// UnmarshalText decodes an event kind name.
func (k *EventKind) UnmarshalText(text []byte) error {
	v, err := enumParse[EventKind](text, kindNames[:], "event kind")
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// ParseEventKind returns the event kind with the given stable name.
func ParseEventKind(name string) (EventKind, error) {
	return enumParse[EventKind]([]byte(name), kindNames[:], "event kind")
}

// Event is the result of an action (or an operator or process input) fed
// back into Step. The set is closed: only this package's types implement it.
type Event interface {
	// Kind returns the table key of the event.
	Kind() EventKind
	event()
}

// ErrBadEvent reports an event whose payload can never be valid, such as an
// unknown submit result or an empty proof. The record is left unchanged; the
// runner should treat it as a bug at the edge, not retry it.
var ErrBadEvent = errors.New("sectorfsm: malformed event")

// Level classifies a failure reported by the edge.
type Level uint8

// Failure levels, after damocles-worker's sealing/failure.rs.
const (
	_ Level = iota
	// LevelTemporary retries the same action after an exponential backoff;
	// after Policy.MaxRetries it escalates to LevelPermanent.
	LevelTemporary
	// LevelPermanent pauses the thread until an operator resumes or aborts.
	LevelPermanent
	// LevelAbort gives the sector up: report it and clean up.
	LevelAbort
)

var levelNames = [...]string{"", "temporary", "permanent", "abort"}

// String returns the stable name of l.
func (l Level) String() string { return enumName(l, levelNames[:], "Level") }

// MarshalText encodes l by name.
func (l Level) MarshalText() ([]byte, error) { return enumMarshal(l, levelNames[:], "level") }

// UnmarshalText decodes a level name.
func (l *Level) UnmarshalText(text []byte) error {
	v, err := enumParse[Level](text, levelNames[:], "level")
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// SubmitResult is the manager's answer to a submission (PreCommit, proof,
// delivery). Values match damocles-manager core.SubmitResult so an RPC edge
// can convert numerically.
type SubmitResult uint8

// Submit results.
const (
	_                 SubmitResult = iota
	SubmitAccepted                 // queued for sending: advance
	SubmitDuplicate                // already known with the same content: same as accepted
	SubmitMismatched               // already known with different content: pause
	SubmitRejected                 // refused (bad info): pause
	SubmitFilesMissed              // the manager cannot see the sector files yet: retry with backoff
)

var submitNames = [...]string{"", "accepted", "duplicate", "mismatched", "rejected", "files-missed"}

// String returns the stable name of r.
func (r SubmitResult) String() string { return enumName(r, submitNames[:], "SubmitResult") }

// MarshalText encodes r by name.
func (r SubmitResult) MarshalText() ([]byte, error) {
	return enumMarshal(r, submitNames[:], "submit result")
}

// UnmarshalText decodes a submit result name.
func (r *SubmitResult) UnmarshalText(text []byte) error {
	v, err := enumParse[SubmitResult](text, submitNames[:], "submit result")
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// OnChainState is the manager's view of a submitted message. Values match
// damocles-manager core.OnChainState.
type OnChainState uint8

// On-chain states.
const (
	_                OnChainState = iota
	ChainPending                  // not yet sent (e.g. waiting for a batch): poll again
	ChainPacked                   // sent, not yet executed: poll again
	ChainLanded                   // executed successfully: advance
	ChainNotFound                 // the manager has no record of it: pause
	ChainFailed                   // the message failed: resubmit (with reset)
	ChainPermFailed               // failed for good: pause
	ChainShouldAbort              // the sector can never get on chain: abort
)

var chainNames = [...]string{"", "pending", "packed", "landed", "not-found", "failed", "perm-failed", "should-abort"}

// String returns the stable name of s.
func (s OnChainState) String() string { return enumName(s, chainNames[:], "OnChainState") }

// MarshalText encodes s by name.
func (s OnChainState) MarshalText() ([]byte, error) {
	return enumMarshal(s, chainNames[:], "on-chain state")
}

// UnmarshalText decodes an on-chain state name.
func (s *OnChainState) UnmarshalText(text []byte) error {
	v, err := enumParse[OnChainState](text, chainNames[:], "on-chain state")
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Bytes32 is a 32-byte value (commitment, randomness) that encodes as hex in
// JSON, so records stay readable and diffable.
type Bytes32 [32]byte

// IsZero reports whether b is all zeroes, i.e. not yet set.
func (b Bytes32) IsZero() bool { return b == Bytes32{} }

// String returns b as lower-case hex.
func (b Bytes32) String() string { return hex.EncodeToString(b[:]) }

// MarshalText encodes b as 64 hex digits.
func (b Bytes32) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText decodes exactly 64 hex digits.
func (b *Bytes32) UnmarshalText(text []byte) error {
	if len(text) != 64 {
		return fmt.Errorf("sectorfsm: 32-byte hex value has %d digits, want 64", len(text))
	}
	if _, err := hex.Decode(b[:], text); err != nil {
		return fmt.Errorf("sectorfsm: 32-byte hex value: %w", err)
	}
	return nil
}

// SectorID identifies a sector: miner actor id and sector number.
type SectorID struct {
	Miner  uint64 `json:"miner"`
	Number uint64 `json:"number"`
}

// Piece is one piece to pack into the sector. CID is the piece CID as text
// (the edge parses and checks it; the FSM only carries it).
type Piece struct {
	CID  string `json:"cid"`
	Size uint64 `json:"size"` // padded size in bytes, a power of two >= 128
}

// Randomness is chain randomness drawn at an epoch (the ticket or the seed).
type Randomness struct {
	Value Bytes32 `json:"value"`
	Epoch int64   `json:"epoch"`
}

// NoWork reports that AllocateSector found nothing to seal. The FSM sleeps
// Policy.IdleInterval and asks again.
type NoWork struct{}

// Allocated carries the sector the manager assigned. Devnet marks a
// development network, where C2 may run in-process (see RunC2).
type Allocated struct {
	Sector    SectorID
	ProofType int64 // abi.RegisteredSealProof number
	Devnet    bool
}

// PiecesAcquired carries the pieces to pack; an empty list is a CC sector.
type PiecesAcquired struct{ Pieces []Piece }

// PiecesAdded reports that the staged file is written.
type PiecesAdded struct{}

// TreeDBuilt carries the data commitment computed from the staged file.
type TreeDBuilt struct{ CommD Bytes32 }

// TicketAssigned carries the sealing ticket.
type TicketAssigned struct{ Ticket Randomness }

// PC1Done reports that SDR labelling finished (its output stays on disk).
type PC1Done struct{}

// PC2Done carries the PreCommit phase 2 commitments. CommD must equal the
// tree D commitment already recorded; a mismatch pauses the sector, since
// the staged data changed under the sealer.
type PC2Done struct{ CommR, CommD, CommC, CommRLast Bytes32 }

// PreCommitSubmitted carries the manager's answer to SubmitPreCommit.
type PreCommitSubmitted struct {
	Result SubmitResult
	Desc   string
}

// PreCommitState carries the result of PollPreCommit.
type PreCommitState struct {
	State OnChainState
	Desc  string
}

// SeedAssigned carries the interactive seed.
type SeedAssigned struct{ Seed Randomness }

// SeedNotReady reports that the seed epoch is not reached yet. Delay is the
// manager's estimate; zero means Policy.PollInterval.
type SeedNotReady struct{ Delay Duration }

// C1Done reports that the vanilla proofs are computed (kept on disk).
type C1Done struct{}

// C2Done carries the SNARK proof, 192 bytes per partition.
type C2Done struct{ Proof []byte }

// C2Unavailable reports that this worker cannot produce a C2 proof for the
// sector: on a real network a C2 proof needs an external (GPU or remote)
// processor, and none is configured. The edge decides; the FSM pauses the
// sector with a message saying what to configure.
type C2Unavailable struct{ Reason string }

// ProofSubmitted carries the manager's answer to SubmitProof.
type ProofSubmitted struct {
	Result SubmitResult
	Desc   string
}

// ProofState carries the result of PollProof.
type ProofState struct {
	State OnChainState
	Desc  string
}

// File is one file of a finalized sector kept for the SP, named relative
// to the sector's location in lotus layout ("sealed/s-t01000-5",
// "cache/s-t01000-5/p_aux").
type File struct {
	Name   string  `json:"name"`
	Size   int64   `json:"size"`
	SHA256 Bytes32 `json:"sha256"`
}

// Finalized reports that Finalize dropped the label layers, tree C and tree
// D and moved what the SP needs (sealed file, tree-r-last, p_aux, t_aux,
// and the unsealed file of a data sector) to Location with checksums.
type Finalized struct {
	Location string
	Files    []File
}

// Delivered carries the manager's answer to the delivery report sent after
// the files were handed over (uploaded to the SP's receiver, or kept in the
// provider's store). FilesMissed retries the transfer.
type Delivered struct {
	Result SubmitResult
	Desc   string
}

// DeliveryStatus is the manager's view of a delivery being confirmed.
type DeliveryStatus uint8

// Delivery statuses.
const (
	_                DeliveryStatus = iota
	DeliveryPending                 // transferring or being verified by the SP: ask again later
	DeliveryAccepted                // the SP (or the provider's store) holds the sector: finish
	DeliveryRejected                // the SP refused the files: pause for the operator
)

var deliveryNames = [...]string{"", "pending", "accepted", "rejected"}

// String returns the stable name of s.
func (s DeliveryStatus) String() string { return enumName(s, deliveryNames[:], "DeliveryStatus") }

// MarshalText encodes s by name.
func (s DeliveryStatus) MarshalText() ([]byte, error) {
	return enumMarshal(s, deliveryNames[:], "delivery status")
}

// UnmarshalText decodes a delivery status name.
func (s *DeliveryStatus) UnmarshalText(text []byte) error {
	v, err := enumParse[DeliveryStatus](text, deliveryNames[:], "delivery status")
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// DeliveryState carries the answer to ConfirmDelivery. MayCleanUp says the
// worker may delete its copy of the finalized files once Finished (only
// after the SP accepted them, never when they already sit in the
// provider's long-term store).
type DeliveryState struct {
	Status     DeliveryStatus
	MayCleanUp bool
	Desc       string
}

// Failure reports that the action in flight failed. Stage names that
// action (e.g. "run-pc1"); empty means the action of the current state.
type Failure struct {
	Level  Level
	Stage  string
	Reason string
}

// Retry is fed by the runner when a Sleep action has elapsed; it reruns the
// current state's action. An operator may also send it to skip a backoff.
type Retry struct{}

// Restart is fed once when a record is loaded after a process start. It
// reruns the current state's action, or re-emits the exit actions of a
// terminal state; a paused record stays paused.
type Restart struct{}

// OperatorResume resumes a paused sector. To zero re-enters the stored
// state; otherwise To must be an earlier state on the main line (a forced
// move back, e.g. to PC2Done to resubmit), checked against the same table.
type OperatorResume struct{ To State }

// OperatorAbort gives up a sector in any non-terminal state.
type OperatorAbort struct{ Reason string }

// Kind implementations. The unexported event method seals the interface.

func (NoWork) Kind() EventKind             { return KindNoWork }
func (Allocated) Kind() EventKind          { return KindAllocated }
func (PiecesAcquired) Kind() EventKind     { return KindPiecesAcquired }
func (PiecesAdded) Kind() EventKind        { return KindPiecesAdded }
func (TreeDBuilt) Kind() EventKind         { return KindTreeDBuilt }
func (TicketAssigned) Kind() EventKind     { return KindTicketAssigned }
func (PC1Done) Kind() EventKind            { return KindPC1Done }
func (PC2Done) Kind() EventKind            { return KindPC2Done }
func (PreCommitSubmitted) Kind() EventKind { return KindPreCommitSubmitted }
func (PreCommitState) Kind() EventKind     { return KindPreCommitState }
func (SeedAssigned) Kind() EventKind       { return KindSeedAssigned }
func (SeedNotReady) Kind() EventKind       { return KindSeedNotReady }
func (C1Done) Kind() EventKind             { return KindC1Done }
func (C2Done) Kind() EventKind             { return KindC2Done }
func (C2Unavailable) Kind() EventKind      { return KindC2Unavailable }
func (ProofSubmitted) Kind() EventKind     { return KindProofSubmitted }
func (ProofState) Kind() EventKind         { return KindProofState }
func (Finalized) Kind() EventKind          { return KindFinalized }
func (Delivered) Kind() EventKind          { return KindDelivered }
func (DeliveryState) Kind() EventKind      { return KindDeliveryState }
func (Failure) Kind() EventKind            { return KindFailure }
func (Retry) Kind() EventKind              { return KindRetry }
func (Restart) Kind() EventKind            { return KindRestart }
func (OperatorResume) Kind() EventKind     { return KindOperatorResume }
func (OperatorAbort) Kind() EventKind      { return KindOperatorAbort }

func (NoWork) event()             {}
func (Allocated) event()          {}
func (PiecesAcquired) event()     {}
func (PiecesAdded) event()        {}
func (TreeDBuilt) event()         {}
func (TicketAssigned) event()     {}
func (PC1Done) event()            {}
func (PC2Done) event()            {}
func (PreCommitSubmitted) event() {}
func (PreCommitState) event()     {}
func (SeedAssigned) event()       {}
func (SeedNotReady) event()       {}
func (C1Done) event()             {}
func (C2Done) event()             {}
func (C2Unavailable) event()      {}
func (ProofSubmitted) event()     {}
func (ProofState) event()         {}
func (Finalized) event()          {}
func (Delivered) event()          {}
func (DeliveryState) event()      {}
func (Failure) event()            {}
func (Retry) event()              {}
func (Restart) event()            {}
func (OperatorResume) event()     {}
func (OperatorAbort) event()      {}

// checkEvent rejects payloads that no state could accept; Step wraps the
// error with ErrBadEvent. It does not compare against the record: that is a
// decision (see decide), not a malformation.
func checkEvent(ev Event) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf(format, args...)
	}
	switch e := ev.(type) {
	case PiecesAcquired:
		for i, p := range e.Pieces {
			if p.CID == "" {
				return bad("piece %d has no cid", i)
			}
			if p.Size < 128 || bits.OnesCount64(p.Size) != 1 {
				return bad("piece %d padded size %d is not a power of two >= 128", i, p.Size)
			}
		}
	case TreeDBuilt:
		if e.CommD.IsZero() {
			return bad("zero comm_d")
		}
	case TicketAssigned:
		if e.Ticket.Epoch < 0 {
			return bad("negative ticket epoch %d", e.Ticket.Epoch)
		}
	case PC2Done:
		if e.CommR.IsZero() || e.CommD.IsZero() {
			return bad("zero comm_r or comm_d")
		}
	case PreCommitSubmitted:
		return checkSubmit(e.Result)
	case ProofSubmitted:
		return checkSubmit(e.Result)
	case Delivered:
		return checkSubmit(e.Result)
	case PreCommitState:
		return checkChain(e.State)
	case ProofState:
		return checkChain(e.State)
	case SeedAssigned:
		if e.Seed.Epoch < 0 {
			return bad("negative seed epoch %d", e.Seed.Epoch)
		}
	case SeedNotReady:
		if e.Delay < 0 {
			return bad("negative delay %s", e.Delay)
		}
	case C2Done:
		// A Groth16 proof is 192 bytes per partition; a devnet stand-in
		// proof (see proofs/c2) has its own length, which the edge checks.
		if len(e.Proof) == 0 {
			return bad("empty proof")
		}
	case Finalized:
		if e.Location == "" || len(e.Files) == 0 {
			return bad("finalized without location or files")
		}
		for i, f := range e.Files {
			if f.Name == "" || f.Size < 0 || f.SHA256.IsZero() {
				return bad("finalized file %d (%q) lacks a name, size or checksum", i, f.Name)
			}
		}
	case DeliveryState:
		if !enumValid(e.Status, deliveryNames[:]) {
			return bad("invalid delivery status %d", uint8(e.Status))
		}
	case Failure:
		if !enumValid(e.Level, levelNames[:]) {
			return bad("invalid failure level %d", uint8(e.Level))
		}
	case OperatorResume:
		if e.To != 0 && !e.To.Valid() {
			return bad("invalid resume state %d", uint8(e.To))
		}
	}
	return nil
}

func checkSubmit(r SubmitResult) error {
	if !enumValid(r, submitNames[:]) {
		return fmt.Errorf("invalid submit result %d", uint8(r))
	}
	return nil
}

func checkChain(s OnChainState) error {
	if !enumValid(s, chainNames[:]) {
		return fmt.Errorf("invalid on-chain state %d", uint8(s))
	}
	return nil
}
