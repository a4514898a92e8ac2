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
// The batch lifecycle is a pure state machine in the style of
// worker/sectorfsm and etcd raft. A batch's State is what the store records
// (Open, Closed, Reserved, Prepared, Signed, Pushed, Landed, Failed;
// StateOf), so a restart derives it again. Plan(Facts) → Decision is one
// transition table (lifecycle_table.go): for the batch's state, the first
// row whose condition holds names the next state and the actions, as
// values. Time, the chain head, precheck verdicts, gas estimates, the
// signer's answers and chain searches all come in as facts; Plan does no
// I/O. docs/batch-states.md is generated from the table.
//
// apply.go is the one place that carries the actions out (store, sign,
// push, follow): a pass gathers a batch's facts, asks Plan, applies the
// actions and feeds their answers back (a precheck, a build, a search, a
// push) until the plan waits or the batch is done. Membership has one rule
// (Membership, applied by adopt in membership.go); regrouping only turns
// groups a plan split off into closed batches of their own.
//
// The rest of the decision core is pure too: core.go (when to close a
// batch, how to judge a sector — CheckPreCommit, CheckProveCommit,
// CheckNICommit —, the expiration per spec/chain.md §8.2, collateral),
// fees.go (fee capping), failure.go (how to split a failed batch,
// PlanFailure) and mpool.go (how to read an mpool or gas-estimation error);
// purity_test.go holds them to it. The runner: pipeline.go (Run ticks every
// PollInterval, or at once on Wake), precheck.go and message.go (facts and
// the message, through the narrow ChainAPI interfaces *lotus.Client
// satisfies) and sign.go. Signing is asynchronous (a human may have to
// approve), so a slow signer never stalls other tenants; meanwhile the
// batch shows WaitingForSigner. The request carries its purpose
// (SignRequest.Purpose), which the signer checks against the message. The
// clock is injected (Config.Now).
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
// recorded in the store. An unsent batch is given up with
// store.ReleaseBatch, which frees its sectors and, for a reserved nonce,
// gives it back in the same transaction — or refuses (store.ErrNonceGap)
// when that would leave a gap, and the batch is then sent as it is.
package commit

//go:generate go test -run TestBatchStateDoc -update .
