// Package worker is Sealant's sealing worker: sealing threads that pull
// sectors from one or more managers and drive each sector end to end
// through the pure state machine of package worker/sectorfsm.
//
// # Why this shape
//
// Capacity in sealing-as-a-service grows by starting workers from a
// template, and a sector takes hours, so a thread must survive any crash
// without resealing what it already did. The design follows etcd raft and
// damocles-worker (shared/style.md §1, §4):
//
//   - sectorfsm decides; this package performs. Thread.Run is a thin loop
//     around sectorfsm.Step: persist the new record (atomic write + fsync,
//     Store.Save), append the event log, report the transition to the
//     manager, then run the actions through the Executor and feed the
//     result back as an event. A crash re-enters the stored state.
//   - Every action is idempotent at the edge: porep records each finished
//     sealing stage in the sector directory (and PC1 resumes per layer), C1
//     output is written atomically, manager submissions are idempotent,
//     Finalize's moves are restartable and delivery compares checksums.
//   - Failures have levels (Level): temporary errors retry with backoff,
//     ErrPermanent pauses the thread until an operator resumes it (CLI or
//     through the manager), ErrAbort reports and cleans up.
//
// # Processors
//
// Each stage runs in-process or in an external program that speaks
// damocles' JSON-lines processor protocol (ExtProc, ServeProcessor; see
// processor.go), with per-stage concurrency limits, per-process
// concurrency and named locks (Limits, Pool). `sealant processor STAGE`
// serves Sealant's own stages (BuiltinHandler): tree_d, pc1 and pc2 from the
// task content alone, so a damocles worker can use them. External pc1/pc2
// get exactly what a damocles worker sends (the full pc1out) and their
// answers are checked before a sector moves on (porep.AdoptPC1/AdoptPC2);
// docs/processors.md has the shapes. C2 runs in an external
// processor when one is configured; otherwise only on the devnet, with the
// labelled devnet proof of proofs/c2, and on a real network the sector
// pauses at C2 with a message saying what to configure.
//
// # Configuration
//
// Config mirrors damocles-worker's TOML sections ([worker], [sealing],
// [[sealing_thread]], [[attached]], [processors…]) with one addition asked
// for by damocles users: [[manager]] entries, so one worker can serve
// several managers. DefaultTemplate is the commented template.
package worker
