package sectorfsm

// State is the last fact a sector has achieved. A state never means "doing
// X"; it means "X is done", so a restarted worker re-enters the stored state
// and runs the one action that leads to the next fact (see NextAction).
//
// States are persisted by name (MarshalText); the numeric values may change
// between versions.
type State uint8

// The states of a sealing thread, in main-line order.
const (
	_                       State = iota
	StateEmpty                    // no sector yet: ask the manager for one
	StateAllocated                // the manager assigned sector id and proof type
	StatePiecesAcquired           // the pieces (deals) to pack are known; none means CC
	StatePiecesAdded              // the staged (unsealed) file is written
	StateTreeDBuilt               // tree D is built and CommD recorded
	StateTicketAssigned           // the sealing ticket is recorded
	StatePC1Done                  // SDR layers are labelled
	StatePC2Done                  // tree C and tree R are built; CommR recorded
	StatePreCommitSubmitted       // the manager accepted the PreCommit for sending
	StatePreCommitLanded          // the PreCommit is on chain
	StateSeedAssigned             // the interactive seed is recorded
	StateC1Done                   // vanilla (C1) proofs are computed
	StateC2Done                   // the SNARK (C2) proof is recorded
	StateProofSubmitted           // the manager accepted the proof for sending
	StateProofLanded              // the ProveCommit is on chain: the sector is active
	StateFinalized                // layers dropped; sealed + cache kept in the persist store with checksums
	StateDelivered                // the files were handed over (receiver or provider store) and reported
	StateFinished                 // the delivery is confirmed: report and clean up (terminal)
	StateAborted                  // the sector was given up: report and clean up (terminal)
	StatePaused                   // a permanent failure stopped the thread; PausedIn holds where
	numStates
)

var stateNames = [...]string{
	"",
	"Empty", "Allocated", "PiecesAcquired", "PiecesAdded", "TreeDBuilt",
	"TicketAssigned", "PC1Done", "PC2Done", "PreCommitSubmitted",
	"PreCommitLanded", "SeedAssigned", "C1Done", "C2Done",
	"ProofSubmitted", "ProofLanded", "Finalized", "Delivered",
	"Finished", "Aborted", "Paused",
}

// States returns every valid state in declaration order.
func States() []State {
	out := make([]State, 0, numStates-1)
	for s := State(1); s < numStates; s++ {
		out = append(out, s)
	}
	return out
}

// String returns the stable name of s.
func (s State) String() string { return enumName(s, stateNames[:], "State") }

// Valid reports whether s is one of the declared states.
func (s State) Valid() bool { return enumValid(s, stateNames[:]) }

// Terminal reports whether s is Finished or Aborted. Terminal records only
// accept Restart, which re-emits their exit actions.
func (s State) Terminal() bool { return s == StateFinished || s == StateAborted }

// Working reports whether s is a valid state in which the thread is making
// progress: neither paused nor terminal.
func (s State) Working() bool { return s.Valid() && !s.Terminal() && s != StatePaused }

// MarshalText encodes s by name; invalid states are refused.
func (s State) MarshalText() ([]byte, error) { return enumMarshal(s, stateNames[:], "state") }

// UnmarshalText decodes a state name. Unknown names are an error: a state
// removed from the enum must be handled by a record migration, not guessed.
func (s *State) UnmarshalText(text []byte) error {
	v, err := enumParse[State](text, stateNames[:], "state")
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseState returns the state with the given stable name.
func ParseState(name string) (State, error) {
	return enumParse[State]([]byte(name), stateNames[:], "state")
}
