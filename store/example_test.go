package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/store"
)

// A worker slot asks for work, reports progress, restarts, and is given the
// same sector back.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "store-example")
	defer os.RemoveAll(dir)
	s, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "manager.sqlite"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, t := range []store.Tenant{
		{ID: "acme", Miner: 1000, ProofType: abi.StackedDrg32GiBV1_1, Weight: 2},
		{ID: "zeta", Miner: 2000, ProofType: abi.StackedDrg32GiBV1_1, Weight: 1},
	} {
		if _, err := s.CreateTenant(ctx, t, now); err != nil {
			fmt.Println(err)
			return
		}
	}
	// The chain says miner 1000 already used numbers up to 41.
	_ = s.BumpSectorNumberFloor(ctx, 1000, 42)

	policy := store.AllocatePolicy{LeaseTTL: 10 * time.Minute}
	a, _ := s.AllocateSector(ctx, "host1/slot0", store.AllocateFilter{}, now, policy)
	fmt.Println("allocated", a.Sector.ID, "to", a.Sector.TenantID)

	// Its state report (written as the manager does, in one worker call)
	// renews the lease.
	_, _ = s.WorkerReport(ctx, store.Holder{Now: now.Add(time.Minute), TTL: policy.LeaseTTL},
		store.StateReport{ID: a.Sector.ID, Prev: "Allocated", Next: "PC1Done", Event: "PC1"}, nil, nil)

	// The worker dies; an hour later its lease has expired…
	later := now.Add(time.Hour)
	expired, _ := s.ExpiredLeases(ctx, later)
	fmt.Println("expired leases:", len(expired))
	// …another slot gets a different sector (fair share: acme's (1+1)/2
	// ties zeta's (0+1)/1, and the smaller id wins)…
	b, _ := s.AllocateSector(ctx, "host2/slot0", store.AllocateFilter{}, later, policy)
	fmt.Println("allocated", b.Sector.ID, "to", b.Sector.TenantID)
	// …and the restarted slot gets its own sector back, state intact.
	r, _ := s.AllocateSector(ctx, "host1/slot0", store.AllocateFilter{}, later, policy)
	fmt.Println("re-offered", r.Sector.ID, r.Reoffered, r.Sector.State)
	// Output:
	// allocated f01000/42 to acme
	// expired leases: 1
	// allocated f01000/43 to acme
	// re-offered f01000/42 true PC1Done
}
