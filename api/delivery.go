package api

// SectorMetadata is everything an SP needs to keep proving a sector sealed
// for it, pushed by the provider's manager to the SP's receiver (idempotent:
// pushing the same metadata twice is a no-op; different metadata for an
// accepted sector is refused).
type SectorMetadata struct {
	ID        SectorID `json:"id"`
	ProofType int64    `json:"proof_type"`
	CommR     string   `json:"comm_r"` // sealed CID
	CommD     string   `json:"comm_d"` // unsealed CID
	CommC     Hex32    `json:"comm_c"`
	CommRLast Hex32    `json:"comm_r_last"`
	Ticket    Ticket   `json:"ticket"`
	Seed      Seed     `json:"seed"`
	// PreCommitMessage and ProveCommitMessage are the CIDs of the chain
	// messages that carried the sector.
	PreCommitMessage   string  `json:"precommit_message"`
	ProveCommitMessage string  `json:"provecommit_message"`
	Pieces             []Piece `json:"pieces"`
	Expiration         int64   `json:"expiration"`
	// Files lists the sealed file and the cache files the SP needs
	// (tree-r-last, p_aux, t_aux) with sizes and SHA-256.
	Files []SectorFile `json:"files"`
}

// DeliveryState is a sector's handoff progress, tracked by the manager.
type DeliveryState string

// Delivery states.
const (
	DeliveryPending      DeliveryState = "pending"
	DeliveryTransferring DeliveryState = "transferring"
	DeliveryVerifying    DeliveryState = "verifying"
	DeliveryAccepted     DeliveryState = "accepted"
	DeliveryRejected     DeliveryState = "rejected"
)
