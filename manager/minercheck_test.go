package manager

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

// minerChain is a fakeChain that also answers StateMinerInfo and
// StateLookupID, for the miner checks.
type minerChain struct {
	*fakeChain
	mu      sync.Mutex
	miners  map[uint64]*lotus.MinerInfo
	ids     map[string]address.Address // robust → ID
	offline bool
}

func (c *minerChain) StateMinerInfo(_ context.Context, maddr address.Address, _ types.TipSetKey) (*lotus.MinerInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.offline {
		return nil, errors.New("dial tcp 127.0.0.1:1234: connection refused")
	}
	id, _ := address.IDOf(maddr)
	if mi := c.miners[id]; mi != nil {
		return mi, nil
	}
	return nil, &lotus.RPCError{Code: lotus.CodeGeneric, Message: "resolution lookup failed (" + maddr.String() + "): actor not found"}
}

func (c *minerChain) StateLookupID(_ context.Context, a address.Address, _ types.TipSetKey) (address.Address, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.offline {
		return address.Undef, errors.New("connection refused")
	}
	if a.Protocol() == address.ID {
		return a, nil
	}
	if id, ok := c.ids[a.String()]; ok {
		return id, nil
	}
	return address.Undef, &lotus.RPCError{Code: lotus.CodeGeneric, Message: "actor not found"}
}

func (c *minerChain) setOffline(v bool) { c.mu.Lock(); c.offline = v; c.mu.Unlock() }
func (c *minerChain) add(id uint64, mi *lotus.MinerInfo) {
	c.mu.Lock()
	c.miners[id] = mi
	c.mu.Unlock()
}

// TestMinerCheckedOnChain: a tenant for a miner the chain does not know is
// refused; senders must be the miner's owner, worker or control addresses;
// an unreachable chain refuses creation unless skip_chain_check, and then
// no sector is allocated for the tenant until the chain confirms the miner.
// A tenant whose miner disappears (or was created before the check) never
// gets a sector handed out.
func TestMinerCheckedOnChain(t *testing.T) {
	e := newEnv(t)
	worker := address.NewIDAddress(1100)
	owner := address.NewIDAddress(1101)
	robust, err := address.Parse("t3vvmn62lofvhjd2ugzca6sof2j2ubwok6cj4xxbfzz4yuxfkgobpihhd2thlanmsh3w2ptld2gqkn2jvlss4a")
	if err != nil {
		t.Fatal(err)
	}
	ch := &minerChain{fakeChain: e.chain, miners: map[uint64]*lotus.MinerInfo{
		1000: {Owner: owner, Worker: worker},
	}, ids: map[string]address.Address{robust.String(): worker}}
	s := openWithChain(t, e, ch)

	create := func(tc api.TenantConfig) error {
		if tc.ProofType == 0 {
			tc.ProofType = 5
		}
		_, err := s.CreateTenant(adminCtx(), tc)
		return err
	}
	if err := create(api.TenantConfig{ID: "ghost", Miner: 424242}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "not found on chain") {
		t.Fatalf("unknown miner: %v", err)
	}
	if err := create(api.TenantConfig{ID: "thief", Miner: 1000, Senders: []string{"t01999"}}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "not the owner, worker") {
		t.Fatalf("foreign sender: %v", err)
	}
	if err := create(api.TenantConfig{ID: "acme", Miner: 1000, Senders: []string{robust.String(), owner.String()}}); err != nil {
		t.Fatalf("miner on chain, senders its worker (robust) and owner: %v", err)
	}

	// Chain unreachable: refused, unless skip_chain_check.
	ch.setOffline(true)
	if err := create(api.TenantConfig{ID: "later", Miner: 2000}); !errors.Is(err, ErrNoChain) {
		t.Fatalf("unreachable chain: %v", err)
	}
	if err := create(api.TenantConfig{ID: "later", Miner: 2000, SkipChainCheck: true}); err != nil {
		t.Fatalf("skip_chain_check: %v", err)
	}
	if _, err := s.PauseTenant(adminCtx(), "acme", true); err != nil {
		t.Fatal(err)
	}
	ch.setOffline(false)
	// Miner 2000 is still unknown: nothing is allocated for "later".
	for i := range 3 {
		a, err := s.AllocateSector(workerCtx("w1"), api.AllocateSpec{Worker: "w1", Thread: "t0"})
		if a != nil {
			t.Fatalf("try %d: allocated %+v for a miner the chain does not know (err %v)", i, a, err)
		}
	}
	// The miner appears; after the recheck delay the tenant gets sectors.
	ch.add(2000, &lotus.MinerInfo{Owner: owner, Worker: worker})
	e.clock.Advance(2 * minerRecheck)
	a, err := s.AllocateSector(workerCtx("w1"), api.AllocateSpec{Worker: "w1", Thread: "t0"})
	if err != nil || a == nil || a.Tenant != "later" {
		t.Fatalf("after the miner appeared: %+v, %v", a, err)
	}
}

// TestNoSectorForUnknownMinerOnRetry: a tenant whose miner the chain does
// not know (created before the check existed) gets no sector, neither on
// the first call nor on the retry that used to re-offer it.
func TestNoSectorForUnknownMinerOnRetry(t *testing.T) {
	e := newEnv(t)
	s := e.open() // the plain fake chain: no miner checks at creation
	mustTenant(t, s, "old", 424242, 1)
	s.Close()
	ch := &minerChain{fakeChain: e.chain, miners: map[uint64]*lotus.MinerInfo{}, ids: map[string]address.Address{}}
	s = openWithChain(t, e, ch)
	for i := range 3 {
		a, err := s.AllocateSector(workerCtx("w1"), api.AllocateSpec{Worker: "w1", Thread: "t0"})
		if a != nil {
			t.Fatalf("call %d: sector %+v handed out for miner 424242 (err %v)", i, a, err)
		}
	}
	secs, err := s.st.ListSectors(context.Background(), store.SectorFilter{TenantID: "old"})
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range secs {
		if sec.Phase != store.PhaseAborted {
			t.Errorf("sector %s of an unknown miner left %s", sec.ID, sec.Phase)
		}
	}
}

func openWithChain(t *testing.T, e *env, ch Chain) *Service {
	t.Helper()
	s, err := NewService(context.Background(), Options{
		DSN: e.dsn, Chain: ch, Secret: testSecret, Now: e.clock.Now, Policy: rand.Devnet2K, BlockTime: 4 * time.Second,
		PollCacheTTL: -1, HandoffInterval: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
