// Package commit is the sealing manager's per-tenant commitment pipeline:
// it turns the PreCommits and proofs workers submit into
// PreCommitSectorBatch2 (method 28) and ProveCommitSectors3 (method 34)
// messages, signs them through the tenant's signer, pushes them, follows
// them on chain and records every step in the store, where the worker's
// PollPreCommitState / PollProofState read it.
//
// # Why it is built this way
//
// A sealing service sends messages on behalf of storage providers it does
// not control, with keys it must never hold, for sectors that cost hours of
// compute. Three failures matter most, and the design follows from them:
//
//   - A bad sector must not sink its batch (curio#1510, #1534, #567). The
//     pipeline isolates it: gas estimation executes the message, so most
//     poison is caught before a nonce is used; a precheck
//     (StateMinerSectorAllocated, StateSectorPreCommitInfo, ticket and
//     prove windows) removes sectors that certainly fail; a batch that still
//     fails on chain is re-sent without the sectors a fresh precheck blames,
//     or else bisected until the bad sector is alone — it then fails for good
//     with its exit code while every good sector lands. ProveCommitSectors3
//     is sent with RequireActivationSuccess=false, so good sectors activate
//     and the receipt's BatchReturn names the failures.
//   - A crash must lose no sector and never send a batch twice under two
//     nonces. The store is the write-ahead log: the nonce is reserved
//     (ReserveNonce, idempotent per batch) and the unsigned CBOR stored
//     before anything is signed, the signed CID recorded before the push.
//     On restart a stored message is never rebuilt: one recorded as signed
//     is first looked up on chain (StateSearchMsg), and otherwise signed
//     again (signatures are deterministic, so the signed CID is the same),
//     pushed again with the same bytes (the mpool recognises it) and
//     followed; a pushed one unseen for RepushAfter is pushed again. Only
//     when the node says the nonce is spent ("nonce too low") and neither
//     our message nor a gas-bumped replacement of it is on chain does the
//     batch get a new message with a new nonce. Sectors freed by a failed
//     batch, or by a crash halfway through a split, are adopted back into
//     batching on the next tick.
//   - A nonce must not be spent on a message that cannot go. The fee cap and
//     the size limit are checked before the nonce is reserved, so a batch
//     held back by the tenant's fee cap ("fee above cap", visible in
//     BatchStatus) blocks nothing behind it. An unsent batch is only taken
//     apart if that leaves no nonce gap.
//
// # Structure
//
// core.go is a pure decision core — when to close a batch (size, max wait,
// a member's deadline), how to judge a sector (CheckPreCommit,
// CheckProveCommit), the expiration (spec/chain.md §8.2), collateral, fee
// capping, how to split a failed batch (PlanFailure), how to read a receipt
// and an mpool error — table-tested without I/O. pipeline.go is the runner:
// Run ticks (every PollInterval, or at once on Wake), gathering facts
// through the narrow ChainAPI interfaces (satisfied by *lotus.Client) and
// the store, and carrying out the core's decisions. Signing is asynchronous
// (a human may have to approve), so a slow signer never stalls other
// tenants; meanwhile the batch shows WaitingForSigner. The clock is
// injected (Config.Now).
//
// # Messages
//
// From is the tenant's first sender (or the miner's worker key). Value is
// the deposit (StateMinerPreCommitDepositForPower, which since nv17 depends
// on the seal proof only, so it is asked once per proof type and summed)
// or the pledge shortfall Σ max(0, StateMinerInitialPledgeForSector −
// PreCommitDeposit); by default the whole amount is sent, with
// Config.UseAvailableBalance only what the miner's available balance does not
// cover. Gas comes from GasEstimateMessageGas with the tenant's fee cap as
// MaxFee; the tenant's caps (store.Fees) are per sector. ProveCommit carries
// one proof per sector: aggregation (SnarkPack) needs a SNARK aggregator,
// which Sealant does not have, so a tenant's "aggregate" mode batches
// per-sector proofs. On the Sealant devnet the proofs are the compact
// vanilla "devnet proofs" of proofs/c2 and the devnet raises the message size
// limit (set Config.MaxMessageBytes to match).
//
// # Limits
//
// Messages are followed with StateSearchMsg at every tick (not one blocking
// StateWaitMsg per message) and recorded once Config.Confidence epochs deep.
// In-memory state (signatures, reasons, retry pauses) is lost on restart
// and re-derived; the worst case is one more attempt of a transient
// failure. A signer that is not deterministic still cannot cause a double
// spend (both signatures share the nonce), but the second signed CID is not
// recorded in the store. The store has no call to release an unsent batch,
// so one is dissolved through a message from the pseudo-sender
// "sealant:dissolved" that is failed at once.
package commit

//go:generate go test -run TestBatchStateDoc -update .
