package sectorfsm_test

import (
	"encoding/json"
	"fmt"

	"github.com/sealant/sealant/worker/sectorfsm"
)

// A runner's view: step, persist, act, and after a crash decode the stored
// record and step Restart to learn what to rerun.
func Example() {
	m := sectorfsm.Machine{Policy: sectorfsm.DefaultPolicy()}
	show := func(rec sectorfsm.Record, acts []sectorfsm.Action) {
		for _, a := range acts {
			fmt.Printf("%s: %s\n", rec.State, sectorfsm.FormatAction(a))
		}
	}

	rec, acts, _ := m.Step(sectorfsm.New(), sectorfsm.Restart{})
	show(rec, acts)
	rec, acts, _ = m.Step(rec, sectorfsm.Allocated{Sector: sectorfsm.SectorID{Miner: 1000, Number: 1}, ProofType: 5})
	show(rec, acts)
	rec, acts, _ = m.Step(rec, sectorfsm.Failure{Level: sectorfsm.LevelTemporary, Reason: "manager unreachable"})
	show(rec, acts)

	stored, _ := json.Marshal(rec) // persisted before acting; then the process dies
	rec, _ = sectorfsm.Decode(stored)
	rec, acts, _ = m.Step(rec, sectorfsm.Restart{})
	show(rec, acts)

	_, _, err := m.Step(rec, sectorfsm.PC1Done{})
	fmt.Println(err)
	// Output:
	// Empty: allocate-sector
	// Allocated: acquire-pieces
	// Allocated: sleep 30s (backoff)
	// Allocated: acquire-pieces
	// sectorfsm: event pc1-done not allowed in state Allocated
}
