package manager

import (
	"errors"
	"testing"

	"github.com/sealant/sealant/api"
)

// TestTenantBounds: values the chain would refuse later are refused when
// the tenant is created or updated.
func TestTenantBounds(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	base := api.TenantConfig{ID: "x", Miner: 1000, ProofType: 5}
	bad := map[string]func(*api.TenantConfig){
		"miner 0":               func(tc *api.TenantConfig) { tc.Miner = 0 },
		"miner 99":              func(tc *api.TenantConfig) { tc.Miner = 99 },
		"expiration 1e9":        func(tc *api.TenantConfig) { tc.ExpirationDays = 1_000_000_000 },
		"expiration 10":         func(tc *api.TenantConfig) { tc.ExpirationDays = 10 },
		"precommit batch 1e15":  func(tc *api.TenantConfig) { tc.PreCommitBatchSize = 1_000_000_000_000_000 },
		"provecommit batch 1e6": func(tc *api.TenantConfig) { tc.ProveCommitBatchSize = 1_000_000 },
		"delivery file://":      func(tc *api.TenantConfig) { tc.DeliveryTarget = "file:///etc/passwd" },
		"delivery no host":      func(tc *api.TenantConfig) { tc.DeliveryTarget = "http:///x" },
	}
	for name, mod := range bad {
		tc := base
		mod(&tc)
		if _, err := s.CreateTenant(adminCtx(), tc); !errors.Is(err, ErrInvalid) {
			t.Errorf("create with %s: %v, want ErrInvalid", name, err)
		}
	}
	ok := base
	ok.ExpirationDays, ok.PreCommitBatchSize, ok.ProveCommitBatchSize = 1278, 256, 819
	ok.DeliveryTarget = "https://sp.example:8443/#token=abc"
	if _, err := s.CreateTenant(adminCtx(), ok); err != nil {
		t.Fatalf("create at the bounds: %v", err)
	}
	ok.DeliveryTarget = "file:///tmp"
	if _, err := s.UpdateTenant(adminCtx(), ok); !errors.Is(err, ErrInvalid) {
		t.Errorf("update to file://: %v, want ErrInvalid", err)
	}
}
