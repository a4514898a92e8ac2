package sectorfsm

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestEveryPair steps every (state, event kind) pair of the cross product
// from a realistic record with the ordinary event of that kind. Pairs in
// the table must succeed into one of the row's targets; all others must
// fail with *IllegalTransitionError naming the pair and leave the record
// unchanged. The outcome of every pair is also pinned in
// testdata/transitions.golden, so any change to the table shows up as a
// reviewable diff.
func TestEveryPair(t *testing.T) {
	samples := sampleRecords(t)
	var golden strings.Builder
	legal := 0
	for _, s := range States() {
		for _, k := range EventKinds() {
			r, inTable := lookup(s, k)
			rec := samples[s]
			if inTable {
				rec = sampleFor(t, samples, r)
			}
			before := rec.clone()
			next, acts, err := Step(rec, sampleEvent(k))
			if !reflect.DeepEqual(rec, before) {
				t.Fatalf("%s × %s: Step modified its input record", s, k)
			}
			if !inTable {
				var ill *IllegalTransitionError
				if !errors.As(err, &ill) || ill.State != s || ill.Event != k {
					t.Errorf("%s × %s: got %v, want IllegalTransitionError", s, k, err)
				}
				if !reflect.DeepEqual(next, before) || acts != nil {
					t.Errorf("%s × %s: illegal step returned a changed record or actions", s, k)
				}
				fmt.Fprintf(&golden, "%s × %s: illegal\n", s, k)
				continue
			}
			legal++
			if err != nil {
				t.Errorf("%s × %s: %v", s, k, err)
				continue
			}
			if !slices.Contains(r.targets(), next.State) {
				t.Errorf("%s × %s → %s, not a target of the row %v", s, k, next.State, r.targets())
			}
			if next.Steps != rec.Steps+1 {
				t.Errorf("%s × %s: steps %d → %d", s, k, rec.Steps, next.Steps)
			}
			var names []string
			for _, a := range acts {
				names = append(names, FormatAction(a))
			}
			fmt.Fprintf(&golden, "%s × %s → %s: %s\n", s, k, next.State, strings.Join(names, "; "))
		}
	}
	if legal != len(rows()) {
		t.Errorf("stepped %d legal pairs, table has %d rows", legal, len(rows()))
	}
	checkGolden(t, "testdata/transitions.golden", golden.String())
}

// TestTableShape checks structural promises of the table: every state has
// rows (none is a dead end), the main line runs Empty..Finished through
// every working state, advancing rows name their target and resubmission
// rows their way back, and terminal states accept nothing but Restart.
func TestTableShape(t *testing.T) {
	for _, s := range States() {
		n := 0
		for _, r := range rows() {
			if r.From == s {
				n++
			}
		}
		if n == 0 {
			t.Errorf("state %s has no rows", s)
		}
		if s.Terminal() && n != 1 {
			t.Errorf("terminal state %s has %d rows, want only restart", s, n)
		}
	}
	for _, r := range rows() {
		vs := kindVerdicts[r.On]
		if len(vs) == 0 {
			t.Errorf("kind %s has no verdicts", r.On)
		}
		if slices.Contains(vs, advance) != (r.To != 0) {
			t.Errorf("row %s/%s: advance target %s inconsistent with verdicts %v", r.From, r.On, r.To, vs)
		}
		if slices.Contains(vs, back) != (r.Back != 0) {
			t.Errorf("row %s/%s: back target %s inconsistent with verdicts %v", r.From, r.On, r.Back, vs)
		}
		for _, to := range r.targets() {
			if !to.Valid() {
				t.Errorf("row %s/%s has invalid target", r.From, r.On)
			}
		}
	}
	var working []State
	for _, s := range States() {
		if s.Working() {
			working = append(working, s)
		}
	}
	want := append(working, StateFinished)
	if !slices.Equal(mainLine, want) {
		t.Errorf("main line %v, want %v", mainLine, want)
	}
}

// TestNextActionsAreHandled checks that every event an action may yield is
// legal in the state that emitted it, and that its Restart reruns the same
// action: the runner can never receive a result the table rejects.
func TestNextActionsAreHandled(t *testing.T) {
	samples := sampleRecords(t)
	for _, s := range States() {
		acts := nextActions(samples[s])
		for _, a := range acts {
			for _, k := range a.Yields() {
				if _, ok := lookup(s, k); !ok {
					t.Errorf("%s emits %s, which yields %s, illegal there", s, a.Name(), k)
				}
			}
		}
		_, again, err := Step(samples[s], Restart{})
		if err != nil || !reflect.DeepEqual(again, acts) {
			t.Errorf("%s: restart gave %v, %v; want %v", s, again, err, acts)
		}
		checkActionShape(t, s, acts)
	}
}

// checkActionShape checks the runner contract on an action list emitted
// for state s: working states end in exactly one result-yielding action,
// terminal states only have exit actions, Paused has none.
func checkActionShape(t testing.TB, s State, acts []Action) {
	t.Helper()
	switch {
	case s == StatePaused:
		if len(acts) != 0 {
			t.Errorf("%s emitted %v", s, acts)
		}
	case s.Terminal():
		if len(acts) == 0 {
			t.Errorf("%s emitted no exit actions", s)
		}
		for _, a := range acts {
			if a.Yields() != nil {
				t.Errorf("%s exit action %s yields events", s, a.Name())
			}
		}
	default:
		yielding := 0
		for _, a := range acts {
			if len(a.Yields()) > 0 {
				yielding++
			}
		}
		if yielding != 1 || len(acts) == 0 || len(acts[len(acts)-1].Yields()) == 0 {
			t.Errorf("%s: want exactly one yielding action, last; got %v", s, acts)
		}
	}
}

func TestBackoff(t *testing.T) {
	p := Policy{BackoffBase: 10 * Second, BackoffMax: 5 * Minute}
	want := []Duration{10 * Second, 20 * Second, 40 * Second, 80 * Second, 160 * Second, 5 * Minute, 5 * Minute}
	for i, w := range want {
		if got := p.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
	if got := p.Backoff(1 << 30); got != 5*Minute {
		t.Errorf("Backoff(huge) = %s, want cap", got)
	}
}

func TestIllegalTransitionErrorAs(t *testing.T) {
	_, _, err := Step(New(), PC1Done{})
	var ill *IllegalTransitionError
	if !errors.As(fmt.Errorf("runner: %w", err), &ill) {
		t.Fatalf("errors.As failed on %v", err)
	}
	if ill.State != StateEmpty || ill.Event != KindPC1Done {
		t.Errorf("got %+v", ill)
	}
	if _, _, err := Step(New(), nil); !errors.Is(err, ErrBadEvent) {
		t.Errorf("nil event: %v", err)
	}
	if _, _, err := Step(Record{}, Restart{}); !errors.Is(err, ErrVersion) {
		t.Errorf("zero record: %v", err)
	}
	bad := New()
	bad.State = numStates
	if _, _, err := Step(bad, Restart{}); !errors.Is(err, ErrBadRecord) {
		t.Errorf("invalid state: %v", err)
	}
	samples := sampleRecords(t)
	for _, tc := range []struct {
		in State
		ev Event
	}{
		{StatePC2Done, PreCommitSubmitted{}},
		{StateFinalized, Delivered{Result: 99}},
		{StateDelivered, DeliveryState{Status: 9}},
		{StateProofLanded, Finalized{Location: "/x"}},
		{StateProofLanded, Finalized{Location: "/x", Files: []File{{Name: "sealed/s-t01-1"}}}},
		{StateProofSubmitted, ProofState{State: 99}},
		{StateTicketAssigned, Failure{}},
		{StatePaused, OperatorResume{To: numStates}},
		{StatePreCommitLanded, SeedNotReady{Delay: -1}},
		{StatePC1Done, PC2Done{CommD: fill(1)}},
		{StateC1Done, C2Done{Proof: nil}},
	} {
		rec := samples[tc.in]
		next, acts, err := Step(rec, tc.ev)
		if !errors.Is(err, ErrBadEvent) || !reflect.DeepEqual(next, rec) || acts != nil {
			t.Errorf("%s %+v in %s: got %v, want ErrBadEvent and no change", tc.ev.Kind(), tc.ev, tc.in, err)
		}
	}
}

func TestEnumNames(t *testing.T) {
	for _, s := range States() {
		got, err := ParseState(s.String())
		if err != nil || got != s {
			t.Errorf("state %s round trip: %v %v", s, got, err)
		}
	}
	for _, k := range EventKinds() {
		got, err := ParseEventKind(k.String())
		if err != nil || got != k || sampleEvent(k).Kind() != k {
			t.Errorf("kind %s round trip: %v %v", k, got, err)
		}
	}
	if _, err := State(0).MarshalText(); err == nil {
		t.Error("zero state encoded")
	}
	if s := State(200).String(); s != "State(200)" {
		t.Errorf("invalid state string %q", s)
	}
}

func TestDurationString(t *testing.T) {
	for d, want := range map[Duration]string{
		0: "0s", 30 * Second: "30s", 90 * Second: "1m30s", 3 * Minute: "3m0s",
		75 * Minute: "1h15m0s", 2*Hour + 3*Second: "2h0m3s", 1500 * Millisecond: "1500ms",
		7: "7ns", -30 * Second: "-30s",
	} {
		if got := d.String(); got != want {
			t.Errorf("%d: got %q, want %q", int64(d), got, want)
		}
	}
}
