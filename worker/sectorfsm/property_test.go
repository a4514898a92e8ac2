package sectorfsm

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// legalKinds lists, per state, the event kinds the table allows.
func legalKinds() map[State][]EventKind {
	out := map[State][]EventKind{}
	for _, s := range States() {
		for _, k := range EventKinds() {
			if _, ok := lookup(s, k); ok {
				out[s] = append(out[s], k)
			}
		}
	}
	return out
}

// flowKinds lists, per state, the kinds of its sector-specific rows.
func flowKinds() map[State][]EventKind {
	out := map[State][]EventKind{}
	for _, r := range flow {
		out[r.From] = append(out[r.From], r.On)
	}
	return out
}

// randomEvent draws an event for rec: mostly a kind of the state's own rows
// (so walks get deep), else any legal kind, sometimes any kind at all;
// payloads cover every result and on-chain state, and about one in twenty
// is malformed.
func randomEvent(rng *rand.Rand, rec Record, legal, flows map[State][]EventKind) Event {
	k := EventKind(1 + rng.IntN(int(numKinds)-1))
	switch p := rng.IntN(10); {
	case p < 6 && len(flows[rec.State]) > 0:
		k = flows[rec.State][rng.IntN(len(flows[rec.State]))]
	case p < 9:
		k = legal[rec.State][rng.IntN(len(legal[rec.State]))]
	}
	bad := rng.IntN(20) == 0
	pick := func(good, malformed int) int {
		if bad {
			return malformed
		}
		return good
	}
	b32 := func(v byte) Bytes32 { return fill(byte(pick(int(v), 0))) }
	switch k {
	case KindNoWork:
		return NoWork{}
	case KindAllocated:
		return Allocated{Sector: SectorID{Miner: rng.Uint64N(1 << 20), Number: rng.Uint64N(1 << 30)},
			ProofType: rng.Int64N(16), Devnet: rng.IntN(2) == 0}
	case KindPiecesAcquired:
		var ps []Piece
		for range rng.IntN(3) {
			ps = append(ps, Piece{CID: "baga6ea4seaq", Size: uint64(pick(1<<(7+rng.IntN(29)), 100))})
		}
		return PiecesAcquired{Pieces: ps}
	case KindPiecesAdded:
		return PiecesAdded{}
	case KindTreeDBuilt:
		return TreeDBuilt{CommD: b32(0xd0)}
	case KindTicketAssigned:
		return TicketAssigned{Ticket: Randomness{Value: fill(0x71), Epoch: int64(pick(rng.IntN(1e6), -1))}}
	case KindPC1Done:
		return PC1Done{}
	case KindPC2Done:
		commD := rec.CommD
		if rng.IntN(5) == 0 || commD.IsZero() {
			commD = fill(0xee)
		}
		return PC2Done{CommR: b32(0xc0), CommD: commD, CommC: fill(0xcc), CommRLast: fill(0xc1)}
	case KindPreCommitSubmitted:
		return PreCommitSubmitted{Result: SubmitResult(pick(1+rng.IntN(5), 0)), Desc: "x"}
	case KindPreCommitState:
		return PreCommitState{State: OnChainState(pick(1+rng.IntN(7), 9)), Desc: "x"}
	case KindSeedAssigned:
		return SeedAssigned{Seed: Randomness{Value: fill(0x5e), Epoch: int64(pick(rng.IntN(1e6), -5))}}
	case KindSeedNotReady:
		return SeedNotReady{Delay: Duration(pick(rng.IntN(3), -1)) * Hour}
	case KindC1Done:
		return C1Done{}
	case KindC2Done:
		return C2Done{Proof: make([]byte, pick(proofPartitionBytes*(1+rng.IntN(10)), 0))}
	case KindC2Unavailable:
		return C2Unavailable{Reason: "no processor"}
	case KindProofSubmitted:
		return ProofSubmitted{Result: SubmitResult(pick(1+rng.IntN(5), 0))}
	case KindProofState:
		return ProofState{State: OnChainState(pick(1+rng.IntN(7), 0))}
	case KindFinalized:
		files := sampleFiles()
		if rng.IntN(5) == 0 {
			files[0].SHA256 = Bytes32{}
		}
		return Finalized{Location: "/store", Files: files}
	case KindDelivered:
		return Delivered{Result: SubmitResult(pick(1+rng.IntN(5), 6))}
	case KindDeliveryState:
		return DeliveryState{Status: DeliveryStatus(pick(1+rng.IntN(3), 4)), MayCleanUp: rng.IntN(2) == 0}
	case KindFailure:
		return Failure{Level: Level(pick(1+rng.IntN(3), 0)), Reason: "boom"}
	case KindRetry:
		return Retry{}
	case KindRestart:
		return Restart{}
	case KindOperatorResume:
		if rng.IntN(2) == 0 {
			return OperatorResume{}
		}
		return OperatorResume{To: State(rng.IntN(int(numStates) + 1))}
	}
	return OperatorAbort{Reason: "r"}
}

// TestRandomWalks feeds long random event sequences and checks, at every
// step: no panic; errors are typed and leave the record unchanged; a
// successful step lands on a target of its table row, in a state that has
// rows; terminal states never change; action lists obey the runner
// contract; and the record survives a JSON round trip.
func TestRandomWalks(t *testing.T) {
	walks, steps := 200, 300
	if testing.Short() {
		walks = 50
	}
	m := Machine{Policy: Policy{MaxRetries: 2}}
	legal, flows := legalKinds(), flowKinds()
	rng := rand.New(rand.NewPCG(1, 2))
	samples := sampleRecords(t)
	for w := 0; w < walks; w++ {
		// Start half the walks deep in the main line, where a walk from
		// Empty rarely gets before an abort ends it.
		rec := New()
		if w%2 == 1 {
			rec = samples[mainLine[rng.IntN(len(mainLine))]]
		}
		for i := 0; i < steps; i++ {
			ev := randomEvent(rng, rec, legal, flows)
			before := rec.clone()
			next, acts, err := m.Step(rec, ev)
			if !reflect.DeepEqual(rec, before) {
				t.Fatalf("step modified its input (%s in %s)", ev.Kind(), before.State)
			}
			if err != nil {
				var ill *IllegalTransitionError
				if !errors.As(err, &ill) && !errors.Is(err, ErrBadEvent) {
					t.Fatalf("untyped error %v", err)
				}
				if !reflect.DeepEqual(next, before) || acts != nil {
					t.Fatalf("failed step changed the record: %v", err)
				}
				continue
			}
			r, _ := lookup(before.State, ev.Kind())
			if !slices.Contains(r.targets(), next.State) {
				t.Fatalf("%s × %s → %s, not a row target", before.State, ev.Kind(), next.State)
			}
			checkVerdict(t, before, ev, next)
			if _, ok := legal[next.State]; !ok {
				t.Fatalf("reached %s, which has no rows", next.State)
			}
			if before.State.Terminal() && next.State != before.State {
				t.Fatalf("terminal %s left for %s", before.State, next.State)
			}
			if next.State == StatePaused && !next.PausedIn.Working() {
				t.Fatalf("paused without a resumable state: %+v", next)
			}
			checkActionShape(t, next.State, acts)
			if i%8 == 0 { // a sample is enough; JSON dominates the run time
				data, err := json.Marshal(next)
				if err != nil {
					t.Fatal(err)
				}
				back, err := Decode(data)
				if err != nil || !reflect.DeepEqual(back, next) {
					t.Fatalf("json round trip: %v\n%s", err, data)
				}
			}
			rec = next
			if rec.State.Terminal() && rng.IntN(4) == 0 {
				rec = New()
			}
		}
	}
}

// checkVerdict checks a successful step against the verdict decide made:
// the verdict must be one its kind declares, and the new state one that
// verdict can lead to (under the default policy's budgets).
func checkVerdict(t testing.TB, before Record, ev Event, next Record) {
	t.Helper()
	d := decide(before, ev, DefaultPolicy())
	r, _ := lookup(before.State, ev.Kind())
	if !slices.Contains(kindVerdicts[ev.Kind()], d.verdict) {
		t.Fatalf("%s × %s: verdict %s not declared for the kind", before.State, ev.Kind(), d.verdict)
	}
	if !slices.Contains(r.verdictTargets(d.verdict), next.State) {
		t.Fatalf("%s × %s: verdict %s led to %s, not in %v",
			before.State, ev.Kind(), d.verdict, next.State, r.verdictTargets(d.verdict))
	}
}

// variants enumerates the payloads of kind k that steer decide: every
// submit result, on-chain state and failure level, a matching and a
// mismatching CommD, every resume target.
func variants(k EventKind, rec Record) []Event {
	var out []Event
	switch k {
	case KindPC2Done:
		ev := sampleEvent(k).(PC2Done)
		out = append(out, ev)
		ev.CommD = fill(0xee)
		out = append(out, ev)
	case KindPreCommitSubmitted, KindDelivered, KindProofSubmitted:
		for r := SubmitResult(1); int(r) < len(submitNames); r++ {
			out = append(out, map[EventKind]Event{KindPreCommitSubmitted: PreCommitSubmitted{Result: r},
				KindDelivered: Delivered{Result: r}, KindProofSubmitted: ProofSubmitted{Result: r}}[k])
		}
	case KindDeliveryState:
		for s := DeliveryStatus(1); int(s) < len(deliveryNames); s++ {
			out = append(out, DeliveryState{Status: s, MayCleanUp: true})
		}
	case KindPreCommitState, KindProofState:
		for s := OnChainState(1); int(s) < len(chainNames); s++ {
			out = append(out, map[EventKind]Event{KindPreCommitState: PreCommitState{State: s},
				KindProofState: ProofState{State: s}}[k])
		}
	case KindFailure:
		for l := Level(1); int(l) < len(levelNames); l++ {
			out = append(out, Failure{Level: l, Reason: "x"})
		}
	case KindOperatorResume:
		out = append(out, OperatorResume{})
		for _, s := range States() {
			out = append(out, OperatorResume{To: s})
		}
	default:
		out = append(out, sampleEvent(k))
	}
	return out
}

// TestEveryTargetReachable steps every legal pair with every payload
// variant, from fresh records and from records whose retry and resubmit
// budgets are spent (and, for Paused, from a pause in every working state),
// and requires that every target the table declares is actually reached:
// no row promises a state it cannot produce.
func TestEveryTargetReachable(t *testing.T) {
	samples := sampleRecords(t)
	recordsIn := func(s State) []Record {
		if s == StatePaused {
			var out []Record
			for _, w := range mainLine {
				if w.Working() {
					p, _, err := Step(samples[w], Failure{Level: LevelPermanent, Reason: "x"})
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, p)
				}
			}
			return out
		}
		spent := samples[s].clone()
		spent.Retries = DefaultPolicy().MaxRetries
		spent.PreCommit.Resubmits = DefaultPolicy().MaxRetries
		spent.ProofSubmit.Resubmits = DefaultPolicy().MaxRetries
		return []Record{samples[s], spent}
	}
	for _, r := range rows() {
		reached := map[State]bool{}
		recs := recordsIn(r.From)
		if r.Path == PathNI {
			ni := sampleFor(t, samples, r)
			spent := ni.clone()
			spent.Retries = DefaultPolicy().MaxRetries
			recs = []Record{ni, spent}
		}
		for _, rec := range recs {
			for _, ev := range variants(r.On, rec) {
				next, _, err := Step(rec, ev)
				if err != nil {
					continue
				}
				reached[next.State] = true
				checkVerdict(t, rec, ev, next)
			}
		}
		for _, to := range r.targets() {
			if !reached[to] {
				t.Errorf("%s × %s never reaches declared target %s", r.From, r.On, to)
			}
		}
		for s := range reached {
			if !slices.Contains(r.targets(), s) {
				t.Errorf("%s × %s reaches undeclared %s", r.From, r.On, s)
			}
		}
	}
}
