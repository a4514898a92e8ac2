// Package walletgw lets an SP's unmodified venus-wallet be its signer: the
// manager serves the venus-gateway (sophon-gateway) wallet-event API that
// venus-wallet connects to with `run --gateway-api /ip4/HOST/tcp/PORT
// --gateway-token TOKEN`, and hands each proven connection to the signer
// hub (manager/signhub), which routes sign requests to it exactly as to a
// `sealant signer`.
//
// # Protocol (testdata/README.md cites the sources)
//
// The wallet dials ws://HOST:PORT/rpc/v1 (Path) with its token as a bearer
// token and the header X-VENUS-API-NAMESPACE: gateway.IGateway, and calls
// Gateway.ListenWalletEvent({SupportAccounts, SignBytes}): a go-jsonrpc
// channel (xrpc.ch.val / xrpc.ch.close) of RequestEvent{Id, Method,
// Payload}. The gateway sends WalletList, then for every f1/f3 key a
// WalletSign with MsgMeta{verifyaddress, R} over sha256(R ‖ SignBytes)
// (fresh random R per proof) and verifies the signature, then InitConnect
// with the channel id. The wallet answers each event with
// Gateway.ResponseWalletEvent({Id, Payload, Error}); it announces keys it
// creates later with Gateway.AddNewAddress (proven the same way before
// use) and withdraws them with Gateway.RemoveAddress. Chain messages are
// WalletSign events with MsgMeta{message, unsigned message CBOR} over the
// message CID bytes.
//
// # Mapping onto Sealant
//
// The token is a signer-role token of the tenant (the one `sealant signer`
// uses); it alone names the tenant, so sophon accounts
// (SupportAccounts, Gateway.SupportNewAccount) have no meaning here. A
// session (one event channel) implements signhub.Remote: the hub's sign
// request becomes a WalletSign event, a wallet error (its sign filter, a
// locked wallet) becomes a refusal carrying the wallet's text, and a lost
// connection makes the hub send the request again to the next wallet or
// signer holding the key, or to this wallet once it has reconnected and
// proven its keys again. The hub verifies every signature.
//
// # Bad input
//
// A wallet is disconnected, and nothing is routed to it, when a proof
// fails (wrong signature, another key's signature, not a signature, no
// answer within Config.ProveTimeout), when it answers events it was not
// sent more than Config.MaxUnsolicited times, sends an answer larger than
// Config.MaxPayload or a message larger than DefaultMaxRequestSize, or
// changes its addresses more than Config.MaxAddressChanges times a minute.
// A tenant has at most Config.MaxSessions wallet connections.
package walletgw
