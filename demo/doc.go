// Package demo runs Sealant's whole sealing-as-a-service flow on one
// machine, with nothing external: `sealant devnet` with no arguments.
//
// # What runs
//
// One process hosts, each on its own loopback listener exactly as in a
// deployment:
//
//   - the embedded devnet chain (package devnet), short block time;
//   - one sealing manager (package manager) on SQLite, with its commitment
//     pipeline (manager/commit) and signer hub (manager/signhub), and the
//     Architecture 1 WindowPoSt service (manager/wdpost) proving the sectors
//     the provider keeps;
//   - two sealing workers built from a config template (package worker),
//     each with sealing threads that pull from the manager over HTTP;
//   - for each of two tenants (SPs) its own signer (package signer) whose
//     keystore lives in the tenant's directory and which connects out to
//     the manager with a signer-role token, and, for the Architecture 2
//     tenant, its own receiver (package delivery) that verifies every
//     delivered sector against the chain before importing it.
//
// # Why in one process, and why still over the wire
//
// A demo that needs five terminals is not run; one that short-circuits the
// APIs proves nothing. So every component talks to the others only through
// its public network API (JSON-RPC, WebSocket, the delivery protocol) and
// through files it owns, as separate processes would; only the supervision
// is shared. The reliability suite (package reliability) runs the same
// roles as real processes and kills them.
//
// # Key custody
//
// Even here the provider never holds an SP key: the devnet writes each
// genesis account's key to its owners/ directory, the demo imports the
// tenant's owner and worker keys into that tenant's own signer keystore
// (DIR/tenants/<name>/signer/keys, sealed under a passphrase kept in the
// tenant's directory) and gives the manager only addresses and a signer
// token.
//
// # What "done" means
//
// A sector counts as proven when the chain has it in the miner's sector set
// (StateSectorGetInfo), delivered when its files are in the SP's store
// (Architecture 2: the receiver accepted it; Architecture 1: the provider's
// store holds it) and verified when the verified-import checks passed
// against the on-chain CommR (Architecture 2: by the SP's receiver;
// Architecture 1: by this package running the same delivery.Verify over the
// provider's store). Run returns when every sector is verified or failed
// for good, or the time limit passes.
//
// # Limits
//
// The commit pipeline's messages are capped at Lotus's 64 KiB (not the
// devnet's larger limit), because the SPs' signers judge messages by
// mainnet rules; batches are split to fit. The provider's WindowPoSt
// (manager/wdpost) runs next to the manager and sends from the miner's owner
// address, so that it never competes with the commit pipeline (worker
// address) for a nonce.
package demo
