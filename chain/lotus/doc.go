// Package lotus is a client for the Lotus v1 full-node JSON-RPC API, the
// sealing service's only window onto the chain.
//
// Why Sealant's own client rather than venus-shared's FullNode v1 client or
// go-jsonrpc: venus-shared (venus v1.20.0) alone builds a 41 MB binary of 857
// packages, libp2p among them, and needs go-jsonrpc forced past the fork
// venus pins; go-jsonrpc v0.8.0 adds about 4 MB and 190 packages (zap,
// opencensus, gorilla/websocket beside the coder/websocket Sealant already
// uses). The service needs a small, auditable surface with explicit retry
// rules around message submission, and the values it carries are the
// field's types: go-address addresses, go-state-types params, proof types,
// exit codes and signatures, go-bitfield bitfields.
//
// # Transport
//
// Endpoints come from FULLNODE_API_INFO ("TOKEN:/ip4/1.2.3.4/tcp/1234/http"
// or "TOKEN:wss://host/rpc/v1"; see [ParseAPIInfo]). Ordinary methods are
// sent as one HTTP POST each to /rpc/v1 with "Authorization: Bearer
// <JWT>"; channel methods ([Client.ChainNotify]) open a WebSocket on the
// same path and follow go-jsonrpc's xrpc.ch.val / xrpc.ch.close
// notifications. https/wss endpoints verify certificates against the
// system roots; [TLSConfig] adds a private CA or, explicitly, disables
// verification.
//
// # Errors and retries
//
// A JSON-RPC error object becomes a *[RPCError] (wrapped; use errors.As).
// The node ran the method, so such calls are never retried. Transport
// failures (connection refused or reset, timeouts, HTTP 502/503/504/429)
// are retried with capped exponential backoff and full jitter, per
// [RetryPolicy], but only when that is safe:
//
//   - idempotent methods ([Idempotent]: all reads, gas estimation,
//     MpoolGetNonce, WalletSign) are retried on any transport failure;
//   - non-idempotent methods (MpoolPush) are retried only if the TCP
//     connection was never established, which proves the node never saw
//     the request. Any other failure is returned wrapping
//     [ErrOutcomeUnknown] so the caller can check the chain or mpool
//     before deciding; the client never pushes twice on its own.
//
// Certificate errors, 401/403 ([ErrUnauthorized]) and malformed responses
// ([ErrBadResponse]) are permanent.
//
// # Types
//
// Result types (TipSet, MinerInfo, SectorPreCommitOnChainInfo, …) mirror
// the JSON Lotus documents in documentation/en/api-methods-v1-stable.md;
// generic chain types (Message, SignedMessage, BigInt, TipSetKey,
// MsgLookup) come from chain/types, SectorPreCommitInfo is go-state-types'
// miner type, as in Lotus. The tests serve those documented
// examples from an httptest server (testdata/api-v1-examples.json).
//
// A Client is safe for concurrent use.
package lotus
