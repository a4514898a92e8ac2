// Package devnet is Sealant's embedded Filecoin chain: one process that
// produces blocks, checks and executes messages like a real network would,
// and serves the Lotus v1 JSON-RPC API, so that providers, SPs and our own
// tests can run the whole sealing-as-a-service flow on one laptop without a
// Lotus node or any download.
//
// # Structure
//
// The state transition (actors, exit codes, deposits, proofs) is the pure
// package devnet/state. This package is the edge around it:
//
//   - chain.go: the block producer. One block per epoch, driven by a ticker
//     (Config.Ticks can inject one; tests step blocks themselves). Tickets
//     are real BLS signatures by the devnet's own key over
//     DrawRandomness(parent ticket, TicketProduction, epoch, CBOR(f00)); the
//     beacon is a SHA-256 hash chain seeded at genesis (one round per
//     epoch). Ticket and beacon randomness are served exactly as Lotus
//     derives them (blake2b of the VRF proof / beacon data, then
//     DrawRandomness).
//   - mpool.go: the message pool. MpoolPush checks size, message validity,
//     gas limit ≤ block gas limit, fee cap ≥ 100 attoFIL, the signature,
//     the nonce (too low, gap, replace-by-fee ≥ +10 %) and the balance
//     including pending messages, and answers with an RPC error, as Lotus
//     does.
//   - store.go: SQLite (modernc.org/sqlite, pure Go) persistence of every
//     tipset, its messages and receipts, recent states and the mpool, so a
//     restarted devnet continues its chain.
//   - api.go: the Lotus v1 API on package rpc: HTTP and WebSocket at
//     /rpc/v1, HS256 JWTs with read/write/sign/admin, anonymous read,
//     ChainNotify as an xrpc.ch.val channel. Every method the chain/lotus
//     client calls is served with the JSON shapes of its result types.
//   - api_state.go: what third-party clients (iso-filecoin, zondax) also
//     call: StateNetworkName, StateMinerPower, StateLookupRobustAddress,
//     StateReadState (account, miner and power actors; builtin-actors v18
//     code CIDs of Lotus's devnet bundle; HAMT/AMT roots are placeholder
//     CIDs, not loadable) and FilecoinAddressToEthAddress, each checked
//     against Lotus's documented example (testdata/lotus-examples.json).
//   - genesis.go: genesis.toml (accounts with balances and keys, miners,
//     policy overrides). Generated keys go to DIR/owners/<name>/key.json
//     (Lotus KeyInfo JSON) and nowhere else: the node holds no account
//     keys, so WalletSign fails and clients sign locally.
//
// # Chain semantics (as Lotus)
//
// Messages included in the block at height h execute with epoch h;
// their receipts are in block h+1, which is where StateWaitMsg reports them
// (MsgLookup.Height = h+1). State queries at a tipset read its parent state.
// There are no null rounds and no forks: after a restart the chain
// continues at head+1 whatever the wall-clock gap.
//
// # Devnet-only stand-ins (labelled as such everywhere)
//
//   - Proofs: a PoRep "devnet proof" is the sector's C1 vanilla proofs in
//     porep's compact encoding (magic SLNTC1v1), verified in full with the
//     proof engine; WindowPoSt proof bytes are length-prefixed fallback-PoSt
//     vanilla proofs (state.EncodeWindowPoStProof). A real Groth16 proof is
//     rejected with a reason saying the devnet cannot verify it.
//   - Message size: the mpool accepts signed messages up to 32 MiB
//     (DefaultMaxMessageSize) instead of Lotus's 64 KiB, because vanilla
//     proofs are large (a 2KiB sector's devnet proof is about 18 KiB).
//   - Gas: a documented deterministic model (see devnet/state), constant
//     base fee 100 attoFIL; GasEstimateMessageGas is exact and, like Lotus,
//     fails when a dry run of the message fails.
//   - Power and reward: constant epoch reward and baseline in the deposit
//     and pledge formulas (state.Policy).
//   - Randomness is predictable from the genesis seed.
//
// # Use from Go
//
//	devnet.Init(ctx, dir, devnet.DefaultGenesis(2))
//	n, _ := devnet.New(devnet.Config{Dir: dir, Listen: "127.0.0.1:0"})
//	n.Start(ctx)
//	info := n.APIInfo() // FULLNODE_API_INFO, admin token
//	defer n.Close()
package devnet
