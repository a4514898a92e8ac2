package manager

import (
	"context"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
)

// Chain is what the manager reads from a Lotus node: the head, the PoRep
// randomness and the miner actor's view of sector numbers and pre-commits.
// *lotus.Client satisfies it; tests use a fake. Every method is a read and
// safe to retry.
type Chain interface {
	ChainHead(ctx context.Context) (*lotus.TipSet, error)
	StateGetRandomnessFromTickets(ctx context.Context, tag rand.DomainSeparationTag, epoch types.ChainEpoch, entropy []byte, tsk types.TipSetKey) (rand.Randomness, error)
	StateGetRandomnessFromBeacon(ctx context.Context, tag rand.DomainSeparationTag, epoch types.ChainEpoch, entropy []byte, tsk types.TipSetKey) (rand.Randomness, error)
	StateSectorPreCommitInfo(ctx context.Context, maddr address.Address, sector uint64, tsk types.TipSetKey) (*lotus.SectorPreCommitOnChainInfo, error)
	StateMinerSectorAllocated(ctx context.Context, maddr address.Address, sector uint64, tsk types.TipSetKey) (bool, error)
}

// SectorInfoReader is an optional capability of a Chain: with it,
// PollProofState confirms that a landed ProveCommit really activated the
// sector (an aggregate may land while one of its sectors fails).
type SectorInfoReader interface {
	StateSectorGetInfo(ctx context.Context, maddr address.Address, sector uint64, tsk types.TipSetKey) (*lotus.SectorOnChainInfo, error)
}

var _ Chain = (*lotus.Client)(nil)
var _ SectorInfoReader = (*lotus.Client)(nil)
