package walletgw

import (
	"github.com/google/uuid"

	"github.com/sealant/sealant/chain/address"
)

// The venus-gateway wallet-event API as a venus-wallet speaks it
// (venus-shared api/gateway/v1 wallet_event.go, types/gateway; see the
// package doc). Names and JSON shapes are the wire contract: a real
// venus-wallet decodes these structs with venus-shared's types.
const (
	// Path is where the gateway API is served on the manager's listener;
	// venus-wallet dials ws://HOST:PORT/rpc/v1 for --gateway-api
	// /ip4/HOST/tcp/PORT.
	Path = "/rpc/v1"
	// NamespaceHeader and Namespace are the header venus-shared's gateway
	// client sends to pick the gateway API on a shared endpoint.
	NamespaceHeader = "X-VENUS-API-NAMESPACE"
	Namespace       = "gateway.IGateway"

	// MethodListenWalletEvent opens the event channel:
	// (RegisterPolicy) → channel of RequestEvent.
	MethodListenWalletEvent = "Gateway.ListenWalletEvent"
	// MethodResponseWalletEvent answers an event: (ResponseEvent) → null.
	MethodResponseWalletEvent = "Gateway.ResponseWalletEvent"
	// MethodAddNewAddress announces new keys: (channel id, [address]) →
	// null, after each is proven.
	MethodAddNewAddress = "Gateway.AddNewAddress"
	// MethodRemoveAddress withdraws keys: (channel id, [address]) → null.
	MethodRemoveAddress = "Gateway.RemoveAddress"
	// MethodSupportNewAccount adds a sophon-auth account: (channel id,
	// account) → null. Sealant has no accounts (the token names the
	// tenant), so it is refused with an explanation.
	MethodSupportNewAccount = "Gateway.SupportNewAccount"

	// Event methods (RequestEvent.Method).
	EventInitConnect = "InitConnect" // payload ConnectedCompleted; not answered
	EventWalletList  = "WalletList"  // payload null; answer: JSON [address]
	EventWalletSign  = "WalletSign"  // payload WalletSignRequest; answer: JSON signature

	// MsgMeta types Sealant sends (venus-shared types/msg_meta.go).
	MetaChainMessage  = "message"       // Extra: the unsigned message CBOR; ToSign: its CID bytes
	MetaVerifyAddress = "verifyaddress" // Extra: the gateway's random bytes; ToSign: sha256(Extra ‖ SignBytes)
)

// RegisterPolicy is ListenWalletEvent's parameter (venus-shared
// gateway.WalletRegisterPolicy). SignBytes are random bytes the wallet
// chose for this process: a verifyaddress request must sign
// sha256(gateway random ‖ SignBytes), which the wallet checks, so the
// proof of possession cannot be turned into a blind-signing oracle.
type RegisterPolicy struct {
	SupportAccounts []string
	SignBytes       []byte
}

// RequestEvent is one value of the event channel (venus-shared
// gateway.RequestEvent, whose other fields are not sent).
type RequestEvent struct {
	ID      uuid.UUID `json:"Id"`
	Method  string
	Payload []byte
}

// ResponseEvent is the wallet's answer to a RequestEvent: Payload is the
// JSON of the result, or Error the wallet's error text.
type ResponseEvent struct {
	ID      uuid.UUID `json:"Id"`
	Payload []byte
	Error   string
}

// MsgMeta tells the wallet what it signs (venus-shared types.MsgMeta).
type MsgMeta struct {
	Type  string
	Extra []byte
}

// WalletSignRequest is the payload of a WalletSign event.
type WalletSignRequest struct {
	Signer address.Address
	ToSign []byte
	Meta   MsgMeta
}

// ConnectedCompleted is the payload of the InitConnect event: the channel
// id the wallet names in AddNewAddress, RemoveAddress and
// SupportNewAccount.
type ConnectedCompleted struct {
	ChannelId uuid.UUID //nolint:revive // the wire name
}
