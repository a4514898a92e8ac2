package lotus

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
)

// Typed wrappers for the v1 methods a sealing service needs
// (spec/chain.md §6.4). A types.TipSetKey argument selects the state to
// read; types.EmptyTSK means the node's current head. All methods are
// idempotent reads except MpoolPush (see Idempotent for the retry rule).

// LookbackNoLimit lets StateWaitMsg/StateSearchMsg search the whole chain.
const LookbackNoLimit types.ChainEpoch = -1

// ChainHead returns the current head tipset.
func (c *Client) ChainHead(ctx context.Context) (*TipSet, error) {
	var ts *TipSet
	if err := c.Call(ctx, "Filecoin.ChainHead", &ts); err != nil {
		return nil, err
	}
	return nonNil(ts, "Filecoin.ChainHead")
}

// ChainGetTipSet returns the tipset with the given key.
func (c *Client) ChainGetTipSet(ctx context.Context, tsk types.TipSetKey) (*TipSet, error) {
	var ts *TipSet
	if err := c.Call(ctx, "Filecoin.ChainGetTipSet", &ts, tsk); err != nil {
		return nil, err
	}
	return nonNil(ts, "Filecoin.ChainGetTipSet")
}

// ChainGetTipSetByHeight returns the tipset at height h on the chain of
// tsk; for a null round it returns the closest earlier tipset.
func (c *Client) ChainGetTipSetByHeight(ctx context.Context, h types.ChainEpoch, tsk types.TipSetKey) (*TipSet, error) {
	var ts *TipSet
	if err := c.Call(ctx, "Filecoin.ChainGetTipSetByHeight", &ts, h, tsk); err != nil {
		return nil, err
	}
	return nonNil(ts, "Filecoin.ChainGetTipSetByHeight")
}

// Version returns the node's version and block delay.
func (c *Client) Version(ctx context.Context) (Version, error) {
	var v Version
	err := c.Call(ctx, "Filecoin.Version", &v)
	return v, err
}

// StateNetworkVersion returns the network version at tsk.
func (c *Client) StateNetworkVersion(ctx context.Context, tsk types.TipSetKey) (NetworkVersion, error) {
	var nv NetworkVersion
	err := c.Call(ctx, "Filecoin.StateNetworkVersion", &nv, tsk)
	return nv, err
}

// StateMinerInfo returns the miner's owner, worker, control addresses and
// sector size.
func (c *Client) StateMinerInfo(ctx context.Context, maddr address.Address, tsk types.TipSetKey) (*MinerInfo, error) {
	var mi *MinerInfo
	if err := c.Call(ctx, "Filecoin.StateMinerInfo", &mi, maddr, tsk); err != nil {
		return nil, err
	}
	return nonNil(mi, "Filecoin.StateMinerInfo")
}

// StateLookupID resolves an address to its ID address. An unknown actor
// yields an error for which IsActorNotFound is true.
func (c *Client) StateLookupID(ctx context.Context, addr address.Address, tsk types.TipSetKey) (address.Address, error) {
	var a address.Address
	err := c.Call(ctx, "Filecoin.StateLookupID", &a, addr, tsk)
	return a, err
}

// StateAccountKey resolves an account actor's ID address to its key
// address (f1/f3), i.e. the key that must sign its messages.
func (c *Client) StateAccountKey(ctx context.Context, addr address.Address, tsk types.TipSetKey) (address.Address, error) {
	var a address.Address
	err := c.Call(ctx, "Filecoin.StateAccountKey", &a, addr, tsk)
	return a, err
}

// StateGetRandomnessFromTickets draws ticket-chain randomness (the PoRep
// ticket uses rand.TagSealRandomness and the miner's ID-address CBOR as
// entropy).
func (c *Client) StateGetRandomnessFromTickets(ctx context.Context, tag rand.DomainSeparationTag, epoch types.ChainEpoch, entropy []byte, tsk types.TipSetKey) (rand.Randomness, error) {
	return c.randomness(ctx, "Filecoin.StateGetRandomnessFromTickets", tag, epoch, entropy, tsk)
}

// StateGetRandomnessFromBeacon draws drand-beacon randomness (the PoRep
// seed uses rand.TagInteractiveSealChallengeSeed).
func (c *Client) StateGetRandomnessFromBeacon(ctx context.Context, tag rand.DomainSeparationTag, epoch types.ChainEpoch, entropy []byte, tsk types.TipSetKey) (rand.Randomness, error) {
	return c.randomness(ctx, "Filecoin.StateGetRandomnessFromBeacon", tag, epoch, entropy, tsk)
}

func (c *Client) randomness(ctx context.Context, method string, tag rand.DomainSeparationTag, epoch types.ChainEpoch, entropy []byte, tsk types.TipSetKey) (rand.Randomness, error) {
	var raw []byte
	if entropy == nil {
		entropy = []byte{} // base64 "" rather than null, as Lotus clients send
	}
	if err := c.Call(ctx, method, &raw, int64(tag), epoch, entropy, tsk); err != nil {
		return rand.Randomness{}, err
	}
	if len(raw) != rand.DigestSize {
		return rand.Randomness{}, fmt.Errorf("lotus: %s returned %d bytes, want 32: %w", method, len(raw), ErrBadResponse)
	}
	return rand.Randomness(raw), nil
}

// StateGetRandomnessDigestFromTickets returns the unmixed ticket digest
// for epoch; rand.DrawRandomnessFromDigest turns it into randomness.
func (c *Client) StateGetRandomnessDigestFromTickets(ctx context.Context, epoch types.ChainEpoch, tsk types.TipSetKey) (rand.Digest, error) {
	return c.digest(ctx, "Filecoin.StateGetRandomnessDigestFromTickets", epoch, tsk)
}

// StateGetRandomnessDigestFromBeacon returns the unmixed beacon digest.
func (c *Client) StateGetRandomnessDigestFromBeacon(ctx context.Context, epoch types.ChainEpoch, tsk types.TipSetKey) (rand.Digest, error) {
	return c.digest(ctx, "Filecoin.StateGetRandomnessDigestFromBeacon", epoch, tsk)
}

func (c *Client) digest(ctx context.Context, method string, epoch types.ChainEpoch, tsk types.TipSetKey) (rand.Digest, error) {
	var raw []byte
	if err := c.Call(ctx, method, &raw, epoch, tsk); err != nil {
		return rand.Digest{}, err
	}
	if len(raw) != rand.DigestSize {
		return rand.Digest{}, fmt.Errorf("lotus: %s returned %d bytes, want 32: %w", method, len(raw), ErrBadResponse)
	}
	return rand.Digest(raw), nil
}

// StateSectorPreCommitInfo returns the sector's pre-commit, or nil (and no
// error) if it is not pre-committed (never was, proven, or expired).
func (c *Client) StateSectorPreCommitInfo(ctx context.Context, maddr address.Address, sector uint64, tsk types.TipSetKey) (*SectorPreCommitOnChainInfo, error) {
	var pci *SectorPreCommitOnChainInfo
	err := c.Call(ctx, "Filecoin.StateSectorPreCommitInfo", &pci, maddr, sector, tsk)
	return pci, err
}

// StateSectorGetInfo returns the proven sector's on-chain info, or nil if
// the sector is not (or no longer) in the miner's sector set.
func (c *Client) StateSectorGetInfo(ctx context.Context, maddr address.Address, sector uint64, tsk types.TipSetKey) (*SectorOnChainInfo, error) {
	var si *SectorOnChainInfo
	err := c.Call(ctx, "Filecoin.StateSectorGetInfo", &si, maddr, sector, tsk)
	return si, err
}

// StateMinerSectorAllocated reports whether the sector number was ever
// used by the miner (numbers are never reusable).
func (c *Client) StateMinerSectorAllocated(ctx context.Context, maddr address.Address, sector uint64, tsk types.TipSetKey) (bool, error) {
	var ok bool
	err := c.Call(ctx, "Filecoin.StateMinerSectorAllocated", &ok, maddr, sector, tsk)
	return ok, err
}

// StateMinerPreCommitDepositForPower returns the pre-commit deposit for
// one sector (Lotus adds 10 % headroom). Only SealProof matters on current
// networks, but SealedCID must be a valid CID.
func (c *Client) StateMinerPreCommitDepositForPower(ctx context.Context, maddr address.Address, pci SectorPreCommitInfo, tsk types.TipSetKey) (types.BigInt, error) {
	var v types.BigInt
	err := c.Call(ctx, "Filecoin.StateMinerPreCommitDepositForPower", &v, maddr, pci, tsk)
	return v, err
}

// StateMinerInitialPledgeForSector returns the initial pledge for a
// sector of the given size and duration (Lotus adds 10 % headroom);
// verifiedSize is the padded size of FIL+ pieces (0 for CC).
func (c *Client) StateMinerInitialPledgeForSector(ctx context.Context, duration types.ChainEpoch, sectorSize, verifiedSize uint64, tsk types.TipSetKey) (types.BigInt, error) {
	var v types.BigInt
	err := c.Call(ctx, "Filecoin.StateMinerInitialPledgeForSector", &v, duration, sectorSize, verifiedSize, tsk)
	return v, err
}

// StateMinerAvailableBalance returns the miner balance not locked as
// pledge, deposits or vesting funds.
func (c *Client) StateMinerAvailableBalance(ctx context.Context, maddr address.Address, tsk types.TipSetKey) (types.BigInt, error) {
	var v types.BigInt
	err := c.Call(ctx, "Filecoin.StateMinerAvailableBalance", &v, maddr, tsk)
	return v, err
}

// StateMinerProvingDeadline returns the miner's current WindowPoSt
// deadline.
func (c *Client) StateMinerProvingDeadline(ctx context.Context, maddr address.Address, tsk types.TipSetKey) (*DeadlineInfo, error) {
	var di *DeadlineInfo
	if err := c.Call(ctx, "Filecoin.StateMinerProvingDeadline", &di, maddr, tsk); err != nil {
		return nil, err
	}
	return nonNil(di, "Filecoin.StateMinerProvingDeadline")
}

// StateMinerPartitions returns the partitions of deadline dlIdx.
func (c *Client) StateMinerPartitions(ctx context.Context, maddr address.Address, dlIdx uint64, tsk types.TipSetKey) ([]Partition, error) {
	var ps []Partition
	err := c.Call(ctx, "Filecoin.StateMinerPartitions", &ps, maddr, dlIdx, tsk)
	return ps, err
}

// MpoolGetNonce returns the next nonce for addr, counting messages
// pending in the node's mpool. It is not atomic with MpoolPush: a sender
// issuing several messages must track nonces itself.
func (c *Client) MpoolGetNonce(ctx context.Context, addr address.Address) (uint64, error) {
	var n uint64
	err := c.Call(ctx, "Filecoin.MpoolGetNonce", &n, addr)
	return n, err
}

// MpoolPush submits a signed message and returns the CID the node files it
// under (the SignedMessage CID for secp256k1, the Message CID for BLS).
//
// MpoolPush is not idempotent, so it is retried only when the connection
// could not be opened. Any later transport failure returns an error
// wrapping ErrOutcomeUnknown; the message may or may not be in the mpool.
// Look it up (StateSearchMsg by sm.Cid(), or MpoolGetNonce) or push the
// same signed message again — never re-sign with a new nonce blindly.
func (c *Client) MpoolPush(ctx context.Context, sm *types.SignedMessage) (cid.Cid, error) {
	var out cid.Cid
	if err := c.Call(ctx, "Filecoin.MpoolPush", &out, sm); err != nil {
		return cid.Undef, err
	}
	if !out.Defined() {
		return cid.Undef, fmt.Errorf("lotus: Filecoin.MpoolPush returned no CID: %w", ErrBadResponse)
	}
	if want := sm.Cid(); out != want {
		// The node accepted the message, so this is not an error, but a
		// differing CID means the two sides encode it differently.
		c.log.Warn("lotus: MpoolPush CID differs from local CID", "node", out.String(), "local", want.String())
	}
	return out, nil
}

// GasEstimateMessageGas fills GasLimit, GasFeeCap and GasPremium where
// msg has zero values, within spec.MaxFee (nil spec: node defaults).
func (c *Client) GasEstimateMessageGas(ctx context.Context, msg *types.Message, spec *MessageSendSpec, tsk types.TipSetKey) (*types.Message, error) {
	var out *types.Message
	if err := c.Call(ctx, "Filecoin.GasEstimateMessageGas", &out, msg, spec, tsk); err != nil {
		return nil, err
	}
	return nonNil(out, "Filecoin.GasEstimateMessageGas")
}

// StateWaitMsg blocks until the message is executed and confidence epochs
// deep, then returns its receipt. With allowReplaced a gas-bumped
// replacement counts; compare the result's Message with c to tell.
// Cancel ctx to stop waiting.
func (c *Client) StateWaitMsg(ctx context.Context, msg cid.Cid, confidence uint64, limit types.ChainEpoch, allowReplaced bool) (*types.MsgLookup, error) {
	var ml *types.MsgLookup
	if err := c.Call(ctx, "Filecoin.StateWaitMsg", &ml, msg, confidence, limit, allowReplaced); err != nil {
		return nil, err
	}
	return nonNil(ml, "Filecoin.StateWaitMsg")
}

// StateSearchMsg looks for an executed message without blocking; it
// returns nil (and no error) when the message is not on chain.
func (c *Client) StateSearchMsg(ctx context.Context, from types.TipSetKey, msg cid.Cid, limit types.ChainEpoch, allowReplaced bool) (*types.MsgLookup, error) {
	var ml *types.MsgLookup
	err := c.Call(ctx, "Filecoin.StateSearchMsg", &ml, from, msg, limit, allowReplaced)
	return ml, err
}

// WalletBalance returns the balance of addr.
func (c *Client) WalletBalance(ctx context.Context, addr address.Address) (types.BigInt, error) {
	var v types.BigInt
	err := c.Call(ctx, "Filecoin.WalletBalance", &v, addr)
	return v, err
}

// WalletSign asks the node to sign data with a key in its wallet (the
// operator-wallet route; needs a token with "sign" permission). For chain
// messages data must be the message CID bytes. The node's wallet sees the
// bytes as MsgMeta "unknown", so remote wallets with a signing policy may
// refuse; prefer WalletSignMessage-style flows when the wallet is strict.
func (c *Client) WalletSign(ctx context.Context, addr address.Address, data []byte) (*types.Signature, error) {
	var sig *types.Signature
	if err := c.Call(ctx, "Filecoin.WalletSign", &sig, addr, data); err != nil {
		return nil, err
	}
	return nonNil(sig, "Filecoin.WalletSign")
}

// nonNil turns a JSON null where a value is mandatory into ErrBadResponse.
func nonNil[T any](v *T, method string) (*T, error) {
	if v == nil {
		return nil, fmt.Errorf("lotus: %s returned null: %w", method, ErrBadResponse)
	}
	return v, nil
}
