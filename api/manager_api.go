package api

import "time"

// Tenant API: served by the manager on /rpc/v0 to tenant-scoped tokens (a
// tenant sees and touches only its own sectors) and to admin tokens (which
// see every tenant). Every method is safe to repeat except
// MethodSubmitPieces, which queues the pieces again.
const (
	// MethodSubmitPieces: ([]PieceSubmission) → SubmitPiecesResponse.
	MethodSubmitPieces = "Sealant.SubmitPieces"
	// MethodListSectors: (SectorListRequest) → []SectorInfo.
	MethodListSectors = "Sealant.ListSectors"
	// MethodShowSector: (SectorID) → SectorDetail.
	MethodShowSector = "Sealant.ShowSector"
	// MethodExportSector: (SectorID) → SectorMetadata.
	MethodExportSector = "Sealant.ExportSector"
	// MethodTenantUsage: (UsageRequest) → []TenantUsage (a tenant gets
	// one row at most, its own).
	MethodTenantUsage = "Sealant.Usage"
)

// Admin API: admin-scoped tokens only.
const (
	MethodAdminTenantCreate = "Sealant.AdminTenantCreate"  // (TenantConfig) → TenantConfig
	MethodAdminTenantUpdate = "Sealant.AdminTenantUpdate"  // (TenantConfig) → TenantConfig
	MethodAdminTenantGet    = "Sealant.AdminTenantGet"     // (id string) → TenantConfig
	MethodAdminTenantList   = "Sealant.AdminTenantList"    // () → []TenantConfig
	MethodAdminTenantPause  = "Sealant.AdminTenantPause"   // (id string, paused bool) → struct{}
	MethodAdminTenantDelete = "Sealant.AdminTenantDelete"  // (id string) → struct{}
	MethodAdminTokenIssue   = "Sealant.AdminTokenIssue"    // (TokenRequest) → IssuedToken
	MethodAdminTokenRevoke  = "Sealant.AdminTokenRevoke"   // (id string) → struct{}
	MethodAdminTokenList    = "Sealant.AdminTokenList"     // (tenant string) → []TokenInfo
	MethodAdminWorkers      = "Sealant.AdminWorkers"       // () → []WorkerInfo
	MethodAdminThreadPause  = "Sealant.AdminThreadPause"   // (worker, thread string, paused bool) → struct{}
	MethodAdminSectorAbort  = "Sealant.AdminSectorAbort"   // (SectorID, reason string) → struct{}
	MethodAdminExpired      = "Sealant.AdminExpiredLeases" // () → []SectorInfo
	MethodAdminUsageCSV     = "Sealant.AdminUsageCSV"      // (UsageRequest) → string (CSV)
)

// PieceSubmission is one piece a tenant wants sealed into a data sector.
type PieceSubmission struct {
	PieceCID    string `json:"piece_cid"`    // CommP (baga…)
	Size        uint64 `json:"size"`         // padded size, a power of two ≥ 128
	PayloadSize uint64 `json:"payload_size"` // unpadded bytes at SourceURL (0 = Size·127/128)
	// SourceURL is where workers fetch the payload; http or https only
	// (a tenant must not make a worker read its local files).
	SourceURL string `json:"source_url"`
}

// SubmitPiecesResponse lists the queue ids given to the pieces, in order.
type SubmitPiecesResponse struct {
	Queued []int64 `json:"queued"`
}

// SectorListRequest filters ListSectors; zero fields match everything.
type SectorListRequest struct {
	// Tenant is ignored for tenant tokens (always their own tenant).
	Tenant string `json:"tenant,omitempty"`
	// Phase is "active", "finalized" or "aborted".
	Phase  string `json:"phase,omitempty"`
	Worker string `json:"worker,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// SectorInfo is the manager's view of one sector.
type SectorInfo struct {
	ID           SectorID  `json:"id"`
	Tenant       string    `json:"tenant"`
	ProofType    int64     `json:"proof_type"`
	SectorSize   uint64    `json:"sector_size"`
	State        string    `json:"state"`
	Phase        string    `json:"phase"`
	AbortReason  string    `json:"abort_reason,omitempty"`
	Worker       string    `json:"worker"`
	LeaseExpires time.Time `json:"lease_expires"`
	LeaseExpired bool      `json:"lease_expired"`
	AllocatedAt  time.Time `json:"allocated_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Ticket       *Ticket   `json:"ticket,omitempty"`
	Seed         *Seed     `json:"seed,omitempty"`
	CommR        string    `json:"comm_r,omitempty"`
	CommD        string    `json:"comm_d,omitempty"`
	HasProof     bool      `json:"has_proof"`
	PreCommitMsg string    `json:"precommit_message,omitempty"`
	ProveMsg     string    `json:"provecommit_message,omitempty"`
}

// HistoryEntry is one recorded state change of a sector.
type HistoryEntry struct {
	At      time.Time `json:"at"`
	Worker  string    `json:"worker,omitempty"`
	Prev    string    `json:"prev"`
	Next    string    `json:"next"`
	Event   string    `json:"event"`
	Failure *Failure  `json:"failure,omitempty"`
}

// SectorDetail is a sector with its pieces and history.
type SectorDetail struct {
	Sector   SectorInfo     `json:"sector"`
	Pieces   []Piece        `json:"pieces"`
	History  []HistoryEntry `json:"history"`
	Location string         `json:"location,omitempty"`
	Files    []SectorFile   `json:"files,omitempty"`
}

// UsageRequest selects a metering period [From, To); zero To means now,
// zero From means 30 days before To.
type UsageRequest struct {
	Tenant string    `json:"tenant,omitempty"`
	From   time.Time `json:"from,omitzero"`
	To     time.Time `json:"to,omitzero"`
}

// TenantUsage is one tenant's metered usage over a period.
type TenantUsage struct {
	Tenant           string             `json:"tenant"`
	SectorsAllocated int64              `json:"sectors_allocated"`
	SectorsFinalized int64              `json:"sectors_finalized"`
	BytesFinalized   uint64             `json:"bytes_finalized"`
	CPUSeconds       map[string]float64 `json:"cpu_seconds"`
	StageBytes       map[string]uint64  `json:"stage_bytes,omitempty"`
}

// TenantConfig is a tenant's configuration as the admin API reads and
// writes it. Durations are Go duration strings ("1h"); fee caps are attoFIL
// decimal strings ("" = no cap).
type TenantConfig struct {
	ID        string `json:"id"`
	Miner     uint64 `json:"miner"`
	ProofType int64  `json:"proof_type"`
	// SectorSize is derived from ProofType (read only).
	SectorSize uint64   `json:"sector_size,omitempty"`
	Senders    []string `json:"senders"`
	// SigningRoute is "signer" (default: the SP's sealant signer) or
	// "lotus-wallet".
	SigningRoute         string   `json:"signing_route,omitempty"`
	PreCommitBatchSize   int      `json:"precommit_batch_size,omitempty"`
	PreCommitMaxWait     Duration `json:"precommit_max_wait,omitempty"`
	ProveCommitMode      string   `json:"provecommit_mode,omitempty"` // "per-sector" | "aggregate"
	ProveCommitBatchSize int      `json:"provecommit_batch_size,omitempty"`
	ProveCommitMaxWait   Duration `json:"provecommit_max_wait,omitempty"`
	MaxPreCommitFee      string   `json:"max_precommit_fee,omitempty"`
	MaxProveCommitFee    string   `json:"max_provecommit_fee,omitempty"`
	ExpirationDays       int      `json:"expiration_days,omitempty"`
	QuotaPerDay          int      `json:"quota_per_day,omitempty"`
	QuotaConcurrent      int      `json:"quota_concurrent,omitempty"`
	Weight               int      `json:"weight,omitempty"`
	Paused               bool     `json:"paused"`
	DeliveryTarget       string   `json:"delivery_target,omitempty"`
	// SkipChainCheck (on create and update only, never stored) creates
	// the tenant when the chain cannot be asked about its miner; no sector
	// is allocated for it until the chain confirms the miner. A miner the
	// chain does not know is refused either way.
	SkipChainCheck bool      `json:"skip_chain_check,omitempty"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
	UpdatedAt      time.Time `json:"updated_at,omitzero"`
}

// TokenRequest asks for a new API token.
type TokenRequest struct {
	// Role is "admin", "tenant", "worker", "signer" or "metrics".
	Role string `json:"role"`
	// Tenant is required for tenant and signer tokens; on a worker token
	// it confines the worker to that tenant's sectors.
	Tenant string `json:"tenant,omitempty"`
	// Subject names the principal (the worker name for worker tokens).
	Subject string `json:"subject,omitempty"`
	// TTL is the lifetime ("" = no expiry).
	TTL  Duration `json:"ttl,omitempty"`
	Note string   `json:"note,omitempty"`
}

// IssuedToken is a freshly issued token. The token string is shown once;
// the manager keeps only its hash.
type IssuedToken struct {
	ID        string    `json:"id"`
	Token     string    `json:"token"`
	Role      string    `json:"role"`
	Tenant    string    `json:"tenant,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// TokenInfo describes an issued token without its secret.
type TokenInfo struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant,omitempty"`
	Role      string    `json:"role"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Note      string    `json:"note,omitempty"`
}

// WorkerInfo is the last heartbeat of a worker.
type WorkerInfo struct {
	Name     string       `json:"name"`
	Version  string       `json:"version"`
	AdminURL string       `json:"admin_url,omitempty"`
	LastSeen time.Time    `json:"last_seen"`
	Threads  []ThreadInfo `json:"threads"`
	// PendingPause / PendingResume are operator commands not yet
	// delivered with a WorkerPing answer.
	PendingPause  []string `json:"pending_pause,omitempty"`
	PendingResume []string `json:"pending_resume,omitempty"`
}

// Duration is a time.Duration encoded as a Go duration string in JSON.
type Duration time.Duration

// MarshalText encodes d as "1h30m0s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText decodes a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
