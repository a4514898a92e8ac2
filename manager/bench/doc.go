// Package bench is the load generator behind `sealant bench manager`: it
// starts a manager on loopback with a fake chain and a store-driven stand-in
// for the commit pipeline, then simulates N sealing threads, each making one
// worker-API call per second in the order a real thread does (allocate,
// pieces, ticket, precommit, polls, seed, proof, polls, reports,
// finalize), and reports request rate and latency per method.
//
// Why one machine and loopback only: the figure of interest is what one
// manager process and its database sustain, not the network; and a load
// tool that can be pointed at arbitrary hosts is a denial-of-service tool.
// The simulated threads run in the manager's process, where the manager's
// garbage collector also scans their state and paces their allocations,
// or in a child process of their own when Config.ClientProcess is set
// (`--client-process`; client.go), as real workers do. On two cores the
// child process cost more than it saved: 10,000 threads took 1.2× the CPU
// (two Go runtimes) for no lower tail, so the figures in the README are
// taken in one process. To keep the harness's share of that process
// small, a thread is a state machine that a scheduler hands to an
// executor goroutine when its call is due (schedule.go), not a goroutine
// of its own.
// The run is bounded in time (Config.Duration ≤ MaxDuration) and count
// (Config.MaxRequests).
//
// # What the figures mean
//
// Workers reach the manager over HTTP (a POST per call, at most MaxConns
// connections) or over WebSockets (Transport "ws": one per worker, its
// threads' calls multiplexed on it). With thousands of threads the HTTP
// figures are dominated by the client waiting for a free connection and by
// the per-request cost on both ends of one machine; a WebSocket fleet is
// what the manager is sized for.
//
// PollsPerStage sets the mix: a thread's sector costs about ten writes
// plus 2×PollsPerStage polls, so the default 20 (a sector every ~50 s per
// thread, hundreds of times faster than real sealing) stresses the write
// path, while 600 (ten-minute waits at one call a second) is closer to a
// real fleet, which is mostly polling.
//
// Latency is measured by the client around each call (queueing for one of
// MaxConns connections included) and only for calls started after Warmup;
// calls still unanswered when the run ends are counted in
// Report.Unfinished instead of being dropped silently. The client, the
// server and the database share the machine's cores.
//
// Report.Seconds (`--timeline`, and always in `--json`) is the run second
// by second, warm-up included: calls, writes (calls other than polls),
// calls left unanswered, p50, p99 and max of the calls started in that
// second. The percentiles say how large a tail is; the timeline says
// where it comes from: the ramp's writes spilling into the first seconds
// of the window, or bursts about a second apart in a window of polls
// alone, which on two cores are the garbage collector's.
//
// # Transactions per sector (PostgreSQL)
//
// With Config.PGStats (`--pg-stats`) the report carries PostgreSQL's own
// count of the run's transactions (PGStats): write transactions as the
// advance of the transaction-id counter (the whole cluster's: measure on a
// cluster nobody else writes to) and committed transactions of any kind as
// the database's pg_stat_database.xact_commit delta (use a database of its
// own), each also per allocated sector. The counts do not depend on the
// machine's speed the way latencies do, so they can be compared between
// runs on a busy machine; per sector they depend on the mix (--polls, the
// run's length), so compare like with like:
//
//	createdb -h 127.0.0.1 -U postgres bench
//	sealant bench manager --threads 10000 --transport ws --polls 600 --pg-stats \
//	    --database 'postgres://postgres@127.0.0.1:5432/bench?sslmode=disable'
package bench
