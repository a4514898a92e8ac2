package rpcapi

import (
	"context"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/rpc"
)

// TenantMethods is the tenant API's method table for a server serving impl.
func TenantMethods(impl api.TenantAPI) []Method {
	return []Method{
		{Name: api.MethodSubmitPieces, Handler: rpc.Func1(impl.SubmitPieces)},
		{Name: api.MethodListSectors, Handler: rpc.Func1(impl.ListSectors)},
		{Name: api.MethodShowSector, Handler: rpc.Func1(impl.ShowSector)},
		{Name: api.MethodExportSector, Handler: rpc.Func1(impl.ExportSector)},
		{Name: api.MethodTenantUsage, Handler: rpc.Func1(impl.Usage)},
	}
}

// TenantClient is the tenant API over a connection to the manager.
type TenantClient struct{ C Caller }

// SubmitPieces implements api.TenantAPI.
func (t *TenantClient) SubmitPieces(ctx context.Context, pieces []api.PieceSubmission) (api.SubmitPiecesResponse, error) {
	return call[api.SubmitPiecesResponse](ctx, t.C, api.MethodSubmitPieces, pieces)
}

// ListSectors implements api.TenantAPI.
func (t *TenantClient) ListSectors(ctx context.Context, req api.SectorListRequest) ([]api.SectorInfo, error) {
	return call[[]api.SectorInfo](ctx, t.C, api.MethodListSectors, req)
}

// ShowSector implements api.TenantAPI.
func (t *TenantClient) ShowSector(ctx context.Context, id api.SectorID) (api.SectorDetail, error) {
	return call[api.SectorDetail](ctx, t.C, api.MethodShowSector, id)
}

// ExportSector implements api.TenantAPI.
func (t *TenantClient) ExportSector(ctx context.Context, id api.SectorID) (api.SectorMetadata, error) {
	return call[api.SectorMetadata](ctx, t.C, api.MethodExportSector, id)
}

// Usage implements api.TenantAPI.
func (t *TenantClient) Usage(ctx context.Context, req api.UsageRequest) ([]api.TenantUsage, error) {
	return call[[]api.TenantUsage](ctx, t.C, api.MethodTenantUsage, req)
}

var _ api.TenantAPI = (*TenantClient)(nil)
