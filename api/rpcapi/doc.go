// Package rpcapi binds package api's typed contract to package rpc: the
// typed clients (SealerClient, TenantClient, AdminClient, SignerClient,
// SignerHubClient), the server method tables (SealerMethods, …) that bind
// each interface method to its wire name once, and the error registry
// (Errors) built from api.ErrorCodes.
//
// Both sides compile against the same interface: a server registers the
// table built from its implementation (which must satisfy the interface),
// a client is one of the types here (which satisfy it too, by the guards at
// the bottom of each file), so a method whose signature drifts on either
// side no longer compiles, and a method that exists on one side only is
// found by TestTablesCoverInterfaces.
//
// Package api stays free of behaviour; this package is the only place
// that knows both the contract and the transport.
package rpcapi
