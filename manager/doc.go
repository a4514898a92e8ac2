// Package manager is Sealant's sealing manager: one service that serves
// many storage providers (tenants) at once, fairly and in isolation, while
// sealing workers pull work from it. It never holds an SP's key: messages
// are signed by the SP's own signer (package manager/signhub) or, if the
// operator chose so, a Lotus wallet.
//
// # Why passive, and why the database decides
//
// As in damocles (shared/spec/landscape.md §1), workers pull: a sealing
// thread asks AllocateSector for a sector, then drives it through
// AcquirePieces, AssignTicket, SubmitPreCommit/PollPreCommitState, WaitSeed,
// SubmitProof/PollProofState and ReportFinalized, reporting every state
// change with ReportState. The manager keeps no per-worker session, so it
// can restart at any time and several managers can share one PostgreSQL
// database: every decision that must be unique — which tenant gets the next
// sector, its number, its ticket and seed, a submission, which queued
// pieces go into which sector — is taken inside one database transaction
// (package store).
//
// # Tenants, fairness, isolation
//
// A tenant is one miner actor with its proof type, senders, signing route,
// batching policy, fee caps, expiration, quota, weight and delivery target.
// AllocateSector picks among the tenants a worker accepts by weighted fair
// share within quotas (store.AllocateSector documents the deterministic
// rule; TestFairShare checks it). Tokens are HS256 JWTs with a role and,
// for tenants, a tenant claim: the transport checks the method's
// permission and role (rpc.RequireRole), and every handler checks that the
// object it touches belongs to the caller's tenant, so a tenant token can
// read or change nothing of another tenant (TestIsolationMatrix).
//
// # Leases: no sector is sealed twice
//
// A sector belongs to the worker identity "<worker>/<thread>" that was
// allocated it, for life. The worker name comes from the token's subject,
// so a worker cannot act for another. Any call for a sector renews its
// lease; an expired lease is visible (ExpiredLeases, /metrics) and the
// sector is offered back only to the same identity, which resumes it from
// its own persisted state. An operator may abort it; nothing reassigns it.
//
// # Sector numbers
//
// Numbers are per miner, monotonic and never reused (a counter row in the
// store). A new number is cross-checked with StateMinerSectorAllocated;
// if the chain already has it (the SP sealed elsewhere) the sector is
// recorded aborted and the counter jumps past the allocated run.
//
// # One store, at most one transaction per worker call
//
// Everything the manager keeps is in package store's schema: besides the
// sectors, the tenants' piece queue, comm_c and comm_r_last, finalized
// file locations, the last batch of each kind a sector joined, the
// metadata handoff's progress and worker heartbeats (migration 0003 moved
// them from the tables older managers created themselves, mgr_*, and the
// store imports an even older manager's separate sidecar file when it
// opens). Each worker-API call that writes is one store method, one
// transaction (store/calls.go): the caller's right to the sector is
// checked on the locked row inside it (store.Holder), and the lease is
// renewed there when it runs low, so a call pays no separate read or
// heartbeat. Chain reads a call needs (a ticket, a seed, the head for the
// ticket's age) happen before it, so no transaction waits on the chain.
//
// Some calls need no transaction of their own:
//   - A state report is information (the worker's record is the truth):
//     ReportState checks it against what the manager knows and queues it;
//     the sector's next writing call writes it first, in its own
//     transaction, or a flush writes every queued report, at most
//     Options.ReportFlush later (reportqueue.go, store/queuedreports.go).
//   - A CC sector's ticket is drawn before AcquirePieces and stored in its
//     transaction, so AssignTicket only reads (a data sector's is drawn
//     when the worker asks: its AddPiece may be long, and the ticket's age
//     counts against the PreCommit deadline).
//   - The interactive seed is the same for every caller once the chain
//     settled it, so WaitSeed only reads, and SubmitProof draws it again
//     and stores it with the proof.
//   - Worker pings are kept in memory and written together now and then
//     (heartbeats.go): the worker is the authority on its own threads.
//
// A crash of the manager loses at most ReportFlush of state history and
// CPU metering (more while the database is unreachable: reports then wait
// in memory, at most maxQueuedReports of them), and a few seconds of
// heartbeats; nothing a decision rests on.
//
// # Load
//
// A fleet of sealing threads mostly polls. Poll answers may come from a
// five-second cache of the sector and batch rows (Options.PollCacheTTL), so
// a poll costs no database read most of the time (pollcache.go); callers
// that miss the same row at once share one read, and on PostgreSQL sector reads made
// while another is running are answered together by one query
// (store/sectorreads.go). Lease renewals are written only when a quarter
// of the TTL has passed, not on every call. Concurrent worker calls are
// group-committed by the store: on SQLite all writes (one transaction, a
// savepoint each), on PostgreSQL in lanes per sector and per tenant and
// one for allocations, which decides a whole group of allocations
// together (store/pggroup.go, store/allocgroup.go).
//
// # Handing sectors over (handoff.go, windowpost.go)
//
// Architecture 2 (the tenant has a delivery target: the SP's receiver,
// package delivery) needs the sector's metadata at the receiver as well as
// its files, and the receiver verifies only when both are there. The
// worker moves the files; the manager pushes the metadata, because it is
// the one that holds all of it (commitments, ticket, seed, message CIDs,
// pieces, the finalized file list). Pushes happen just before the worker
// transfers (DeliveryTarget) and in a background loop woken by
// ReportFinalized that also re-reads "finalized but not pushed" sectors
// from the database, so a push lost to a dead receiver or a manager
// restart is retried (persisted back-off, mgr_handoff) and a push is
// repeated only for changed metadata or a new attempt after a rejection;
// the receiver treats a repeated push as a no-op. The receiver, not the
// worker, decides: a worker's "accepted" is recorded only once the
// receiver confirms it, so MayCleanUp (the worker may drop its only copy)
// follows the SP's verdict, and a rejection is recorded with the
// receiver's reason. Architecture 1 (no target) keeps sectors in the
// provider's store (delivery.store_path), which the provider must then
// prove: RunWindowPoSt drives package manager/wdpost for those tenants.
//
// # Components
//
// The commitment pipeline (manager/commit) turns accepted submissions into
// PreCommitSectorBatch2 / ProveCommitSectors3 messages; this package only
// adds sectors to their tenant's open batch and reads batch and message
// progress back from the store for the Poll methods (CommitPipeline). The
// signer hub (manager/signhub) holds the SPs' signer connections
// (SignerPresence, RPCRegistrar). Handlers never import net/http: they are
// registered on an rpc.Server (Register) and the HTTP mux — /rpc/v0,
// /metrics, /healthz — lives in http.go alone.
package manager
