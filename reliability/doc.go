// Package reliability is Sealant's crash and partition suite. It has no
// code of its own outside its tests, which are behind the build tag
// "reliability" because they build the sealant binary and run a whole
// deployment as real processes:
//
//	go test -tags reliability -count=1 -timeout 15m ./reliability/
//
// # What it does
//
// On loopback only, it starts the devnet chain (`sealant devnet run`),
// a manager (`sealant manager run`, on PostgreSQL when SEALANT_TEST_PG_DSN
// is set, else SQLite), two workers (`sealant worker run`) that reach the
// manager through a TCP proxy the test controls, and for two tenants a
// signer each (`sealant signer run`, keys in the tenant's own keystore)
// and, for the Architecture 2 tenant, a receiver (`sealant receiver run`).
// While the tenants' sectors are sealed it, at random moments from a
// seeded schedule (SEALANT_RELIABILITY_SEED reproduces one):
//
//   - kills a worker, the manager, a signer and the receiver with SIGKILL
//     (no chance to flush or say goodbye) and restarts them;
//   - restarts PostgreSQL once (pg_ctlcluster; skipped with a message
//     without SEALANT_TEST_PG_DSN);
//   - cuts every worker↔manager connection at the proxy for a few seconds.
//
// # What must hold
//
// At the end every sector the manager allocated is either proven on chain
// (with the CommR the manager recorded), delivered into its SP's store and
// verified there, or aborted with a reason; none is lost (still in flight
// after the settle time) and none was sealed twice (one lease holder for
// its whole history, one CommR). The counts — kills per role, restarts,
// partitions, sectors proven/delivered/verified/failed/lost — are logged
// and, with SEALANT_RELIABILITY_REPORT=FILE, written as JSON.
//
// The manager's Architecture 1 WindowPoSt is off unless
// SEALANT_RELIABILITY_WDPOST=1: with it on, WindowPoSt and the commit
// pipeline share a sender and race for nonces (see wdpostEnabled).
//
// The default is the short form for CI (a few sectors per tenant, about
// a minute of faults); SEALANT_RELIABILITY_LONG=1 runs longer with more
// sectors.
package reliability
