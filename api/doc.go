// Package api is the wire contract between Sealant's processes: the worker
// API the manager serves to sealing threads (SealerAPI), the connection an
// SP's signer keeps open to the manager (signer methods), and the sector
// metadata a provider hands to an SP's receiver.
//
// It holds only types, method names, the typed APIs as Go interfaces
// (contract.go: SealerAPI, TenantAPI, AdminAPI, SignerAPI, SignerHubAPI)
// and the error registry (errors.go: every application sentinel with its
// stable wire code and name, documented in docs/api-errors.md) — no
// behaviour — so that the manager, the worker, the signer and the receiver
// can each depend on it without depending on one another (as damocles'
// core package does). Package api/rpcapi binds it to package rpc. All
// methods are JSON-RPC 2.0 over package rpc, namespace "Sealant" for the
// manager and "SealantSigner" for methods the manager calls on a signer.
//
// Byte strings are hex in JSON (Hex32, HexBytes) so that operators can read
// them in logs and curl output; commitments travel as CIDs.
package api
