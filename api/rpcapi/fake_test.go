package rpcapi

import (
	"context"
	"sync"

	"github.com/sealant/sealant/api"
)

// recorder implements every interface of the contract: each method records
// its own Go name and answers with the zero value, or with err when set.
// A test calls a client method and checks that the same method ran on the
// server side, which proves the client, the wire name and the table agree.
type recorder struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (r *recorder) hit(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, name)
	return r.err
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func (r *recorder) AllocateSector(context.Context, api.AllocateSpec) (*api.AllocatedSector, error) {
	return nil, r.hit("AllocateSector")
}
func (r *recorder) AcquirePieces(context.Context, api.SectorID) ([]api.Piece, error) {
	return nil, r.hit("AcquirePieces")
}
func (r *recorder) AssignTicket(context.Context, api.SectorID) (api.Ticket, error) {
	return api.Ticket{}, r.hit("AssignTicket")
}
func (r *recorder) SubmitPreCommit(context.Context, api.SectorID, api.PreCommitInfo, bool) (api.SubmitResponse, error) {
	return api.SubmitResponse{}, r.hit("SubmitPreCommit")
}
func (r *recorder) PollPreCommitState(context.Context, api.SectorID) (api.PollResponse, error) {
	return api.PollResponse{}, r.hit("PollPreCommitState")
}
func (r *recorder) WaitSeed(context.Context, api.SectorID) (api.WaitSeedResponse, error) {
	return api.WaitSeedResponse{}, r.hit("WaitSeed")
}
func (r *recorder) SubmitProof(context.Context, api.SectorID, api.ProofInfo, bool) (api.SubmitResponse, error) {
	return api.SubmitResponse{}, r.hit("SubmitProof")
}
func (r *recorder) PollProofState(context.Context, api.SectorID) (api.PollResponse, error) {
	return api.PollResponse{}, r.hit("PollProofState")
}
func (r *recorder) ReportState(context.Context, api.SectorID, api.StateReport) (api.ReportStateResponse, error) {
	return api.ReportStateResponse{}, r.hit("ReportState")
}
func (r *recorder) ReportFinalized(context.Context, api.SectorID, api.FinalizedInfo) (struct{}, error) {
	return struct{}{}, r.hit("ReportFinalized")
}
func (r *recorder) ReportAborted(context.Context, api.SectorID, string) (struct{}, error) {
	return struct{}{}, r.hit("ReportAborted")
}
func (r *recorder) WorkerPing(context.Context, api.WorkerPing) (api.WorkerPingResponse, error) {
	return api.WorkerPingResponse{}, r.hit("WorkerPing")
}
func (r *recorder) DeliveryTarget(context.Context, api.SectorID) (api.DeliveryTarget, error) {
	return api.DeliveryTarget{}, r.hit("DeliveryTarget")
}
func (r *recorder) ReportDelivery(context.Context, api.SectorID, api.DeliveryReport) (api.DeliveryReportResponse, error) {
	return api.DeliveryReportResponse{}, r.hit("ReportDelivery")
}
func (r *recorder) DeliveryStatus(context.Context, api.SectorID) (api.DeliveryReportResponse, error) {
	return api.DeliveryReportResponse{}, r.hit("DeliveryStatus")
}

func (r *recorder) SubmitPieces(context.Context, []api.PieceSubmission) (api.SubmitPiecesResponse, error) {
	return api.SubmitPiecesResponse{}, r.hit("SubmitPieces")
}
func (r *recorder) ListSectors(context.Context, api.SectorListRequest) ([]api.SectorInfo, error) {
	return nil, r.hit("ListSectors")
}
func (r *recorder) ShowSector(context.Context, api.SectorID) (api.SectorDetail, error) {
	return api.SectorDetail{}, r.hit("ShowSector")
}
func (r *recorder) ExportSector(context.Context, api.SectorID) (api.SectorMetadata, error) {
	return api.SectorMetadata{}, r.hit("ExportSector")
}
func (r *recorder) Usage(context.Context, api.UsageRequest) ([]api.TenantUsage, error) {
	return nil, r.hit("Usage")
}

func (r *recorder) CreateTenant(context.Context, api.TenantConfig) (api.TenantConfig, error) {
	return api.TenantConfig{}, r.hit("CreateTenant")
}
func (r *recorder) UpdateTenant(context.Context, api.TenantConfig) (api.TenantConfig, error) {
	return api.TenantConfig{}, r.hit("UpdateTenant")
}
func (r *recorder) GetTenant(context.Context, string) (api.TenantConfig, error) {
	return api.TenantConfig{}, r.hit("GetTenant")
}
func (r *recorder) ListTenants(context.Context) ([]api.TenantConfig, error) {
	return nil, r.hit("ListTenants")
}
func (r *recorder) PauseTenant(context.Context, string, bool) (struct{}, error) {
	return struct{}{}, r.hit("PauseTenant")
}
func (r *recorder) DeleteTenant(context.Context, string) (struct{}, error) {
	return struct{}{}, r.hit("DeleteTenant")
}
func (r *recorder) IssueToken(context.Context, api.TokenRequest) (api.IssuedToken, error) {
	return api.IssuedToken{}, r.hit("IssueToken")
}
func (r *recorder) RevokeToken(context.Context, string) error { return r.hit("RevokeToken") }
func (r *recorder) ListTokens(context.Context, string) ([]api.TokenInfo, error) {
	return nil, r.hit("ListTokens")
}
func (r *recorder) Workers(context.Context) ([]api.WorkerInfo, error) { return nil, r.hit("Workers") }
func (r *recorder) PauseThread(context.Context, string, string, bool) (struct{}, error) {
	return struct{}{}, r.hit("PauseThread")
}
func (r *recorder) AbortSector(context.Context, api.SectorID, string) (struct{}, error) {
	return struct{}{}, r.hit("AbortSector")
}
func (r *recorder) ExpiredLeases(context.Context) ([]api.SectorInfo, error) {
	return nil, r.hit("ExpiredLeases")
}
func (r *recorder) UsageCSV(context.Context, api.UsageRequest) (string, error) {
	return "", r.hit("UsageCSV")
}

func (r *recorder) ProveAddresses(context.Context, api.HexBytes) ([]api.AddressProof, error) {
	return nil, r.hit("ProveAddresses")
}
func (r *recorder) Sign(context.Context, api.SignRequest) (api.SignResponse, error) {
	return api.SignResponse{}, r.hit("Sign")
}
func (r *recorder) SignerHello(context.Context, api.SignerHello) (api.SignerWelcome, error) {
	return api.SignerWelcome{}, r.hit("SignerHello")
}

var (
	_ api.SealerAPI    = (*recorder)(nil)
	_ api.TenantAPI    = (*recorder)(nil)
	_ api.AdminAPI     = (*recorder)(nil)
	_ api.SignerAPI    = (*recorder)(nil)
	_ api.SignerHubAPI = (*recorder)(nil)
)
