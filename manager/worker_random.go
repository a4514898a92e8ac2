package manager

import (
	"context"
	"fmt"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

// Tickets and seeds: the chain randomness a sector is sealed with, drawn
// by the manager (never by the worker) and stored once with the call that
// writes anyway.

// AssignTicket returns the sector's ticket, drawing it on the first call:
// randomness from tickets with the seal tag at head − SealRandomnessLookback
// and the miner's ID address (CBOR) as entropy. The first ticket stored
// wins, so a repeat (or a second manager) returns the same ticket. A CC
// sector's ticket is usually stored by AcquirePieces already: then this
// is a read.
func (s *Service) AssignTicket(ctx context.Context, id api.SectorID) (api.Ticket, error) {
	if sec, err := s.pollSector(ctx, id); err == nil && sec.Ticket != nil {
		return storeTicket(*sec.Ticket) // stored once, never changed
	}
	sid := toStoreID(id)
	// The chain is asked before the one transaction, which then keeps a
	// stored ticket or stores this one; a draw that failed is reported
	// only when no ticket is stored.
	drawn, drawErr := s.drawTicket(ctx, id)
	h, err := s.holderFor(ctx, sid)
	if err != nil {
		return api.Ticket{}, err
	}
	t, ok, err := s.st.WorkerRandomness(ctx, sid, h, false, drawn)
	s.settle(sid, h, err)
	if err != nil {
		return api.Ticket{}, mapStoreErr(err)
	}
	s.sectors.forget(sid)
	if !ok {
		return api.Ticket{}, drawErr
	}
	return storeTicket(t)
}

// drawTicket draws a sector's ticket from the chain (nil and why when it
// cannot).
func (s *Service) drawTicket(ctx context.Context, id api.SectorID) (*store.Ticket, error) {
	if s.chain == nil {
		return nil, fmt.Errorf("%w: cannot draw a ticket", ErrNoChain)
	}
	head, err := s.chain.ChainHead(ctx)
	if err != nil {
		return nil, fmt.Errorf("manager: sector %s: chain head: %w", id, err)
	}
	epoch := max(s.policy.TicketEpoch(int64(head.Height)), 0)
	entropy, err := rand.SealEntropyForID(id.Miner)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	r, err := s.chain.StateGetRandomnessFromTickets(ctx, rand.TagSealRandomness, types.ChainEpoch(epoch), entropy, head.Key())
	if err != nil {
		return nil, fmt.Errorf("manager: sector %s: ticket randomness: %w", id, err)
	}
	return &store.Ticket{Value: r[:], Epoch: epoch}, nil
}

func storeTicket(t store.Ticket) (api.Ticket, error) {
	var out api.Ticket
	if len(t.Value) != 32 {
		return out, fmt.Errorf("manager: stored ticket has %d bytes", len(t.Value))
	}
	copy(out.Ticket[:], t.Value)
	out.Epoch = t.Epoch
	return out, nil
}

// WaitSeed returns the interactive seed once the chain has settled it
// (SeedReadyAt = precommit epoch + PreCommitChallengeDelay +
// InteractivePoRepConfidence), else how long to wait. The pre-commit epoch
// is read from StateSectorPreCommitInfo. The call writes nothing: a
// settled seed is the same for every caller and every manager, so it is
// stored with the proof (SubmitProof draws it again); a seed stored
// already (by a proof, or by an older manager) is the answer.
func (s *Service) WaitSeed(ctx context.Context, id api.SectorID) (api.WaitSeedResponse, error) {
	wait, drawn, drawErr := s.drawSeed(ctx, id)
	sec, err := s.pollSector(ctx, id)
	if err != nil {
		return api.WaitSeedResponse{}, err
	}
	switch {
	case sec.Seed != nil:
		return seedResponse(*sec.Seed)
	case sec.Phase != store.PhaseActive:
		return api.WaitSeedResponse{}, fmt.Errorf("%w: sector %s is %s", ErrSectorDone, id, sec.Phase)
	case drawn != nil:
		return seedResponse(*drawn)
	case drawErr != nil:
		return api.WaitSeedResponse{}, drawErr
	}
	return wait, nil
}

func seedResponse(t store.Ticket) (api.WaitSeedResponse, error) {
	st, err := storeTicket(t)
	if err != nil {
		return api.WaitSeedResponse{}, err
	}
	return api.WaitSeedResponse{Seed: &api.Seed{Seed: st.Ticket, Epoch: st.Epoch}}, nil
}

// drawSeed asks the chain for a sector's seed: the seed when it is
// settled, else how long to wait, or why the chain could not say.
func (s *Service) drawSeed(ctx context.Context, id api.SectorID) (api.WaitSeedResponse, *store.Ticket, error) {
	if s.chain == nil {
		return api.WaitSeedResponse{}, nil, fmt.Errorf("%w: cannot draw a seed", ErrNoChain)
	}
	wait := func(epochs int64) api.WaitSeedResponse {
		d := time.Duration(max(epochs, 1)) * s.block
		return api.WaitSeedResponse{ShouldWait: true, DelaySeconds: int(max(d/time.Second, 1))}
	}
	head, err := s.chain.ChainHead(ctx)
	if err != nil {
		return api.WaitSeedResponse{}, nil, fmt.Errorf("manager: sector %s: chain head: %w", id, err)
	}
	maddr := address.NewIDAddress(id.Miner)
	pci, err := s.chain.StateSectorPreCommitInfo(ctx, maddr, id.Number, head.Key())
	if err != nil {
		return api.WaitSeedResponse{}, nil, fmt.Errorf("manager: sector %s: precommit info: %w", id, err)
	}
	if pci == nil {
		// Not on chain yet: wait about one epoch and ask again.
		return wait(1), nil, nil
	}
	pcEpoch := int64(pci.PreCommitEpoch)
	ready := s.policy.SeedReadyAt(pcEpoch)
	if int64(head.Height) < ready {
		return wait(ready - int64(head.Height)), nil, nil
	}
	seedEpoch := s.policy.SeedEpoch(pcEpoch)
	entropy, err := rand.SealEntropyForID(id.Miner)
	if err != nil {
		return api.WaitSeedResponse{}, nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	r, err := s.chain.StateGetRandomnessFromBeacon(ctx, rand.TagInteractiveSealChallengeSeed, types.ChainEpoch(seedEpoch), entropy, head.Key())
	if err != nil {
		return api.WaitSeedResponse{}, nil, fmt.Errorf("manager: sector %s: seed randomness: %w", id, err)
	}
	return api.WaitSeedResponse{}, &store.Ticket{Value: r[:], Epoch: seedEpoch}, nil
}
