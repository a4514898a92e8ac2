package store

import (
	"fmt"
	"sync"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
)

func TestBatchCapacity(t *testing.T) {
	ni := abi.StackedDrg2KiBV1_2_Feat_NiPoRep
	for _, c := range []struct {
		name string
		t    Tenant
		kind BatchKind
		want int
	}{
		{"precommit size", Tenant{Batching: Batching{PreCommitBatchSize: 8}}, BatchPreCommit, 8},
		{"precommit unset", Tenant{}, BatchPreCommit, 1},
		{"provecommit per sector", Tenant{Batching: Batching{ProveCommitBatchSize: 8}}, BatchProveCommit, 1},
		{"provecommit aggregate", Tenant{Batching: Batching{ProveCommitMode: ProveAggregate, ProveCommitBatchSize: 8}}, BatchProveCommit, 8},
		{"ni batches whatever its mode", Tenant{ProofType: ni, Batching: Batching{ProveCommitBatchSize: 8}}, BatchProveCommit, 8},
		{"ni at most the actor's limit", Tenant{ProofType: ni, Batching: Batching{ProveCommitBatchSize: 500}}, BatchProveCommit, MaxNIBatch},
	} {
		if got := c.t.BatchCapacity(c.kind); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// TestSubmissionsKeepBatchCapacity submits many sectors' commitments at
// once, so that on PostgreSQL several share one group transaction, and
// checks that no batch holds more than the tenant's batch size: the long
// reliability suite found a per-sector ProveCommit batch holding two
// sectors, of which its message carried one.
func TestSubmissionsKeepBatchCapacity(t *testing.T) {
	callsBackends(t, func(t *testing.T, s *Store) {
		tn := tenant("acme", 1000, 1)
		tn.Batching = Batching{PreCommitBatchSize: 2}
		mustCreate(t, s, tn)
		const n = 9
		var ids []SectorID
		tk := Ticket{Value: b32(7), Epoch: 100}
		h := Holder{Now: t0}
		for i := range n {
			id := mustAlloc(t, s, fmt.Sprintf("w/t%d", i), t0).Sector.ID
			if _, _, err := s.WorkerRandomness(bg, id, h, false, &tk); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := Commitments{PreCommitInfo: PreCommitInfo{CommR: b32(byte(i + 1)), CommD: b32(2), Ticket: tk}}
				_, errs[i] = s.WorkerSubmitPreCommit(bg, id, h, c, false)
			}()
		}
		wg.Wait()
		members := map[int64]int{}
		for i, id := range ids {
			if errs[i] != nil {
				t.Fatalf("submit %s: %v", id, errs[i])
			}
			sec, err := s.GetSector(bg, id)
			if err != nil {
				t.Fatal(err)
			}
			if sec.PreCommitBatch == 0 {
				t.Fatalf("sector %s in no batch", id)
			}
			members[sec.PreCommitBatch]++
		}
		for b, m := range members {
			if m > 2 {
				t.Errorf("batch %d holds %d sectors, the tenant's size is 2", b, m)
			}
		}
		if len(members) < (n+1)/2 {
			t.Errorf("%d sectors in %d batches", n, len(members))
		}
	})
}
