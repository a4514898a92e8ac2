// Package dashboard is the sealing manager's web dashboard: a single page
// (plain HTML, CSS and vanilla JavaScript, embedded in the binary — no
// build step, no CDN, nothing fetched from outside the manager) that an
// operator or a tenant opens in a browser at the manager's address.
//
// # Why the page is only a client of the API
//
// The page holds no privilege of its own. It calls the manager's JSON-RPC
// API at /rpc/v0 with the token the user pastes (kept in sessionStorage,
// so it dies with the tab) or passes as ?token=, and renders what comes
// back. An admin token therefore sees every tenant, a tenant token sees
// only its own: the API enforces isolation and the page cannot widen it.
// Calls the token may not make (a tenant asking for the worker list) are
// shown as a plain "not allowed for this token" note rather than hidden.
//
// # Why an extra read-only method
//
// The tenant and admin APIs (package api) expose tenants, workers, sectors
// and usage, but not the commitment pipeline's batches and messages, nor
// delivery records, and ListSectors caps its answer at 1000 rows, which
// makes it unfit for counting. RegisterRPC adds one read-only method,
// SealantDashboard.Overview, with the same role rules as the tenant API
// (tenant or admin role, "read" permission, a tenant token is confined to
// its own tenant). Without it the page still works and counts the pipeline
// from ListSectors, saying that batches and deliveries are unavailable.
//
// # Mounting
//
// The manager's HTTP mux mounts Handler at "/" (the most general pattern,
// so /rpc/v0, /metrics and /healthz keep precedence) and calls RegisterRPC
// on its RPC server.
package dashboard
