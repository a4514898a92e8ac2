package manager

import (
	"context"
	"testing"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/manager/wdpost"
)

// TestWindowPoStTenants: only tenants without a delivery target
// (Architecture 1) are proven by the provider, from its store, sending from
// their first configured sender (zero: the miner's worker, looked up by
// wdpost); without a store nothing is proven here.
func TestWindowPoStTenants(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	ctx := context.Background()
	sender := address.NewIDAddress(1234)
	mustTenant(t, s, "keeps", 1000, 1, func(tc *api.TenantConfig) { tc.Senders = []string{sender.String()} })
	mustTenant(t, s, "keeps-worker", 1001, 1)
	mustTenant(t, s, "own-sp", 1002, 1, func(tc *api.TenantConfig) { tc.DeliveryTarget = testReceiverTarget })

	if ts, err := s.WindowPoStTenants(ctx); err != nil || len(ts) != 0 {
		t.Fatalf("without store_path: %+v, %v; want none", ts, err)
	}
	root := t.TempDir()
	s.delivery.StorePath = root
	ts, err := s.WindowPoStTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]wdpost.Tenant{
		"keeps":        {Name: "keeps", Miner: 1000, Store: wdpost.LayoutStore{Root: root}, Sender: sender},
		"keeps-worker": {Name: "keeps-worker", Miner: 1001, Store: wdpost.LayoutStore{Root: root}},
	}
	if len(ts) != len(want) {
		t.Fatalf("tenants = %+v, want %d", ts, len(want))
	}
	for _, got := range ts {
		if w, ok := want[got.Name]; !ok || got != w {
			t.Errorf("tenant %+v, want %+v", got, w)
		}
	}
}
