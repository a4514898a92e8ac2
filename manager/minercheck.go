package manager

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/types"
)

// MinerInfoReader is an optional capability of a Chain: with it, the
// manager checks that a tenant's miner exists and that its senders are the
// miner's owner, worker or control addresses, at creation and before any
// sector is allocated for it. *lotus.Client satisfies it.
type MinerInfoReader interface {
	StateMinerInfo(ctx context.Context, maddr address.Address, tsk types.TipSetKey) (*lotus.MinerInfo, error)
	StateLookupID(ctx context.Context, addr address.Address, tsk types.TipSetKey) (address.Address, error)
}

var _ MinerInfoReader = (*lotus.Client)(nil)

// errMinerNotFound: the chain does not know the miner.
var errMinerNotFound = errors.New("miner not found on chain")

// minerRecheck is how long an unconfirmed miner stays excluded from
// allocation before the chain is asked again.
const minerRecheck = time.Minute

// minerChecks remembers which miners the chain confirmed, and which are
// excluded from allocation until it does. In memory: a restarted manager
// confirms each miner again before its first allocation.
type minerChecks struct {
	mu         sync.Mutex
	confirmed  map[uint64]bool
	unverified map[uint64]time.Time // miner → when to ask the chain again
}

func (m *minerChecks) init() {
	if m.confirmed == nil {
		m.confirmed, m.unverified = map[uint64]bool{}, map[uint64]time.Time{}
	}
}

func (m *minerChecks) confirm(miner uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	m.confirmed[miner] = true
	delete(m.unverified, miner)
}

func (m *minerChecks) exclude(miner uint64, retry time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	delete(m.confirmed, miner)
	m.unverified[miner] = retry
}

func (m *minerChecks) isConfirmed(miner uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.confirmed[miner]
}

// checkMiner asks the chain about tc's miner: it must exist, and every
// sender must resolve to its owner, worker or a control address. It
// returns nil without a chain (or one that cannot answer these questions),
// errMinerNotFound (wrapped, with ErrInvalid) for an unknown miner, an
// ErrInvalid error for a foreign sender, and other errors when the chain
// could not be asked.
func (s *Service) checkMiner(ctx context.Context, miner uint64, senders []string) error {
	mr, ok := s.chain.(MinerInfoReader)
	if s.chain == nil || !ok {
		return nil
	}
	maddr := address.NewIDAddress(miner)
	info, err := mr.StateMinerInfo(ctx, maddr, types.EmptyTSK)
	if lotus.IsActorNotFound(err) || err == nil && info == nil {
		return fmt.Errorf("%w: %w: %s", ErrInvalid, errMinerNotFound, maddr)
	}
	if err != nil {
		return fmt.Errorf("manager: miner %s: %w", maddr, err)
	}
	allowed := append([]address.Address{info.Owner, info.Worker}, info.ControlAddresses...)
	for _, snd := range senders {
		a, err := address.Parse(snd)
		if err != nil {
			return fmt.Errorf("%w: sender %q: %v", ErrInvalid, snd, err)
		}
		id, err := mr.StateLookupID(ctx, a, types.EmptyTSK)
		if lotus.IsActorNotFound(err) {
			return fmt.Errorf("%w: sender %s is not on chain", ErrInvalid, snd)
		}
		if err != nil {
			return fmt.Errorf("manager: sender %s: %w", snd, err)
		}
		if !slices.Contains(allowed, id) {
			return fmt.Errorf("%w: sender %s (%s) is not the owner, worker or a control address of miner %s", ErrInvalid, snd, id, maddr)
		}
	}
	s.miners.confirm(miner)
	return nil
}

// checkNewTenant runs checkMiner for a tenant being created. With
// tc.SkipChainCheck an unreachable chain is tolerated (the miner stays
// excluded from allocation until the chain confirms it); a miner the chain
// does not know, or a foreign sender, is refused either way.
func (s *Service) checkNewTenant(ctx context.Context, tc api.TenantConfig) error {
	err := s.checkMiner(ctx, tc.Miner, tc.Senders)
	if err == nil || errors.Is(err, ErrInvalid) {
		return err
	}
	if !tc.SkipChainCheck {
		return fmt.Errorf("%w: cannot check the miner on chain (%v); retry, or create with skip_chain_check (--skip-chain-check): sectors are then allocated only once the chain confirms the miner", ErrNoChain, err)
	}
	s.log.Warn("tenant created without a chain check; no sector is allocated for it until the chain confirms its miner", "miner", tc.Miner, "err", err)
	s.miners.exclude(tc.Miner, s.now())
	return nil
}

// excludedMiners returns the miners allocation must skip: those whose
// check failed, after asking the chain again about those due for it.
func (s *Service) excludedMiners(ctx context.Context) []uint64 {
	s.miners.mu.Lock()
	var due, out []uint64
	now := s.now()
	for m, at := range s.miners.unverified {
		if !now.Before(at) {
			due = append(due, m)
		} else {
			out = append(out, m)
		}
	}
	s.miners.mu.Unlock()
	for _, m := range due {
		if err := s.checkMiner(ctx, m, nil); err != nil {
			s.miners.exclude(m, now.Add(minerRecheck))
			out = append(out, m)
		}
	}
	return out
}

// minerAllowed confirms, before a sector is handed out, that the chain
// knows its miner (once per miner per process). A miner the chain does not
// know is excluded from allocation and reported with errMinerNotFound.
func (s *Service) minerAllowed(ctx context.Context, miner uint64) error {
	if s.chain == nil || s.miners.isConfirmed(miner) {
		return nil
	}
	err := s.checkMiner(ctx, miner, nil)
	if errors.Is(err, errMinerNotFound) {
		s.miners.exclude(miner, s.now().Add(minerRecheck))
	}
	return err
}
