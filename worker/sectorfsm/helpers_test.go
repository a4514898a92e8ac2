package sectorfsm

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/sealant/sealant/internal/golden"
)

const proofPartitionBytes = 192 // one Groth16 partition proof

var update = flag.Bool("update", false, "rewrite golden files and docs/sector-states.md")

// fill returns a Bytes32 with every byte set to b.
func fill(b byte) Bytes32 {
	var v Bytes32
	for i := range v {
		v[i] = b
	}
	return v
}

// happyPath is a complete devnet sector, one event per main-line state.
func happyPath() []Event {
	return []Event{
		Allocated{Sector: SectorID{Miner: 1000, Number: 7}, ProofType: 5, Devnet: true},
		PiecesAcquired{Pieces: []Piece{{CID: "baga6ea4seaqexample", Size: 2048}}},
		PiecesAdded{},
		TreeDBuilt{CommD: fill(0xd0)},
		TicketAssigned{Ticket: Randomness{Value: fill(0x71), Epoch: 100}},
		PC1Done{},
		PC2Done{CommR: fill(0xc0), CommD: fill(0xd0), CommC: fill(0xcc), CommRLast: fill(0xc1)},
		PreCommitSubmitted{Result: SubmitAccepted},
		PreCommitState{State: ChainLanded},
		SeedAssigned{Seed: Randomness{Value: fill(0x5e), Epoch: 250}},
		C1Done{},
		C2Done{Proof: bytes.Repeat([]byte{0xab}, proofPartitionBytes)},
		ProofSubmitted{Result: SubmitAccepted},
		ProofState{State: ChainLanded},
		Finalized{Location: "/store/p1", Files: sampleFiles()},
		Delivered{Result: SubmitAccepted},
		DeliveryState{Status: DeliveryAccepted, MayCleanUp: true},
	}
}

// niHappyPath is the NI-PoRep path of a CC sector: no PreCommit, no seed.
func niHappyPath() []Event {
	var out []Event
	for _, ev := range happyPath() {
		switch e := ev.(type) {
		case Allocated:
			e.ProofType = 15 // StackedDrg2KiBV1_2_Feat_NiPoRep
			out = append(out, e)
		case PiecesAcquired:
			out = append(out, PiecesAcquired{})
		case PreCommitSubmitted, PreCommitState, SeedAssigned:
		case TreeDBuilt:
			out = append(out, TreeDBuilt{CommD: fill(0xd1)})
		case PC2Done:
			e.CommD = fill(0xd1)
			out = append(out, e)
		default:
			out = append(out, ev)
		}
	}
	return out
}

// niSampleRecords is sampleRecords for an NI-PoRep sector, for the states
// on its path (and Paused, Aborted).
func niSampleRecords(t testing.TB) map[State]Record {
	t.Helper()
	out := map[State]Record{}
	rec := New()
	out[rec.State] = rec
	for _, ev := range niHappyPath() {
		var err error
		if rec, _, err = Step(rec, ev); err != nil {
			t.Fatalf("NI happy path %s: %v", ev.Kind(), err)
		}
		out[rec.State] = rec
	}
	mid := out[StatePC1Done]
	out[StatePaused], _, _ = Step(mid, Failure{Level: LevelPermanent, Stage: "run-pc2", Reason: "gpu lost"})
	out[StateAborted], _, _ = Step(mid, OperatorAbort{Reason: "test"})
	return out
}

// sampleFor is the sample record a row is stepped from: the NI one for an
// NI-path row.
func sampleFor(t testing.TB, samples map[State]Record, r row) Record {
	if r.Path == PathNI {
		return niSampleRecords(t)[r.From]
	}
	return samples[r.From]
}

// sampleFiles is what Finalize keeps of sector t01000-7.
func sampleFiles() []File {
	return []File{
		{Name: "sealed/s-t01000-7", Size: 2048, SHA256: fill(0x11)},
		{Name: "cache/s-t01000-7/p_aux", Size: 64, SHA256: fill(0x22)},
	}
}

// sampleRecords returns one plausible record per state, reached by stepping
// the FSM itself (never hand-built), so they satisfy every invariant.
func sampleRecords(t testing.TB) map[State]Record {
	t.Helper()
	out := map[State]Record{}
	rec := New()
	out[rec.State] = rec
	for _, ev := range happyPath() {
		var err error
		if rec, _, err = Step(rec, ev); err != nil {
			t.Fatalf("happy path %s: %v", ev.Kind(), err)
		}
		out[rec.State] = rec
	}
	mid := out[StatePC1Done]
	paused, _, err := Step(mid, Failure{Level: LevelPermanent, Stage: "run-pc2", Reason: "gpu lost"})
	if err != nil {
		t.Fatal(err)
	}
	out[StatePaused] = paused
	aborted, _, err := Step(mid, OperatorAbort{Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	out[StateAborted] = aborted
	for _, s := range States() {
		if _, ok := out[s]; !ok {
			t.Fatalf("no sample record for %s", s)
		}
	}
	return out
}

// sampleEvent returns the ordinary event of each kind, matching the data of
// sampleRecords (e.g. PC2Done carries the recorded CommD).
func sampleEvent(k EventKind) Event {
	for _, ev := range happyPath() {
		if ev.Kind() == k {
			return ev
		}
	}
	switch k {
	case KindNoWork:
		return NoWork{}
	case KindSeedNotReady:
		return SeedNotReady{Delay: 90 * Second}
	case KindC2Unavailable:
		return C2Unavailable{Reason: "no c2 processor on mainnet"}
	case KindFailure:
		return Failure{Level: LevelTemporary, Reason: "disk busy"}
	case KindRetry:
		return Retry{}
	case KindRestart:
		return Restart{}
	case KindOperatorResume:
		return OperatorResume{}
	case KindOperatorAbort:
		return OperatorAbort{Reason: "test"}
	}
	panic("no sample event for " + k.String())
}

// formatActions renders actions one per line, prefixed "> ".
func formatActions(acts []Action) string {
	if len(acts) == 0 {
		return "(no actions)"
	}
	var b strings.Builder
	for i, a := range acts {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("> " + FormatAction(a))
	}
	return b.String()
}

// parseArgs splits `a=1 b="x y" flag` into a map; bare words map to "true".
func parseArgs(s string) (map[string]string, error) {
	args := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		i := strings.IndexAny(s, "= ")
		if i < 0 || s[i] == ' ' {
			end := len(s)
			if i >= 0 {
				end = i
			}
			args[s[:end]] = "true"
			s = s[end:]
			continue
		}
		k, rest := s[:i], s[i+1:]
		var v string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, fmt.Errorf("arg %s: %w", k, err)
			}
			v, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else {
			end := strings.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			v, rest = rest[:end], rest[end:]
		}
		args[k] = v
		s = rest
	}
	return args, nil
}

// argReader consumes typed values from parsed args and remembers the first
// error, so event builders stay short.
type argReader struct {
	args map[string]string
	err  error
}

func (a *argReader) fail(err error) {
	if a.err == nil {
		a.err = err
	}
}

func (a *argReader) str(k string) string {
	v := a.args[k]
	delete(a.args, k)
	return v
}

func (a *argReader) u64(k string) uint64 {
	s := a.str(k)
	if s == "" {
		return 0
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		a.fail(fmt.Errorf("%s: %w", k, err))
	}
	return v
}

func (a *argReader) i64(k string) int64 {
	s := a.str(k)
	if s == "" {
		return 0
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		a.fail(fmt.Errorf("%s: %w", k, err))
	}
	return v
}

// b32 accepts 64 hex digits, or 2 digits meaning that byte repeated.
func (a *argReader) b32(k string) Bytes32 {
	s := a.str(k)
	switch len(s) {
	case 0:
		return Bytes32{}
	case 2:
		b, err := hex.DecodeString(s)
		if err != nil {
			a.fail(fmt.Errorf("%s: %w", k, err))
			return Bytes32{}
		}
		return fill(b[0])
	}
	var v Bytes32
	if err := v.UnmarshalText([]byte(s)); err != nil {
		a.fail(fmt.Errorf("%s: %w", k, err))
	}
	return v
}

// dur parses "90s", "3m", "1h".
func (a *argReader) dur(k string) Duration {
	s := a.str(k)
	if s == "" {
		return 0
	}
	unit := map[byte]Duration{'s': Second, 'm': Minute, 'h': Hour}[s[len(s)-1]]
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if unit == 0 || err != nil {
		a.fail(fmt.Errorf("%s: bad duration %q", k, s))
	}
	return Duration(n) * unit
}

func (a *argReader) submit() SubmitResult {
	var r SubmitResult
	if err := r.UnmarshalText([]byte(a.str("result"))); err != nil {
		a.fail(err)
	}
	return r
}

func (a *argReader) chain() OnChainState {
	var s OnChainState
	if err := s.UnmarshalText([]byte(a.str("state"))); err != nil {
		a.fail(err)
	}
	return s
}

// parseEvent builds an event from a script line such as
// `pc2-done comm-r=c0 comm-d=d0`.
func parseEvent(line string) (Event, error) {
	name, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
	k, err := ParseEventKind(name)
	if err != nil {
		return nil, err
	}
	args, err := parseArgs(rest)
	if err != nil {
		return nil, err
	}
	a := &argReader{args: args}
	var ev Event
	switch k {
	case KindNoWork:
		ev = NoWork{}
	case KindAllocated:
		ev = Allocated{Sector: SectorID{Miner: a.u64("miner"), Number: a.u64("number")},
			ProofType: a.i64("proof"), Devnet: a.str("devnet") == "true"}
	case KindPiecesAcquired:
		var pieces []Piece
		for _, p := range strings.Fields(a.str("pieces")) {
			cid, size, _ := strings.Cut(p, ":")
			n, err := strconv.ParseUint(size, 10, 64)
			if err != nil {
				a.fail(fmt.Errorf("piece %q: %w", p, err))
			}
			pieces = append(pieces, Piece{CID: cid, Size: n})
		}
		ev = PiecesAcquired{Pieces: pieces}
	case KindPiecesAdded:
		ev = PiecesAdded{}
	case KindTreeDBuilt:
		ev = TreeDBuilt{CommD: a.b32("comm-d")}
	case KindTicketAssigned:
		ev = TicketAssigned{Ticket: Randomness{Value: a.b32("value"), Epoch: a.i64("epoch")}}
	case KindPC1Done:
		ev = PC1Done{}
	case KindPC2Done:
		ev = PC2Done{CommR: a.b32("comm-r"), CommD: a.b32("comm-d"), CommC: a.b32("comm-c"), CommRLast: a.b32("comm-r-last")}
	case KindPreCommitSubmitted:
		ev = PreCommitSubmitted{Result: a.submit(), Desc: a.str("desc")}
	case KindPreCommitState:
		ev = PreCommitState{State: a.chain(), Desc: a.str("desc")}
	case KindSeedAssigned:
		ev = SeedAssigned{Seed: Randomness{Value: a.b32("value"), Epoch: a.i64("epoch")}}
	case KindSeedNotReady:
		ev = SeedNotReady{Delay: a.dur("delay")}
	case KindC1Done:
		ev = C1Done{}
	case KindC2Done:
		ev = C2Done{Proof: bytes.Repeat([]byte{0xab}, int(a.u64("len")))}
	case KindC2Unavailable:
		ev = C2Unavailable{Reason: a.str("reason")}
	case KindProofSubmitted:
		ev = ProofSubmitted{Result: a.submit(), Desc: a.str("desc")}
	case KindProofState:
		ev = ProofState{State: a.chain(), Desc: a.str("desc")}
	case KindFinalized:
		var files []File
		for _, f := range strings.Fields(a.str("files")) {
			name, size, _ := strings.Cut(f, ":")
			n, err := strconv.ParseInt(size, 10, 64)
			if err != nil {
				a.fail(fmt.Errorf("file %q: %w", f, err))
			}
			files = append(files, File{Name: name, Size: n, SHA256: fill(0x11)})
		}
		ev = Finalized{Location: a.str("location"), Files: files}
	case KindDelivered:
		ev = Delivered{Result: a.submit(), Desc: a.str("desc")}
	case KindDeliveryState:
		var st DeliveryStatus
		if err := st.UnmarshalText([]byte(a.str("status"))); err != nil {
			a.fail(err)
		}
		ev = DeliveryState{Status: st, MayCleanUp: a.str("may-clean-up") == "true", Desc: a.str("desc")}
	case KindFailure:
		var l Level
		if err := l.UnmarshalText([]byte(a.str("level"))); err != nil {
			a.fail(err)
		}
		ev = Failure{Level: l, Stage: a.str("stage"), Reason: a.str("reason")}
	case KindRetry:
		ev = Retry{}
	case KindRestart:
		ev = Restart{}
	case KindOperatorResume:
		var to State
		if s := a.str("to"); s != "" {
			if to, err = ParseState(s); err != nil {
				a.fail(err)
			}
		}
		ev = OperatorResume{To: to}
	case KindOperatorAbort:
		ev = OperatorAbort{Reason: a.str("reason")}
	}
	if a.err != nil {
		return nil, fmt.Errorf("%s: %w", k, a.err)
	}
	for k := range a.args {
		return nil, fmt.Errorf("%s: unknown argument %q", name, k)
	}
	return ev, nil
}

// checkGolden compares got with the file at path, or rewrites it with -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	golden.Check(t, path, got, *update, "go test ./worker/sectorfsm -update")
}
