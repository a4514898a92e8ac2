package bench

import (
	"context"
	"testing"
	"time"
)

// TestRunSmall runs a short, small load and checks every method answered
// without errors and the threads made progress through the script.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("load run skipped in -short mode")
	}
	rep, err := Run(context.Background(), Config{Threads: 20, Duration: 2 * time.Second, Interval: 50 * time.Millisecond, PollsPerStage: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors != 0 {
		t.Fatalf("errors: %+v", rep.Methods)
	}
	if rep.Sectors != 20 || rep.Requests < 100 {
		t.Fatalf("report = %+v", rep)
	}
	seen := map[string]bool{}
	for _, m := range rep.Methods {
		seen[m.Method] = true
	}
	for _, m := range []string{"Sealant.AllocateSector", "Sealant.SubmitPreCommit", "Sealant.PollPreCommitState"} {
		if !seen[m] {
			t.Errorf("method %s never called: %+v", m, rep.Methods)
		}
	}
}

func TestLimits(t *testing.T) {
	for _, c := range []Config{{Threads: 0, Duration: time.Second}, {Threads: MaxThreads + 1, Duration: time.Second}, {Threads: 1, Duration: MaxDuration + 1}, {Threads: 1}} {
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
