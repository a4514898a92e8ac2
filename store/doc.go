// Package store is the sealing manager's persistence: tenants, API token
// records, sectors (leases, state history, pieces, ticket/seed,
// commitments, finalized files), the tenants' piece queue,
// PreCommit/ProveCommit batches and their chain messages, deliveries and
// their metadata handoff, worker heartbeats and usage metering. The
// manager's worker-API calls each have one method here that does all the
// call writes in one transaction (calls.go, reports.go); state reports the
// manager queued are written inside the sector's next call or together
// in a flush (queuedreports.go). There is no other way to write a
// worker's progress: tests put a sector in a given state through the same
// calls, as the manager does (package storetest has the fixtures).
//
// # Why a database, and why these rules
//
// The manager is passive: workers pull work. The database is therefore the
// queue and the lock (as in Curio's harmonytask), and every invariant the
// service promises is enforced inside one transaction:
//
//   - Sector numbers are per miner, monotonic and never reused — a counter
//     row per miner (sector_counters) is bumped in the allocating
//     transaction, survives sector and tenant deletion, and the (miner,
//     number) primary key backs it up.
//   - No sector is sealed twice — a sector's lease belongs to one worker
//     identity forever. An expired lease is visible (ExpiredLeases) and the
//     sector is re-offered to the same identity when it asks again
//     (AllocateSector); it is never handed to another worker.
//   - Fair share across tenants is a deterministic rule (see
//     AllocateSector), so it can be reasoned about and tested exactly.
//   - Submissions are idempotent: comm_r/comm_d and the proof are stored
//     once (a repeat is SubmitDuplicate, a different value SubmitMismatch);
//     the ticket, the seed and the pieces are decided once and a repeat
//     gets the stored ones back.
//   - A manager restart never re-sends a batch with a different nonce: the
//     message row (nonce, unsigned CBOR, CID, signed CID, state) is written
//     before anything is signed or pushed, and ReserveNonce returns the
//     existing message for a batch.
//
// # Backends
//
// Open takes "sqlite:///path", a plain path (SQLite, via the pure-Go
// modernc.org/sqlite) or "postgres://…" (PostgreSQL, via pgx's
// database/sql driver). SQL is written once with '?' placeholders and
// rebound for PostgreSQL. Schema differences are two tokens in the
// migration files ({{ID}}, {{BLOB}}); times are Unix milliseconds in
// BIGINT columns on both.
//
// SQLite runs in WAL mode with one writer connection per Store whose
// transactions are BEGIN IMMEDIATE (a transaction that will write takes the
// write lock up front, so it can wait in busy_timeout instead of failing
// with SQLITE_BUSY on upgrade), plus a small read-only pool for plain
// reads. Several Stores (processes) on one file serialize on the file lock.
// Within one Store, concurrent write transactions are group-committed: run
// back to back in one SQLite transaction, each in a savepoint of its own,
// and made durable by one COMMIT (groupcommit.go). Statements are prepared
// once per connection (stmtCache), and WAL checkpoints run on a background
// connection instead of inside a committing transaction.
// PostgreSQL transactions run at READ COMMITTED and take row locks (SELECT
// … FOR UPDATE) on what they decide on; transient serialization and
// deadlock errors (and SQLITE_BUSY) are retried by re-running the whole
// transaction. Worker calls on PostgreSQL are group-committed too, in
// lanes that never wait for each other's locks (pggroup.go); allocations
// in a lane that decides a whole group with a fixed number of statements
// (allocgroup.go). A PostgreSQL group locks its calls' sector rows in one
// statement up front and sends the writes nobody reads back together,
// before its next read or its commit (pgbatch.go): a group costs a few
// round trips whatever its size.
//
// Migrations (migrations/NNNN_name.sql) are embedded, numbered and
// forward-only, applied in one transaction and recorded in schema_version.
// Concurrent starts are safe: PostgreSQL takes a transaction-scoped
// advisory lock, SQLite's BEGIN IMMEDIATE holds the write lock.
//
// # Time
//
// Every method that depends on the clock takes now as an argument; the
// package never reads the wall clock for decisions (only to stamp when a
// migration ran), so tests drive time explicitly.
//
// # Errors
//
// Errors wrap the package sentinels (ErrNotFound, ErrConflict, ErrInvalid,
// ErrNoWork, ErrNotLeaseHolder, ErrSectorDone, ErrTokenRevoked,
// ErrTokenExpired, ErrSchemaTooNew, ErrBusy); test them with errors.Is.
package store
