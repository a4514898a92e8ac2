package commit

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

// randomFacts draws facts for any state, with every gathered answer
// present or not, so Plan meets combinations the table cases do not list.
func randomFacts(r *rand.Rand) Facts {
	n := r.IntN(6)
	var ids []store.SectorID
	for i := range n {
		ids = append(ids, store.SectorID{Miner: 1000, Number: uint64(i + 1)})
	}
	kind := []store.BatchKind{store.BatchPreCommit, store.BatchProveCommit}[r.IntN(2)]
	f := Facts{State: State(1 + r.IntN(int(numStates)-1)), Kind: kind, Members: ids, From: "f1x", Nonce: 3,
		Now: lcNow, Head: 1000, Confidence: 5, ReleaseRefused: r.IntN(4) == 0}
	f.Close = CloseInput{Policy: BatchPolicy{Size: 1 + r.IntN(5), MaxWait: time.Duration(r.IntN(3)) * time.Hour},
		Members: n, Opened: lcNow.Add(-time.Duration(r.IntN(3)) * time.Hour), Now: lcNow, Head: 1000, Slack: 60}
	if r.IntN(3) > 0 {
		ni := r.IntN(3) == 0
		for _, id := range ids {
			v := Verdict(r.IntN(5))
			if r.IntN(2) == 0 {
				v = Ready
			}
			f.Precheck = append(f.Precheck, MemberCheck{ID: id, Check: Check{Verdict: v, Reason: v.String()}, ProofType: int64(3 + r.IntN(2)), NI: ni})
		}
	}
	if r.IntN(3) > 0 {
		codes := []types.ExitCode{types.ErrIllegalArgument, types.SysErrInsufficientFunds, types.SysErrOutOfGas, 0}
		b := &BuildFacts{GasLimit: []int64{1000, types.BlockGasLimit + 1}[r.IntN(2)], Fee: FeeDecision{OK: r.IntN(3) > 0},
			Size: []int{100, 70000}[r.IntN(2)], Limit: 65536}
		if r.IntN(3) == 0 {
			b.EstimateErr, b.EstimateExit = "estimate failed", codes[r.IntN(len(codes))]
			b.EstimateExitOK = b.EstimateExit != 0
		}
		f.Build = b
	}
	f.Sign = SignFacts{Have: r.IntN(2) == 0, AltCID: r.IntN(5) == 0, InFlight: r.IntN(4) == 0, Failed: r.IntN(3) == 0,
		Refused: r.IntN(2) == 0, FailedAt: lcNow.Add(-time.Duration(r.IntN(30)) * time.Minute), Err: "x", RetryBackoff: 10 * time.Minute}
	if r.IntN(5) == 0 {
		f.Sign.NoSigner = "none"
	}
	f.RepushDue = r.IntN(2) == 0
	if r.IntN(3) > 0 {
		f.Chain = &ChainFacts{Found: r.IntN(2) == 0, Height: types.ChainEpoch(990 + r.IntN(12)),
			Exit: []types.ExitCode{types.Ok, types.ErrIllegalArgument, types.SysErrInsufficientFunds, types.SysErrOutOfGas}[r.IntN(4)], CID: "bafy"}
	}
	if r.IntN(3) > 0 {
		f.Push = &PushFacts{Outcome: PushOutcome(r.IntN(4)), Err: "e"}
	}
	if r.IntN(2) == 0 {
		f.Culprits = map[store.SectorID]string{}
		for _, id := range ids {
			if r.IntN(3) == 0 {
				f.Culprits[id] = "bad"
			}
		}
	}
	return f
}

// TestPlanProperties checks, on many random facts, what must hold for any
// decision: a gathering action comes last; a terminal state plans nothing;
// and a batch that ends (release, abandon, land) loses no sector — each
// member is regrouped, failed, paused for a retry, or (precheck) left out
// for a stated reason, and none is placed twice.
func TestPlanProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 3))
	for i := range 200_000 {
		f := randomFacts(r)
		d := Plan(f)
		if f.State.Terminal() != (d.Rule == "terminal") || f.State.Terminal() && len(d.Actions) > 0 {
			t.Fatalf("case %d: %s planned %v", i, f.State, d.Actions)
		}
		for j, a := range d.Actions {
			if a.Kind.Gathers() && j != len(d.Actions)-1 {
				t.Fatalf("case %d: gathering %s not last in %v", i, a.Kind, d.Actions)
			}
		}
		for _, a := range d.Actions {
			switch a.Kind {
			case ActRelease, ActAbandon, ActLand:
			default:
				continue
			}
			if a.Kind == ActLand && a.Exit.IsSuccess() {
				continue // landed: members stay in their landed batch
			}
			placed := map[store.SectorID]int{}
			for _, g := range a.Groups {
				for _, id := range g {
					placed[id]++
				}
			}
			for id := range a.Fail {
				placed[id]++
			}
			for _, id := range a.Retry {
				placed[id]++
			}
			left := map[store.SectorID]bool{}
			for _, c := range f.Precheck {
				if c.Check.Verdict == Drop || c.Check.Verdict == Done {
					left[c.ID] = true
				}
			}
			for _, id := range f.Members {
				switch {
				case placed[id] > 1:
					t.Fatalf("case %d (%s, %s): sector %s placed %d times by %v", i, f.State, d.Rule, id, placed[id], a)
				case placed[id] == 0 && !(a.Kind == ActRelease && left[id]):
					t.Fatalf("case %d (%s, %s): sector %s lost by %v (facts %+v)", i, f.State, d.Rule, id, a, f)
				}
			}
			for id := range placed {
				if !containsID(f.Members, id) {
					t.Fatalf("case %d: %s is no member but placed by %v", i, id, a)
				}
			}
		}
	}
}

func containsID(ids []store.SectorID, id store.SectorID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
