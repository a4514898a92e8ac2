// Package bench is the load generator behind `sealant bench manager`: it
// starts a manager on loopback with a fake chain and a store-driven stand-in
// for the commit pipeline, then simulates N sealing threads, each making one
// worker-API call per second in the order a real thread does (allocate,
// pieces, ticket, precommit, polls, seed, proof, polls, reports,
// finalize), and reports request rate and latency per method.
//
// Why in-process and loopback only: the figure of interest is what one
// manager process and its database sustain, not the network; and a load
// tool that can be pointed at arbitrary hosts is a denial-of-service tool.
// The run is bounded in time (Config.Duration ≤ MaxDuration) and count
// (Config.MaxRequests).
//
// # What the figures mean
//
// Latency is measured by the client around each call (queueing for one of
// MaxConns connections included) and only for calls started after Warmup;
// calls still unanswered when the run ends are counted in
// Report.Unfinished instead of being dropped silently. The client, the
// server and the database share the machine's cores.
package bench
