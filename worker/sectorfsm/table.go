package sectorfsm

import "fmt"

// verdict is what an event means for the sector, before it is mapped to a
// target state by the table row. Each event kind can only produce the
// verdicts listed in kindVerdicts, which is what lets the table, the tests
// and docs/sector-states.md enumerate every reachable state.
type verdict uint8

const (
	_       verdict = iota
	advance         // record the event's fact and enter row.To
	wait            // stay and sleep, then rerun the action; not a failure
	retry           // stay, count a temporary failure and back off; pause when exhausted
	back            // return to row.Back to resubmit, after a short sleep
	pause           // stop in Paused until an operator acts
	abort           // give the sector up: Aborted
	rerun           // stay and rerun the current action now
	resume          // leave Paused for the stored (or a forced earlier) state
)

var verdictNames = [...]string{"", "advance", "wait", "retry", "back", "pause", "abort", "rerun", "resume"}

func (v verdict) String() string { return enumName(v, verdictNames[:], "verdict") }

// kindVerdicts lists, per event kind, every verdict decide may return. The
// first entry is the ordinary one.
var kindVerdicts = [numKinds][]verdict{
	KindNoWork:             {wait},
	KindAllocated:          {advance},
	KindPiecesAcquired:     {advance},
	KindPiecesAdded:        {advance},
	KindTreeDBuilt:         {advance},
	KindTicketAssigned:     {advance},
	KindPC1Done:            {advance},
	KindPC2Done:            {advance, pause},
	KindPreCommitSubmitted: {advance, retry, pause},
	KindPreCommitState:     {advance, wait, back, pause, abort},
	KindSeedAssigned:       {advance},
	KindSeedNotReady:       {wait},
	KindC1Done:             {advance},
	KindC2Done:             {advance},
	KindC2Unavailable:      {pause},
	KindProofSubmitted:     {advance, retry, pause},
	KindProofState:         {advance, wait, back, pause, abort},
	KindFinalized:          {advance},
	KindDelivered:          {advance, retry, pause},
	KindDeliveryState:      {advance, wait, pause},
	KindFailure:            {retry, pause, abort},
	KindRetry:              {rerun},
	KindRestart:            {rerun},
	KindOperatorResume:     {resume},
	KindOperatorAbort:      {abort},
}

// row is one entry of the transition table: event On is legal in state
// From. To is where an advance goes, Back where a resubmission goes; the
// other verdicts' targets follow from From (see targets). Path, when set,
// limits the row to the sectors of one PoRep path.
type row struct {
	From State
	On   EventKind
	To   State
	Back State
	Path Path
}

// Path is a sector's PoRep path, fixed by its proof type at allocation.
type Path uint8

// The paths. A row with no Path serves both.
const (
	_               Path = iota
	PathInteractive      // PreCommit, WaitSeed, then C1 from the seed
	PathNI               // NI-PoRep (FIP-0092): C1 right after PC2, no PreCommit, no seed
)

var pathNames = [...]string{"", "interactive", "ni"}

func (p Path) String() string { return enumName(p, pathNames[:], "path") }

// IsNIProof reports an NI-PoRep seal proof number (abi
// StackedDrg*V1_2_Feat_NiPoRep, 15–19).
func IsNIProof(proofType int64) bool { return proofType >= 15 && proofType <= 19 }

// PathOf is the path of rec's sector: NI for an NI-PoRep proof type.
func PathOf(rec Record) Path {
	if IsNIProof(rec.ProofType) {
		return PathNI
	}
	return PathInteractive
}

// allows reports whether the row serves a sector on path p.
func (r row) allows(p Path) bool { return r.Path == 0 || r.Path == p }

// flow holds the sector-specific rows: the main line from Empty to Finished
// plus the waits and pauses particular to one state.
var flow = []row{
	{From: StateEmpty, On: KindNoWork},
	{From: StateEmpty, On: KindAllocated, To: StateAllocated},
	{From: StateAllocated, On: KindPiecesAcquired, To: StatePiecesAcquired},
	{From: StatePiecesAcquired, On: KindPiecesAdded, To: StatePiecesAdded},
	{From: StatePiecesAdded, On: KindTreeDBuilt, To: StateTreeDBuilt},
	{From: StateTreeDBuilt, On: KindTicketAssigned, To: StateTicketAssigned},
	{From: StateTicketAssigned, On: KindPC1Done, To: StatePC1Done},
	{From: StatePC1Done, On: KindPC2Done, To: StatePC2Done},
	{From: StatePC2Done, On: KindPreCommitSubmitted, To: StatePreCommitSubmitted, Path: PathInteractive},
	{From: StatePreCommitSubmitted, On: KindPreCommitState, To: StatePreCommitLanded, Back: StatePC2Done, Path: PathInteractive},
	{From: StatePreCommitLanded, On: KindSeedAssigned, To: StateSeedAssigned, Path: PathInteractive},
	{From: StatePreCommitLanded, On: KindSeedNotReady, Path: PathInteractive},
	{From: StateSeedAssigned, On: KindC1Done, To: StateC1Done, Path: PathInteractive},
	// NI-PoRep: the challenges derive from replica_id and CommR, so C1 runs
	// right after PC2; the proof goes to ProveCommitSectorsNI.
	{From: StatePC2Done, On: KindC1Done, To: StateC1Done, Path: PathNI},
	{From: StateC1Done, On: KindC2Done, To: StateC2Done},
	{From: StateC1Done, On: KindC2Unavailable},
	{From: StateC2Done, On: KindProofSubmitted, To: StateProofSubmitted},
	{From: StateProofSubmitted, On: KindProofState, To: StateProofLanded, Back: StateC2Done},
	{From: StateProofLanded, On: KindFinalized, To: StateFinalized},
	{From: StateFinalized, On: KindDelivered, To: StateDelivered},
	{From: StateDelivered, On: KindDeliveryState, To: StateFinished},
}

// everyWorking lists the kinds legal in every working state with the same
// meaning: failures of the action in flight, the runner's wake-up and
// restart, and an operator abort.
var everyWorking = []EventKind{KindFailure, KindRetry, KindRestart, KindOperatorAbort}

// control holds the rows of the non-working states. A paused sector only
// listens to the operator (and to Restart, which keeps it paused); a
// terminal one only to Restart, which re-emits its exit actions.
var control = []row{
	{From: StatePaused, On: KindRestart},
	{From: StatePaused, On: KindOperatorResume},
	{From: StatePaused, On: KindOperatorAbort},
	{From: StateFinished, On: KindRestart},
	{From: StateAborted, On: KindRestart},
}

// table is the single source of truth: (state, event kind) → row, dense so
// that a lookup is two array indexes. A zero row (On == 0) is absent: an
// IllegalTransitionError.
var table = buildTable()

// mainLine is the interactive advance path from Empty to Finished, in
// order; forced resumes may only move backwards along it (an NI sector
// along its subsequence niLine).
var mainLine = buildMainLine()

// niLine is the NI-PoRep advance path: mainLine without the states only
// the interactive path has.
var niLine = buildNILine()

func buildTable() *[numStates][numKinds]row {
	t := new([numStates][numKinds]row)
	add := func(r row) {
		if t[r.From][r.On].On != 0 {
			panic(fmt.Sprintf("sectorfsm: duplicate table row %s/%s", r.From, r.On))
		}
		t[r.From][r.On] = r
	}
	for _, r := range flow {
		add(r)
	}
	for _, s := range States() {
		if s.Working() {
			for _, k := range everyWorking {
				add(row{From: s, On: k})
			}
		}
	}
	for _, r := range control {
		add(r)
	}
	return t
}

// lookup returns the row for (s, k), if the table has one.
func lookup(s State, k EventKind) (row, bool) {
	if !s.Valid() || !enumValid(k, kindNames[:]) {
		return row{}, false
	}
	r := table[s][k]
	return r, r.On != 0
}

// rows returns every row of the table, ordered by state then kind.
func rows() []row {
	var out []row
	for _, s := range States() {
		for _, k := range EventKinds() {
			if r, ok := lookup(s, k); ok {
				out = append(out, r)
			}
		}
	}
	return out
}

func buildMainLine() []State {
	line := []State{StateEmpty}
	for s := StateEmpty; !s.Terminal(); {
		next := State(0)
		for _, r := range flow {
			if r.From == s && r.To != 0 && r.allows(PathInteractive) {
				next = r.To
			}
		}
		if next == 0 {
			panic(fmt.Sprintf("sectorfsm: main line stops at %s", s))
		}
		line = append(line, next)
		s = next
	}
	return line
}

func buildNILine() []State {
	var line []State
	for _, s := range mainLine {
		if !interactiveOnly(s) {
			line = append(line, s)
		}
	}
	return line
}

// interactiveOnly reports a state only interactive sectors pass through:
// one entered only by rows of PathInteractive.
func interactiveOnly(s State) bool {
	entered := false
	for _, r := range flow {
		if r.To == s {
			if r.Path != PathInteractive {
				return false
			}
			entered = true
		}
	}
	return entered
}

// mainIndex returns the position of s on the main line, or -1.
func mainIndex(s State) int {
	for i, m := range mainLine {
		if m == s {
			return i
		}
	}
	return -1
}

// canResume reports whether a paused sector on path p may re-enter state
// to: the stored state itself, or a state before it on the main line other
// than Empty (going back to Empty would orphan the allocated sector) and,
// for an NI sector, not one of the interactive path only.
func canResume(p Path, pausedIn, to State) bool {
	if to == pausedIn {
		return true
	}
	if p == PathNI && interactiveOnly(to) {
		return false
	}
	i, j := mainIndex(to), mainIndex(pausedIn)
	return i > 0 && j > 0 && i < j
}

// targets lists every state the row can lead to, for tests and docs.
func (r row) targets() []State {
	var out []State
	seen := map[State]bool{}
	add := func(s State) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, v := range kindVerdicts[r.On] {
		for _, s := range r.verdictTargets(v) {
			add(s)
		}
	}
	return out
}

// verdictTargets lists the states verdict v of this row can lead to.
func (r row) verdictTargets(v verdict) []State {
	switch v {
	case advance:
		return []State{r.To}
	case wait, rerun:
		return []State{r.From}
	case retry:
		return []State{r.From, StatePaused} // paused once retries run out
	case back:
		return []State{r.Back, StatePaused}
	case pause:
		return []State{StatePaused}
	case abort:
		return []State{StateAborted}
	case resume:
		var out []State
		for _, s := range States() {
			if s.Working() {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
