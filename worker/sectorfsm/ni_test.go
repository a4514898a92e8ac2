package sectorfsm

import (
	"errors"
	"slices"
	"testing"
)

// TestNIPath walks an NI-PoRep sector from Empty to Finished: after PC2 it
// runs C1 at once, and the interactive-only events and states are refused.
func TestNIPath(t *testing.T) {
	rec := New()
	var visited []State
	for _, ev := range niHappyPath() {
		next, acts, err := Step(rec, ev)
		if err != nil {
			t.Fatalf("%s in %s: %v", ev.Kind(), rec.State, err)
		}
		if next.State == StatePC2Done {
			if len(acts) != 1 || acts[0].Name() != (RunC1{}).Name() {
				t.Fatalf("NI sector at PC2Done runs %v, want run-c1", acts)
			}
			for _, bad := range []Event{PreCommitSubmitted{Result: SubmitAccepted}, PreCommitState{State: ChainLanded}, SeedAssigned{Seed: Randomness{Value: fill(1), Epoch: 9}}} {
				_, _, err := Step(next, bad)
				var ill *IllegalTransitionError
				if !errors.As(err, &ill) {
					t.Errorf("NI sector accepted %s at PC2Done: %v", bad.Kind(), err)
				}
			}
		}
		rec = next
		visited = append(visited, rec.State)
	}
	if rec.State != StateFinished || PathOf(rec) != PathNI {
		t.Fatalf("ended in %s, path %s", rec.State, PathOf(rec))
	}
	for _, s := range []State{StatePreCommitSubmitted, StatePreCommitLanded, StateSeedAssigned} {
		if slices.Contains(visited, s) || slices.Contains(niLine, s) {
			t.Errorf("NI path passes %s", s)
		}
	}
	if len(niLine) != len(mainLine)-3 {
		t.Errorf("niLine %v", niLine)
	}

	// An interactive sector may not skip to C1 after PC2.
	inter := sampleRecords(t)[StatePC2Done]
	if _, _, err := Step(inter, C1Done{}); err == nil {
		t.Fatal("interactive sector ran NI C1 at PC2Done")
	}
	if PathOf(inter) != PathInteractive {
		t.Fatal("interactive sample has the NI path")
	}
	if got := nextActions(inter); got[0].Name() != (SubmitPreCommit{}).Name() {
		t.Fatalf("interactive PC2Done runs %v", got)
	}
}

// TestNIResume: a paused NI sector may be forced back along its own path
// only.
func TestNIResume(t *testing.T) {
	ni := niSampleRecords(t)
	paused, _, err := Step(ni[StateC2Done], Failure{Level: LevelPermanent, Stage: "submit-proof", Reason: "x"})
	if err != nil || paused.State != StatePaused {
		t.Fatalf("%v %s", err, paused.State)
	}
	for _, to := range []State{StatePreCommitLanded, StateSeedAssigned, StatePreCommitSubmitted} {
		if _, _, err := Step(paused, OperatorResume{To: to}); err == nil {
			t.Errorf("NI sector resumed into %s", to)
		}
	}
	next, acts, err := Step(paused, OperatorResume{To: StatePC2Done})
	if err != nil || next.State != StatePC2Done || acts[0].Name() != (RunC1{}).Name() {
		t.Fatalf("resume into PC2Done: %v %s %v", err, next.State, acts)
	}
}

func TestIsNIProof(t *testing.T) {
	for pt := int64(-1); pt < 25; pt++ {
		if IsNIProof(pt) != (pt >= 15 && pt <= 19) {
			t.Errorf("IsNIProof(%d)", pt)
		}
	}
}
