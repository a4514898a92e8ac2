package rpcapi

import (
	"context"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/rpc"
)

// SealerMethods is the worker API's method table for a server serving impl.
func SealerMethods(impl api.SealerAPI) []Method {
	return []Method{
		{Name: api.MethodAllocateSector, Handler: rpc.Func1(impl.AllocateSector)},
		{Name: api.MethodAcquirePieces, Handler: rpc.Func1(impl.AcquirePieces)},
		{Name: api.MethodAssignTicket, Handler: rpc.Func1(impl.AssignTicket)},
		{Name: api.MethodSubmitPreCommit, Handler: rpc.Func3(impl.SubmitPreCommit)},
		{Name: api.MethodPollPreCommitState, Handler: rpc.Func1(impl.PollPreCommitState)},
		{Name: api.MethodWaitSeed, Handler: rpc.Func1(impl.WaitSeed)},
		{Name: api.MethodSubmitProof, Handler: rpc.Func3(impl.SubmitProof)},
		{Name: api.MethodPollProofState, Handler: rpc.Func1(impl.PollProofState)},
		{Name: api.MethodReportState, Handler: rpc.Func2(impl.ReportState)},
		{Name: api.MethodReportFinalized, Handler: rpc.Func2(impl.ReportFinalized)},
		{Name: api.MethodReportAborted, Handler: rpc.Func2(impl.ReportAborted)},
		{Name: api.MethodWorkerPing, Handler: rpc.Func1(impl.WorkerPing)},
		{Name: api.MethodDeliveryTarget, Handler: rpc.Func1(impl.DeliveryTarget)},
		{Name: api.MethodReportDelivery, Handler: rpc.Func2(impl.ReportDelivery)},
		{Name: api.MethodDeliveryStatus, Handler: rpc.Func1(impl.DeliveryStatus)},
	}
}

// SealerClient is the worker API over a connection to the manager. Dial
// the connection with rpc.WithErrorRegistry(Errors) so that the manager's
// sentinels come back as themselves.
type SealerClient struct{ C Caller }

// NewSealerClient returns the worker API over c.
func NewSealerClient(c Caller) *SealerClient { return &SealerClient{C: c} }

// AllocateSector implements api.SealerAPI.
func (s *SealerClient) AllocateSector(ctx context.Context, spec api.AllocateSpec) (*api.AllocatedSector, error) {
	return call[*api.AllocatedSector](ctx, s.C, api.MethodAllocateSector, spec)
}

// AcquirePieces implements api.SealerAPI.
func (s *SealerClient) AcquirePieces(ctx context.Context, id api.SectorID) ([]api.Piece, error) {
	return call[[]api.Piece](ctx, s.C, api.MethodAcquirePieces, id)
}

// AssignTicket implements api.SealerAPI.
func (s *SealerClient) AssignTicket(ctx context.Context, id api.SectorID) (api.Ticket, error) {
	return call[api.Ticket](ctx, s.C, api.MethodAssignTicket, id)
}

// SubmitPreCommit implements api.SealerAPI.
func (s *SealerClient) SubmitPreCommit(ctx context.Context, id api.SectorID, info api.PreCommitInfo, reset bool) (api.SubmitResponse, error) {
	return call[api.SubmitResponse](ctx, s.C, api.MethodSubmitPreCommit, id, info, reset)
}

// PollPreCommitState implements api.SealerAPI.
func (s *SealerClient) PollPreCommitState(ctx context.Context, id api.SectorID) (api.PollResponse, error) {
	return call[api.PollResponse](ctx, s.C, api.MethodPollPreCommitState, id)
}

// WaitSeed implements api.SealerAPI.
func (s *SealerClient) WaitSeed(ctx context.Context, id api.SectorID) (api.WaitSeedResponse, error) {
	return call[api.WaitSeedResponse](ctx, s.C, api.MethodWaitSeed, id)
}

// SubmitProof implements api.SealerAPI.
func (s *SealerClient) SubmitProof(ctx context.Context, id api.SectorID, info api.ProofInfo, reset bool) (api.SubmitResponse, error) {
	return call[api.SubmitResponse](ctx, s.C, api.MethodSubmitProof, id, info, reset)
}

// PollProofState implements api.SealerAPI.
func (s *SealerClient) PollProofState(ctx context.Context, id api.SectorID) (api.PollResponse, error) {
	return call[api.PollResponse](ctx, s.C, api.MethodPollProofState, id)
}

// ReportState implements api.SealerAPI.
func (s *SealerClient) ReportState(ctx context.Context, id api.SectorID, r api.StateReport) (api.ReportStateResponse, error) {
	return call[api.ReportStateResponse](ctx, s.C, api.MethodReportState, id, r)
}

// ReportFinalized implements api.SealerAPI.
func (s *SealerClient) ReportFinalized(ctx context.Context, id api.SectorID, info api.FinalizedInfo) (struct{}, error) {
	return call[struct{}](ctx, s.C, api.MethodReportFinalized, id, info)
}

// ReportAborted implements api.SealerAPI.
func (s *SealerClient) ReportAborted(ctx context.Context, id api.SectorID, reason string) (struct{}, error) {
	return call[struct{}](ctx, s.C, api.MethodReportAborted, id, reason)
}

// WorkerPing implements api.SealerAPI.
func (s *SealerClient) WorkerPing(ctx context.Context, p api.WorkerPing) (api.WorkerPingResponse, error) {
	return call[api.WorkerPingResponse](ctx, s.C, api.MethodWorkerPing, p)
}

// DeliveryTarget implements api.SealerAPI.
func (s *SealerClient) DeliveryTarget(ctx context.Context, id api.SectorID) (api.DeliveryTarget, error) {
	return call[api.DeliveryTarget](ctx, s.C, api.MethodDeliveryTarget, id)
}

// ReportDelivery implements api.SealerAPI.
func (s *SealerClient) ReportDelivery(ctx context.Context, id api.SectorID, r api.DeliveryReport) (api.DeliveryReportResponse, error) {
	return call[api.DeliveryReportResponse](ctx, s.C, api.MethodReportDelivery, id, r)
}

// DeliveryStatus implements api.SealerAPI.
func (s *SealerClient) DeliveryStatus(ctx context.Context, id api.SectorID) (api.DeliveryReportResponse, error) {
	return call[api.DeliveryReportResponse](ctx, s.C, api.MethodDeliveryStatus, id)
}

var _ api.SealerAPI = (*SealerClient)(nil)
