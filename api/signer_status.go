package api

import "time"

// MethodAdminSigners lists the signers connected to the manager (admin
// role): (tenant string; "" for every tenant) → []SignerStatus. Both kinds
// of signer are listed: `sealant signer` connections and venus-wallets
// connected through the gateway wallet API (manager/walletgw).
const MethodAdminSigners = "Sealant.AdminSigners"

// Signer kinds (SignerStatus.Kind).
const (
	// SignerKindSealant is an SP's `sealant signer`.
	SignerKindSealant = "sealant"
	// SignerKindVenusWallet is an SP's venus-wallet speaking the
	// venus-gateway wallet protocol.
	SignerKindVenusWallet = "venus-wallet"
)

// SignerStatus describes one connected signer.
type SignerStatus struct {
	ID     string `json:"id"` // manager-assigned connection id
	Tenant string `json:"tenant"`
	// Kind is SignerKindSealant or SignerKindVenusWallet.
	Kind      string   `json:"kind"`
	Name      string   `json:"name"`
	Version   string   `json:"version"`
	Addresses []string `json:"addresses"`          // proven addresses
	Unproven  []string `json:"unproven,omitempty"` // announced but not proven (or not provable)
	Remote    string   `json:"remote"`
	// ConnectedAt is when the signer connected (or last changed its
	// addresses).
	ConnectedAt time.Time `json:"connected_at"`
	InFlight    int       `json:"in_flight"`
	Signed      uint64    `json:"signed"`
	Refused     uint64    `json:"refused"`
}
