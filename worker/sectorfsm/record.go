package sectorfsm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// CurrentVersion is the schema version of Record written by this code.
const CurrentVersion = 2

// ErrVersion reports a record whose Version this code cannot step or
// decode (a newer schema, or an older one without a migration).
var ErrVersion = errors.New("sectorfsm: unsupported record version")

// ErrBadRecord reports a record that fails its own invariants, for example
// an unknown state or a paused record without a state to resume.
var ErrBadRecord = errors.New("sectorfsm: invalid record")

// Record is everything a sealing thread knows about its sector. The runner
// persists it (as JSON) after every Step and before running the returned
// actions; after a crash it decodes it with Decode and feeds Restart.
//
// Records are values: Step returns a new one and never modifies the one it
// was given, so a caller may keep the old record for logging or rollback.
type Record struct {
	Version int   `json:"version"`
	State   State `json:"state"`
	// Steps counts the events applied so far: the length of the sector's
	// event history, which the runner may log next to each event.
	Steps uint64 `json:"steps"`

	Sector    SectorID `json:"sector"`
	ProofType int64    `json:"proof_type"`
	Devnet    bool     `json:"devnet"`
	Pieces    []Piece  `json:"pieces"`

	CommD       Bytes32    `json:"comm_d"` // from tree D; PC2 must agree
	Ticket      Randomness `json:"ticket"`
	CommR       Bytes32    `json:"comm_r"`
	CommC       Bytes32    `json:"comm_c"`
	CommRLast   Bytes32    `json:"comm_r_last"`
	PreCommit   Submission `json:"precommit"`
	Seed        Randomness `json:"seed"`
	Proof       []byte     `json:"proof"`
	ProofSubmit Submission `json:"proof_submit"`

	// Location and Files are where Finalize put what the SP needs, with
	// checksums; Deliver hands exactly these over.
	Location string `json:"location,omitempty"`
	Files    []File `json:"files,omitempty"`
	// MayCleanUp is the manager's permission to delete Files once the
	// delivery is confirmed.
	MayCleanUp bool `json:"may_clean_up,omitempty"`

	// Retries counts temporary failures of the current state's action; it
	// drives the backoff and resets when a new fact is recorded.
	Retries int `json:"retries"`
	// Failure is the last failure, kept until the next fact is recorded so
	// that status output can say why a sector is slow or paused.
	Failure *Fault `json:"failure,omitempty"`
	// PausedIn is the state to re-enter on resume; set only when paused.
	PausedIn State `json:"paused_in,omitempty"`
	// AbortReason says why an Aborted sector was given up.
	AbortReason string `json:"abort_reason,omitempty"`
}

// Submission tracks one kind of chain submission (PreCommit or proof).
type Submission struct {
	// Accepted is set once the manager accepted a submission.
	Accepted bool `json:"accepted"`
	// Reset makes the next submit ask the manager to replace the previous
	// submission (after an on-chain failure or a forced move back).
	Reset bool `json:"reset"`
	// Resubmits counts on-chain failures; past Policy.MaxRetries the
	// sector pauses instead of resubmitting forever.
	Resubmits int `json:"resubmits"`
}

// Fault describes a failure recorded on the sector.
type Fault struct {
	Level  Level  `json:"level"`
	State  State  `json:"state"` // state the sector was in
	Stage  string `json:"stage"` // action that failed
	Reason string `json:"reason"`
}

// New returns the record of an idle sealing thread: version set, state
// Empty. Feed it Restart to get the first action (AllocateSector).
func New() Record { return Record{Version: CurrentVersion, State: StateEmpty} }

// validate checks the invariants Step relies on.
func (r Record) validate() error {
	if r.Version != CurrentVersion {
		return fmt.Errorf("%w: %d (this code steps version %d; decode with Decode to migrate)",
			ErrVersion, r.Version, CurrentVersion)
	}
	if !r.State.Valid() {
		return fmt.Errorf("%w: state %s", ErrBadRecord, r.State)
	}
	if r.State == StatePaused && !r.PausedIn.Working() {
		return fmt.Errorf("%w: paused record has no working state to resume (%s)", ErrBadRecord, r.PausedIn)
	}
	return nil
}

// clone returns a copy of r that shares no memory with it.
func (r Record) clone() Record {
	r.Pieces = slices.Clone(r.Pieces)
	r.Proof = slices.Clone(r.Proof)
	r.Files = slices.Clone(r.Files)
	if r.Failure != nil {
		f := *r.Failure
		r.Failure = &f
	}
	return r
}

// migrations upgrade a raw JSON record object in place from version v (the
// key) to v+1. To change the schema: bump CurrentVersion, add the entry for
// the old version, and keep the old entries forever. A migration may rename
// or drop fields and map removed state names to current ones, which is how
// a state is retired without breaking stored records.
var migrations = map[int]func(raw map[string]json.RawMessage) error{
	// Version 1 delivered right after the PreCommit landed (state
	// "Delivered" sat before WaitSeed) and had no Finalize. Version 2
	// delivers after the proof lands and finalization; a version-1 sector
	// in the old Delivered state has not seen its seed yet, so it re-enters
	// PreCommitLanded (whose action is WaitSeed) and will be finalized and
	// delivered at the end like any other sector.
	1: func(raw map[string]json.RawMessage) error {
		for _, k := range []string{"state", "paused_in"} {
			if string(raw[k]) == `"Delivered"` {
				raw[k] = json.RawMessage(`"PreCommitLanded"`)
			}
		}
		if f, ok := raw["failure"]; ok && len(f) > 0 && string(f) != "null" {
			var fault map[string]json.RawMessage
			if err := json.Unmarshal(f, &fault); err != nil {
				return err
			}
			if string(fault["state"]) == `"Delivered"` {
				fault["state"] = json.RawMessage(`"PreCommitLanded"`)
				b, err := json.Marshal(fault)
				if err != nil {
					return err
				}
				raw["failure"] = b
			}
		}
		return nil
	},
}

// Decode parses a persisted record, running the migrations from its version
// up to CurrentVersion, and checks its invariants. Unknown fields and
// unknown state names are errors, never silently dropped.
func Decode(data []byte) (Record, error) {
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return Record{}, fmt.Errorf("sectorfsm: decode record: %w", err)
	}
	if head.Version == nil {
		return Record{}, fmt.Errorf("%w: record has no version", ErrVersion)
	}
	if v := *head.Version; v != CurrentVersion {
		upgraded, err := migrate(data, v)
		if err != nil {
			return Record{}, err
		}
		data = upgraded
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("sectorfsm: decode record: %w", err)
	}
	if dec.More() {
		return Record{}, fmt.Errorf("sectorfsm: decode record: trailing data")
	}
	if err := r.validate(); err != nil {
		return Record{}, err
	}
	return r, nil
}

func migrate(data []byte, from int) ([]byte, error) {
	if from > CurrentVersion {
		return nil, fmt.Errorf("%w: %d is newer than %d", ErrVersion, from, CurrentVersion)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("sectorfsm: decode record: %w", err)
	}
	for v := from; v < CurrentVersion; v++ {
		m, ok := migrations[v]
		if !ok {
			return nil, fmt.Errorf("%w: no migration from version %d", ErrVersion, v)
		}
		if err := m(raw); err != nil {
			return nil, fmt.Errorf("sectorfsm: migrate record from version %d: %w", v, err)
		}
		raw["version"] = json.RawMessage(fmt.Sprint(v + 1))
	}
	return json.Marshal(raw)
}
