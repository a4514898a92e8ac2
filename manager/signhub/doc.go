// Package signhub is the manager's side of SP key custody: it accepts the
// outbound WebSocket connections of SP-run `sealant signer` processes on the
// manager's RPC server, checks that each signer really holds the addresses
// it announces, and routes the commit pipeline's sign requests to a
// connected signer holding the message's sender.
//
// Why a hub rather than a key: Sealant never holds an SP's keys. A signer
// dials out (it needs no inbound port and works behind NAT), so the manager
// can only reach it over the connection the signer opened; the hub keeps
// track of those connections per tenant and turns "sign this message" into a
// reverse call (api.MethodSignerSign) on one of them.
//
// Protocol (api/signer.go, api/signer_ext.go): the signer calls
// Sealant.SignerHello with a signer-role token of its tenant; inside that
// call the hub sends SealantSigner.ProveAddresses with a fresh 32-byte
// challenge and keeps only the addresses whose signature over
// api.AddressProofBytes(challenge, address) verifies. Sign requests carry the
// unsigned message CBOR and its CID; the signer decodes the message and
// applies its own policy, and the hub verifies every returned signature
// before handing it to the pipeline.
//
// Failure behaviour: a request for a tenant without a suitable signer waits
// (Waiting reports it, so sectors show "waiting for signer") for up to
// Config.WaitTimeout and then fails with ErrNoSigner; a signer that drops
// mid-request has the same request re-sent to the next suitable signer, and
// because signers recognise a message CID they already signed and the
// signature schemes are deterministic, Sign returns exactly one signature.
// Refusals are final and carry the signer's reason (RefusedError).
//
// Other protocols: a connection adapted by another package (Remote; the
// venus-wallets of manager/walletgw) is attached with AttachRemote after
// that package proved its addresses, and is routed to like any signer;
// SignerInfo.Kind tells them apart, and api.MethodAdminSigners lists both
// kinds for `sealant admin signers`.
package signhub
