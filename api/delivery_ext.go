package api

import "time"

// LocalFile is a sector file on the sending machine: its name, size and
// SHA-256 as the SP will see them (SectorFile) and where it is read from.
// The delivery client and the worker's Transferer share it.
type LocalFile struct {
	SectorFile
	Path string `json:"path"`
}

// ReceiverFile is the receiver's progress on one file of a sector.
type ReceiverFile struct {
	SectorFile
	// Received is how many bytes the receiver has acknowledged (written
	// and checked), always at a chunk boundary; a sender resumes from
	// here. They become durable at the receiver's next commit; after a
	// crash of the receiver's machine it reports the last committed
	// offset instead, and the sender re-sends from there.
	Received int64 `json:"received"`
	// Complete is set once the whole-file SHA-256 matched.
	Complete bool `json:"complete"`
}

// VerifyCheck is one check of a verified import.
type VerifyCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// ReceiverSector is the receiver's view of one sector, what the provider
// polls after a transfer and what `sealant receiver sectors list` prints.
type ReceiverSector struct {
	ID       SectorID      `json:"id"`
	Provider string        `json:"provider"`
	State    DeliveryState `json:"state"`
	// Reason explains a rejection (the sector is then quarantined).
	Reason string         `json:"reason,omitempty"`
	Files  []ReceiverFile `json:"files"`
	Checks []VerifyCheck  `json:"checks,omitempty"`
	// Quarantine is where a rejected sector's files were moved.
	Quarantine string    `json:"quarantine,omitempty"`
	Updated    time.Time `json:"updated"`
}

// VerifyResult is the outcome of a verified import (`sealant receiver
// verify --json`).
type VerifyResult struct {
	OK     bool          `json:"ok"`
	CommR  string        `json:"comm_r"`
	Checks []VerifyCheck `json:"checks"`
}
