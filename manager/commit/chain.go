package commit

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
)

// HeadReader reads the chain head (height, tipset key, base fee).
type HeadReader interface {
	ChainHead(ctx context.Context) (*lotus.TipSet, error)
}

// MinerReader reads the miner actor: who may send, which sector numbers
// and pre-commits exist, and the balance collateral can come from.
type MinerReader interface {
	StateMinerInfo(ctx context.Context, maddr address.Address, tsk types.TipSetKey) (*lotus.MinerInfo, error)
	StateAccountKey(ctx context.Context, addr address.Address, tsk types.TipSetKey) (address.Address, error)
	StateMinerSectorAllocated(ctx context.Context, maddr address.Address, sector uint64, tsk types.TipSetKey) (bool, error)
	StateSectorPreCommitInfo(ctx context.Context, maddr address.Address, sector uint64, tsk types.TipSetKey) (*lotus.SectorPreCommitOnChainInfo, error)
	StateSectorGetInfo(ctx context.Context, maddr address.Address, sector uint64, tsk types.TipSetKey) (*lotus.SectorOnChainInfo, error)
	StateMinerAvailableBalance(ctx context.Context, maddr address.Address, tsk types.TipSetKey) (types.BigInt, error)
}

// CollateralReader asks the node for deposit and pledge (spec/chain.md
// §4.7: query, don't recompute; both already include Lotus's 10 % margin).
type CollateralReader interface {
	StateMinerPreCommitDepositForPower(ctx context.Context, maddr address.Address, pci lotus.SectorPreCommitInfo, tsk types.TipSetKey) (types.BigInt, error)
	StateMinerInitialPledgeForSector(ctx context.Context, duration types.ChainEpoch, sectorSize, verifiedSize uint64, tsk types.TipSetKey) (types.BigInt, error)
}

// Mpool estimates, numbers and submits messages. MpoolPush is not
// idempotent in general, but pushing the same signed bytes twice cannot
// create a second transaction (same From and Nonce), which is the only way
// the pipeline repeats it.
type Mpool interface {
	GasEstimateMessageGas(ctx context.Context, msg *types.Message, spec *lotus.MessageSendSpec, tsk types.TipSetKey) (*types.Message, error)
	MpoolGetNonce(ctx context.Context, addr address.Address) (uint64, error)
	MpoolPush(ctx context.Context, sm *types.SignedMessage) (cid.Cid, error)
}

// MessageSearcher finds an executed message without blocking. The pipeline
// polls it every tick instead of holding a StateWaitMsg call per message:
// polling survives node restarts and costs no goroutine per batch, and the
// confidence depth is checked against the head it already reads.
type MessageSearcher interface {
	StateSearchMsg(ctx context.Context, from types.TipSetKey, msg cid.Cid, limit types.ChainEpoch, allowReplaced bool) (*types.MsgLookup, error)
}

// ChainAPI is everything the pipeline asks of a Lotus node. *lotus.Client
// satisfies it (guard in chain_test.go); tests use a fake. All methods but
// MpoolPush are reads and safe to retry.
type ChainAPI interface {
	HeadReader
	MinerReader
	CollateralReader
	Mpool
	MessageSearcher
}

// SignRequest is one request to sign a tenant's chain message with the key
// of From. Purpose says why, for the signer's policy and its operator; it
// travels with the request, never in the context.
type SignRequest struct {
	Tenant  string
	From    address.Address
	Message *types.Message
	Purpose Purpose
}

// Signer signs a tenant's chain message. The manager never holds a private
// key: the signer hub forwards the request to the SP's connected `sealant
// signer`, which applies its own policy.
//
// Implementations return an error wrapping ErrSignerUnavailable when nobody
// can sign right now (the batch then waits and reports WaitingForSigner);
// any other error (a policy refusal, say) is shown as the batch's reason and
// retried later. Sign must be deterministic for a given message and key
// (RFC 6979 secp256k1 and BLS both are), so that a manager restarted
// between signing and pushing re-creates the very same signed message;
// the pipeline tolerates a signer that is not (see doc.go). Sign may block
// (a human may approve requests); the pipeline calls it off its main loop.
type Signer interface {
	Sign(ctx context.Context, req SignRequest) (types.Signature, error)
}

// Purpose says why a message is being signed, for the signer's policy and
// its operator: "precommit-batch", "provecommit-batch" or "ni-commit-batch"
// (ProveCommitSectorsNI), and the sector numbers in the order the message's
// params list them.
type Purpose struct {
	Kind    string
	Sectors []uint64
}

// purposeOf derives the purpose from a miner message's params.
func purposeOf(msg *types.Message) (Purpose, bool) {
	params, err := miner.DecodeParams(msg.Method, msg.Params)
	if err != nil {
		return Purpose{}, false
	}
	switch p := params.(type) {
	case *miner.PreCommitSectorBatchParams2:
		out := Purpose{Kind: "precommit-batch"}
		for _, s := range p.Sectors {
			out.Sectors = append(out.Sectors, uint64(s.SectorNumber))
		}
		return out, true
	case *miner.ProveCommitSectors3Params:
		out := Purpose{Kind: "provecommit-batch"}
		for _, a := range p.SectorActivations {
			out.Sectors = append(out.Sectors, uint64(a.SectorNumber))
		}
		return out, true
	case *miner.ProveCommitSectorsNIParams:
		out := Purpose{Kind: "ni-commit-batch"}
		for _, s := range p.Sectors {
			out.Sectors = append(out.Sectors, uint64(s.SectorNumber))
		}
		return out, true
	}
	return Purpose{}, false
}

// SignerFunc adapts a function to Signer.
type SignerFunc func(ctx context.Context, req SignRequest) (types.Signature, error)

// Sign calls f.
func (f SignerFunc) Sign(ctx context.Context, req SignRequest) (types.Signature, error) {
	return f(ctx, req)
}

// LotusWallet is the "lotus-wallet" signing route: the operator's Lotus node
// signs with a key in its own wallet (Filecoin.WalletSign, which needs a
// token with the "sign" permission). It is for operators who accept that
// the node — not the SP's own signer — holds the key.
type LotusWallet struct {
	W lotus.WalletSigner
}

// Sign signs the message's CID bytes (spec/chain.md §3.1). A node without
// the key answers with an RPC error, which is reported as the batch reason;
// an unreachable node is ErrSignerUnavailable.
func (l LotusWallet) Sign(ctx context.Context, req SignRequest) (types.Signature, error) {
	from, msg := req.From, req.Message
	if l.W == nil {
		return types.Signature{}, fmt.Errorf("commit: lotus-wallet route has no node configured: %w", ErrSignerUnavailable)
	}
	data, err := msg.SigningBytes()
	if err != nil {
		return types.Signature{}, fmt.Errorf("commit: lotus-wallet sign: %w", err)
	}
	sig, err := l.W.WalletSign(ctx, from, data)
	if err != nil {
		if errors.Is(err, lotus.ErrTransport) {
			return types.Signature{}, fmt.Errorf("commit: lotus-wallet sign for %s: %w: %w", from, ErrSignerUnavailable, err)
		}
		return types.Signature{}, fmt.Errorf("commit: lotus-wallet sign for %s: %w", from, err)
	}
	if sig == nil {
		return types.Signature{}, fmt.Errorf("commit: lotus-wallet sign for %s: empty signature: %w", from, ErrBadSignature)
	}
	return *sig, nil
}

// verifySigned checks a signer's answer before it is recorded: the
// signature must verify for the message's From, so a confused or malicious
// signer cannot make the pipeline push garbage under the reserved nonce.
func verifySigned(sm *types.SignedMessage) error {
	if err := sigs.VerifyMessage(sm); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	return nil
}
