// Package rpc is the JSON-RPC 2.0 transport shared by every Sealant
// service: the manager's worker, tenant and admin APIs, the devnet's
// Lotus-compatible full-node API, and the connection an SP's signer keeps
// open to the manager.
//
// # Why a transport package
//
// Services register plain handlers and never import net/http: they are
// tested by calling handlers directly (WithClaims builds the context), and
// the transport is tested once, here, with httptest. The split follows
// tailscale's localapi (a method table with per-method permissions,
// handlers that return errors) and go-jsonrpc's wire format, which Lotus
// and Venus clients speak.
//
// # Wire format
//
// Requests are JSON-RPC 2.0 with positional params (Lotus style); a params
// object is passed to the handler as the single positional element. Batches
// and notifications are supported. HTTP POST and WebSocket share one path:
// a request carrying "Connection: upgrade" is upgraded (as go-jsonrpc does).
// HTTP statuses follow go-jsonrpc so Lotus clients read our errors: 200
// when a method was reached (result or error), 400 for -32600, 500 for
// -32700 and -32601, 401 for a rejected token, 413 for an oversized body,
// 204 when only notifications were sent.
//
// On a WebSocket both ends may send requests; responses are matched by id.
// A handler may return a *Stream: the caller receives an integer channel
// id as the result, then {"method":"xrpc.ch.val","params":[chid,value]}
// notifications and finally {"method":"xrpc.ch.close","params":[chid]}.
// A caller ends a call or a channel early with {"method":"xrpc.cancel",
// "params":[requestID]}. These are go-jsonrpc's built-in methods, so a
// real Lotus client can consume ChainNotify served by the devnet.
//
// # Authentication and permissions
//
// Bearer tokens are HS256 JWTs. The payload is Lotus's {"Allow":[…]} plus
// Sealant claims (sub, role, tenant, jti); see Claims. Every method has a
// required Perm; a caller holding a stronger one passes (admin ⊃ sign ⊃
// write ⊃ read). Lotus compares the required permission literally against
// Allow, which agrees with this rule for the cumulative lists Lotus issues
// (AllowList). Tokens are verified on every HTTP request and once per
// WebSocket; expiry and the revocation hook are re-checked for every call
// on a WebSocket, so revoking a signer's token stops its next call
// (Server.Peers and Peer.Close can also drop the connection at once).
//
// # Errors
//
// Handlers return ordinary errors. An *Error is sent as is; the transport
// sentinels (ErrInvalidParams, ErrPermissionDenied, context.Canceled, …)
// and errors registered with RegisterError / RegisterErrorType get their
// codes and their text; anything else is unexpected: it is logged with a
// reference and the caller sees only "internal error (ref …)" (unless
// ServerConfig.ExposeErrors, which Lotus-compatible endpoints need).
// Panics become -32603 the same way. On the client the code is mapped back,
// so errors.Is(err, manager.ErrSectorNotFound) holds across the wire.
//
// # Bidirectional use
//
// The signer dials the manager with Dial("wss://…", WithToken(t),
// WithHandler("Signer.Sign", h)); the manager sees it in an OnConnect hook
// (or via PeerFrom inside a handler the signer calls) and calls
// peer.Call(ctx, "Signer.Sign", &sig, req) over the same connection.
// Clients do not reconnect by themselves; see Client.
package rpc
