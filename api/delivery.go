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

// Delivery methods of the worker API. After Finalize, the sealing thread asks
// where its sector goes and moves the files itself (built-in HTTP transfer or
// a transfer processor); the manager pushes the SectorMetadata to the SP's
// receiver and records the outcome.
const (
	// MethodDeliveryTarget: (SectorID) → DeliveryTarget.
	MethodDeliveryTarget = "Sealant.DeliveryTarget"
	// MethodReportDelivery: (SectorID, DeliveryReport) → DeliveryReportResponse.
	// The worker reports what it did: "verifying" once its upload is done
	// and the receiver was asked to verify (Architecture 2), "accepted"
	// once the files are in the provider's store (Architecture 1),
	// "rejected" when the receiver refused them.
	MethodReportDelivery = "Sealant.ReportDelivery"
	// MethodDeliveryStatus: (SectorID) → DeliveryReportResponse. The
	// delivery's verdict as the manager knows it, asking the SP's receiver
	// when no verdict is recorded yet. It records no claim of the worker
	// (only a verdict the receiver gave), so a worker waiting for the
	// verdict polls it, as often as it likes.
	MethodDeliveryStatus = "Sealant.DeliveryStatus"
)

// Architecture says who keeps and proves a tenant's sectors.
type Architecture int

// Architectures (see docs/storage-providers.md).
const (
	// ArchProviderProves (1): the provider stores the sectors and submits
	// WindowPoSt for the SP, signed by the SP's signer.
	ArchProviderProves Architecture = 1
	// ArchSPProves (2): the sectors are handed to the SP's receiver, which
	// verifies them and proves them with its own lotus-miner or Curio.
	ArchSPProves Architecture = 2
)

// DeliveryTarget tells a worker where a finalized sector goes.
type DeliveryTarget struct {
	Architecture Architecture `json:"architecture"`
	// ReceiverURL and Token address the SP's receiver (ArchSPProves).
	ReceiverURL string `json:"receiver_url,omitempty"`
	Token       string `json:"token,omitempty"`
	// StorePath is the provider's long-term store for ArchProviderProves
	// (lotus layout below it: sealed/, cache/).
	StorePath string `json:"store_path,omitempty"`
	// BandwidthLimit in bytes/s, 0 = unlimited.
	BandwidthLimit int64 `json:"bandwidth_limit,omitempty"`
}

// DeliveryReport is the worker's account of a delivery step.
type DeliveryReport struct {
	State DeliveryState `json:"state"`
	Desc  string        `json:"desc,omitempty"`
	// Files are the delivered files with their checksums.
	Files []SectorFile `json:"files,omitempty"`
}

// DeliveryReportResponse says whether the worker may drop its copy: only
// after the SP accepted the sector (or the provider's store holds it).
type DeliveryReportResponse struct {
	State      DeliveryState `json:"state"`
	MayCleanUp bool          `json:"may_clean_up"`
	Desc       string        `json:"desc,omitempty"`
}
