package api

import "time"

// Method names of the worker API (SealerAPI) served by the manager on
// /rpc/v0 to worker-scoped tokens. Semantics follow damocles (shared/spec/
// landscape.md §1): every call is safe to repeat; submissions are idempotent
// (a repeat is DuplicateSubmit, a different value MismatchedSubmission).
// Every call for a sector renews that sector's lease.
const (
	MethodAllocateSector     = "Sealant.AllocateSector"     // (AllocateSpec) → *AllocatedSector (nil: no work)
	MethodAcquirePieces      = "Sealant.AcquirePieces"      // (SectorID) → []Piece (empty: CC sector)
	MethodAssignTicket       = "Sealant.AssignTicket"       // (SectorID) → Ticket
	MethodSubmitPreCommit    = "Sealant.SubmitPreCommit"    // (SectorID, PreCommitInfo, reset bool) → SubmitResponse
	MethodPollPreCommitState = "Sealant.PollPreCommitState" // (SectorID) → PollResponse
	MethodWaitSeed           = "Sealant.WaitSeed"           // (SectorID) → WaitSeedResponse
	MethodSubmitProof        = "Sealant.SubmitProof"        // (SectorID, ProofInfo, reset bool) → SubmitResponse
	MethodPollProofState     = "Sealant.PollProofState"     // (SectorID) → PollResponse
	MethodReportState        = "Sealant.ReportState"        // (SectorID, StateReport) → ReportStateResponse
	MethodReportFinalized    = "Sealant.ReportFinalized"    // (SectorID, FinalizedInfo) → struct{}
	MethodReportAborted      = "Sealant.ReportAborted"      // (SectorID, reason string) → struct{}
	MethodWorkerPing         = "Sealant.WorkerPing"         // (WorkerPing) → WorkerPingResponse
)

// AllocateSpec is what a sealing thread accepts. Empty lists mean "any".
type AllocateSpec struct {
	// Worker and Thread identify the sealing thread; a sector whose lease
	// this identity held is offered back to it first (restart case) and
	// never to another identity.
	Worker string `json:"worker"`
	Thread string `json:"thread"`
	// AllowedTenants, AllowedMiners and AllowedProofTypes filter tenants.
	AllowedTenants    []string `json:"allowed_tenants,omitempty"`
	AllowedMiners     []uint64 `json:"allowed_miners,omitempty"`
	AllowedProofTypes []int64  `json:"allowed_proof_types,omitempty"`
}

// AllocatedSector is a sector assigned to a thread.
type AllocatedSector struct {
	ID        SectorID `json:"id"`
	ProofType int64    `json:"proof_type"` // abi.RegisteredSealProof
	Tenant    string   `json:"tenant"`
	// Resumed is true when the manager re-offers a sector this thread
	// identity already held (its local state decides where to resume).
	Resumed bool `json:"resumed"`
	// LeaseExpires is when the lease lapses unless renewed by a call.
	LeaseExpires time.Time `json:"lease_expires"`
	// Devnet says the chain is Sealant's devnet, where a devnet proof (the
	// compact vanilla proofs, see proofs/c2) replaces the Groth16 SNARK.
	Devnet bool `json:"devnet"`
}

// Piece is one piece of a data sector, in sector order.
type Piece struct {
	PieceCID    string `json:"piece_cid"`    // baga… (CommP)
	Size        uint64 `json:"size"`         // padded piece size
	PayloadSize uint64 `json:"payload_size"` // unpadded payload bytes to fetch
	// SourceURL is where the worker fetches the payload (http(s) or file).
	SourceURL string `json:"source_url"`
}

// Ticket is the sealing randomness and the epoch it was drawn at.
type Ticket struct {
	Ticket Hex32 `json:"ticket"`
	Epoch  int64 `json:"epoch"`
}

// PreCommitInfo is what a worker submits after PC2.
type PreCommitInfo struct {
	CommR     string `json:"comm_r"` // sealed CID (bagboea4b5abc…)
	CommD     string `json:"comm_d"` // unsealed CID (baga6ea4seaq…)
	CommC     Hex32  `json:"comm_c"`
	CommRLast Hex32  `json:"comm_r_last"`
	Ticket    Ticket `json:"ticket"`
}

// SubmitResult is the manager's answer to a submission (damocles values).
type SubmitResult int

// Submission results.
const (
	SubmitUnknown     SubmitResult = 0
	SubmitAccepted    SubmitResult = 1
	SubmitDuplicate   SubmitResult = 2 // same as before: treat as accepted
	SubmitMismatched  SubmitResult = 3 // differs from an earlier submission: permanent
	SubmitRejected    SubmitResult = 4 // refused (Desc says why): permanent
	SubmitFilesMissed SubmitResult = 5 // resubmit after fixing files
)

// SubmitResponse answers SubmitPreCommit and SubmitProof.
type SubmitResponse struct {
	Result SubmitResult `json:"result"`
	Desc   string       `json:"desc,omitempty"`
}

// OnChainState is a submission's progress (damocles values).
type OnChainState int

// On-chain states.
const (
	OnChainUnknown     OnChainState = 0
	OnChainPending     OnChainState = 1 // queued in a batch / waiting for signer
	OnChainPacked      OnChainState = 2 // message pushed, not yet landed
	OnChainLanded      OnChainState = 3 // executed successfully
	OnChainNotFound    OnChainState = 4 // manager knows nothing: resubmit
	OnChainFailed      OnChainState = 5 // failed, may be resubmitted
	OnChainPermFailed  OnChainState = 6 // failed for good: abort
	OnChainShouldAbort OnChainState = 7 // e.g. ticket expired: abort and clean up
)

// PollResponse answers PollPreCommitState and PollProofState.
type PollResponse struct {
	State OnChainState `json:"state"`
	Desc  string       `json:"desc,omitempty"`
	// WaitingForSigner is true while the message waits for the tenant's
	// signer (none connected, or it has not answered yet).
	WaitingForSigner bool `json:"waiting_for_signer,omitempty"`
	// MessageCID is the chain message carrying the submission, once known.
	MessageCID string `json:"message_cid,omitempty"`
}

// Seed is the interactive seal randomness.
type Seed struct {
	Seed  Hex32 `json:"seed"`
	Epoch int64 `json:"epoch"`
}

// WaitSeedResponse answers WaitSeed: either wait DelaySeconds and ask again,
// or use Seed.
type WaitSeedResponse struct {
	ShouldWait   bool  `json:"should_wait"`
	DelaySeconds int   `json:"delay_seconds"`
	Seed         *Seed `json:"seed,omitempty"`
}

// ProofInfo carries a sector's ProveCommit proof: Groth16 bytes from a C2
// prover, or on the devnet a devnet proof (see proofs/c2).
type ProofInfo struct {
	Proof HexBytes `json:"proof"`
	// NI carries the commitments and ticket of an NI-PoRep sector (proof
	// types 15–19), which submits no PreCommit: the manager records them
	// with the proof and commits the sector with ProveCommitSectorsNI.
	// Nil for interactive sectors.
	NI *PreCommitInfo `json:"ni,omitempty"`
}

// FailureLevel classifies a reported failure (see worker/sectorfsm).
type FailureLevel string

// Failure levels.
const (
	FailureTemporary FailureLevel = "temporary"
	FailureAbort     FailureLevel = "abort"
	FailurePermanent FailureLevel = "permanent"
)

// Failure describes why a step failed.
type Failure struct {
	Level FailureLevel `json:"level"`
	Desc  string       `json:"desc"`
}

// StateReport is sent after every persisted state change of a sector.
type StateReport struct {
	Worker  string   `json:"worker"`
	Thread  string   `json:"thread"`
	Prev    string   `json:"prev"`
	Next    string   `json:"next"`
	Event   string   `json:"event"`
	Failure *Failure `json:"failure,omitempty"`
	// CPUSeconds is the CPU time the step that produced this event used,
	// by stage name, for usage metering.
	CPUSeconds map[string]float64 `json:"cpu_seconds,omitempty"`
	// Stage is the pipeline stage the sector is now in, for dashboards.
	Stage string `json:"stage,omitempty"`
}

// ReportStateResponse may order the worker to stop working on a sector.
type ReportStateResponse struct {
	// AbortReason is non-empty when the manager wants the sector aborted
	// (tenant deleted, precommit expired, operator abort).
	AbortReason string `json:"abort_reason,omitempty"`
}

// SectorFile is one file of a finalized sector kept for the SP.
type SectorFile struct {
	// Name is the path relative to the sector's location, in lotus layout:
	// "sealed/s-t01000-5", "cache/s-t01000-5/p_aux", ….
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 Hex32  `json:"sha256"`
}

// FinalizedInfo is reported once a sector's layers are dropped and what the
// SP needs is kept.
type FinalizedInfo struct {
	// Location is where the files are reachable for delivery: a local path
	// on the worker's persist store or a URL the manager can read.
	Location string       `json:"location"`
	Files    []SectorFile `json:"files"`
}

// ThreadInfo describes one sealing thread.
type ThreadInfo struct {
	Name    string    `json:"name"`
	State   string    `json:"state"`
	Stage   string    `json:"stage,omitempty"`
	Sector  *SectorID `json:"sector,omitempty"`
	Paused  bool      `json:"paused"`
	Since   time.Time `json:"since"`
	Manager string    `json:"manager,omitempty"`
	Error   string    `json:"error,omitempty"`
}

// WorkerPing is the worker's heartbeat.
type WorkerPing struct {
	Worker  string `json:"worker"`
	Version string `json:"version"`
	// AdminURL is the worker's admin API, which the manager proxies.
	AdminURL string       `json:"admin_url,omitempty"`
	Threads  []ThreadInfo `json:"threads"`
}

// WorkerPingResponse may carry commands for threads.
type WorkerPingResponse struct {
	// Pause and Resume list thread names the operator paused or resumed
	// through the manager.
	Pause  []string `json:"pause,omitempty"`
	Resume []string `json:"resume,omitempty"`
}
