package lotus

import (
	"context"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
)

// Small consumer-side interfaces. They are examples of the narrow views a
// consumer should depend on instead of *Client (the manager defines its
// own next to the code that uses them); *Client satisfies all of them, and
// tests substitute fakes.

// ChainReader reads the chain head and tipsets.
type ChainReader interface {
	ChainHead(ctx context.Context) (*TipSet, error)
	ChainGetTipSetByHeight(ctx context.Context, h types.ChainEpoch, tsk types.TipSetKey) (*TipSet, error)
}

// HeadNotifier streams head changes.
type HeadNotifier interface {
	ChainNotify(ctx context.Context) (<-chan []HeadChange, error)
}

// RandomnessSource draws the PoRep ticket and seed.
type RandomnessSource interface {
	StateGetRandomnessFromTickets(ctx context.Context, tag rand.DomainSeparationTag, epoch types.ChainEpoch, entropy []byte, tsk types.TipSetKey) (rand.Randomness, error)
	StateGetRandomnessFromBeacon(ctx context.Context, tag rand.DomainSeparationTag, epoch types.ChainEpoch, entropy []byte, tsk types.TipSetKey) (rand.Randomness, error)
}

// MessageSender prepares and submits self-signed messages: nonce, gas
// estimate, push. MpoolPush is not idempotent; see its documentation.
type MessageSender interface {
	MpoolGetNonce(ctx context.Context, addr address.Address) (uint64, error)
	GasEstimateMessageGas(ctx context.Context, msg *types.Message, spec *MessageSendSpec, tsk types.TipSetKey) (*types.Message, error)
	MpoolPush(ctx context.Context, sm *types.SignedMessage) (cid.Cid, error)
}

// MessageWaiter follows a pushed message to its receipt.
type MessageWaiter interface {
	StateWaitMsg(ctx context.Context, msg cid.Cid, confidence uint64, limit types.ChainEpoch, allowReplaced bool) (*types.MsgLookup, error)
	StateSearchMsg(ctx context.Context, from types.TipSetKey, msg cid.Cid, limit types.ChainEpoch, allowReplaced bool) (*types.MsgLookup, error)
}

// SectorStateReader reads what the miner actor knows about a sector.
type SectorStateReader interface {
	StateSectorPreCommitInfo(ctx context.Context, maddr address.Address, sector uint64, tsk types.TipSetKey) (*SectorPreCommitOnChainInfo, error)
	StateSectorGetInfo(ctx context.Context, maddr address.Address, sector uint64, tsk types.TipSetKey) (*SectorOnChainInfo, error)
	StateMinerSectorAllocated(ctx context.Context, maddr address.Address, sector uint64, tsk types.TipSetKey) (bool, error)
}

// WalletSigner is the operator-wallet route: the node signs with a key in
// its own wallet.
type WalletSigner interface {
	WalletSign(ctx context.Context, addr address.Address, data []byte) (*types.Signature, error)
}

// Interface guards.
var (
	_ ChainReader       = (*Client)(nil)
	_ HeadNotifier      = (*Client)(nil)
	_ RandomnessSource  = (*Client)(nil)
	_ MessageSender     = (*Client)(nil)
	_ MessageWaiter     = (*Client)(nil)
	_ SectorStateReader = (*Client)(nil)
	_ WalletSigner      = (*Client)(nil)
)
