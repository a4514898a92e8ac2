package api

import "context"

// The typed contract. Each interface below is one API of the wire contract
// as Go methods: the manager implements SealerAPI, TenantAPI and AdminAPI,
// the SP's signer implements SignerAPI, and the typed clients of package
// api/rpcapi implement them over package rpc. Both sides assert it at
// compile time (var _ api.SealerAPI = …), and the method tables of
// api/rpcapi bind each method to its wire name once, so a signature that
// drifts on either side no longer compiles. Results of type struct{} are
// methods without a meaningful result (JSON {} on the wire).

// SealerAPI is the worker API: what a sealing thread asks the manager
// (the Method* constants of sealer.go and delivery.go). Every call is safe
// to repeat; each call for a sector renews that sector's lease. Errors the
// caller must tell apart are the registered sentinels of ErrorCodes.
type SealerAPI interface {
	// AllocateSector hands the thread a sector, nil when there is no work.
	AllocateSector(ctx context.Context, spec AllocateSpec) (*AllocatedSector, error)
	// AcquirePieces lists a data sector's pieces (empty: a CC sector).
	AcquirePieces(ctx context.Context, id SectorID) ([]Piece, error)
	// AssignTicket returns the sector's ticket, drawing it on first call.
	AssignTicket(ctx context.Context, id SectorID) (Ticket, error)
	// SubmitPreCommit records the PreCommit; reset replaces an earlier one.
	SubmitPreCommit(ctx context.Context, id SectorID, info PreCommitInfo, reset bool) (SubmitResponse, error)
	// PollPreCommitState reads the PreCommit's on-chain progress.
	PollPreCommitState(ctx context.Context, id SectorID) (PollResponse, error)
	// WaitSeed returns the interactive seed once it can be drawn.
	WaitSeed(ctx context.Context, id SectorID) (WaitSeedResponse, error)
	// SubmitProof records the sector's proof; reset replaces an earlier one.
	SubmitProof(ctx context.Context, id SectorID, info ProofInfo, reset bool) (SubmitResponse, error)
	// PollProofState reads the ProveCommit's on-chain progress.
	PollProofState(ctx context.Context, id SectorID) (PollResponse, error)
	// ReportState records a persisted state change of the sector.
	ReportState(ctx context.Context, id SectorID, r StateReport) (ReportStateResponse, error)
	// ReportFinalized records the files kept for the SP.
	ReportFinalized(ctx context.Context, id SectorID, info FinalizedInfo) (struct{}, error)
	// ReportAborted records that the thread gave the sector up.
	ReportAborted(ctx context.Context, id SectorID, reason string) (struct{}, error)
	// WorkerPing is the worker's heartbeat; the answer may carry commands.
	WorkerPing(ctx context.Context, p WorkerPing) (WorkerPingResponse, error)
	// DeliveryTarget says where the finalized sector goes.
	DeliveryTarget(ctx context.Context, id SectorID) (DeliveryTarget, error)
	// ReportDelivery records the worker's account of its delivery.
	ReportDelivery(ctx context.Context, id SectorID, r DeliveryReport) (DeliveryReportResponse, error)
	// DeliveryStatus reads the delivery's verdict as the manager knows it;
	// it changes nothing (see MethodDeliveryStatus).
	DeliveryStatus(ctx context.Context, id SectorID) (DeliveryReportResponse, error)
}

// TenantAPI is what a tenant token may call (admin tokens too, across
// tenants); see the Method* constants of manager_api.go.
type TenantAPI interface {
	SubmitPieces(ctx context.Context, pieces []PieceSubmission) (SubmitPiecesResponse, error)
	ListSectors(ctx context.Context, req SectorListRequest) ([]SectorInfo, error)
	ShowSector(ctx context.Context, id SectorID) (SectorDetail, error)
	ExportSector(ctx context.Context, id SectorID) (SectorMetadata, error)
	Usage(ctx context.Context, req UsageRequest) ([]TenantUsage, error)
}

// AdminAPI is the operator's API (admin tokens only).
type AdminAPI interface {
	CreateTenant(ctx context.Context, tc TenantConfig) (TenantConfig, error)
	UpdateTenant(ctx context.Context, tc TenantConfig) (TenantConfig, error)
	GetTenant(ctx context.Context, id string) (TenantConfig, error)
	ListTenants(ctx context.Context) ([]TenantConfig, error)
	PauseTenant(ctx context.Context, id string, paused bool) (struct{}, error)
	DeleteTenant(ctx context.Context, id string) (struct{}, error)
	IssueToken(ctx context.Context, req TokenRequest) (IssuedToken, error)
	RevokeToken(ctx context.Context, id string) error
	ListTokens(ctx context.Context, tenant string) ([]TokenInfo, error)
	Workers(ctx context.Context) ([]WorkerInfo, error)
	PauseThread(ctx context.Context, worker, thread string, paused bool) (struct{}, error)
	AbortSector(ctx context.Context, id SectorID, reason string) (struct{}, error)
	ExpiredLeases(ctx context.Context) ([]SectorInfo, error)
	UsageCSV(ctx context.Context, req UsageRequest) (string, error)
}

// SignerAPI is what the manager calls on a connected signer, over the
// connection the signer dialled (MethodSignerProve, MethodSignerSign). A
// refusal is ErrSignRefused with the reason as its message.
type SignerAPI interface {
	ProveAddresses(ctx context.Context, challenge HexBytes) ([]AddressProof, error)
	Sign(ctx context.Context, req SignRequest) (SignResponse, error)
}

// SignerHubAPI is what a signer calls on the manager (MethodSignerHello).
type SignerHubAPI interface {
	SignerHello(ctx context.Context, h SignerHello) (SignerWelcome, error)
}

// SignerAdminAPI is the operator's view of the SPs' signers connected to
// the manager's hub (MethodAdminSigners, admin role): `sealant signer`
// processes and venus-wallets alike, each with the addresses it proved.
type SignerAdminAPI interface {
	ConnectedSigners(ctx context.Context, tenant string) ([]SignerStatus, error)
}
