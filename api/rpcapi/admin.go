package rpcapi

import (
	"context"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/rpc"
)

// AdminMethods is the admin API's method table for a server serving impl.
func AdminMethods(impl api.AdminAPI) []Method {
	return []Method{
		{Name: api.MethodAdminTenantCreate, Handler: rpc.Func1(impl.CreateTenant)},
		{Name: api.MethodAdminTenantUpdate, Handler: rpc.Func1(impl.UpdateTenant)},
		{Name: api.MethodAdminTenantGet, Handler: rpc.Func1(impl.GetTenant)},
		{Name: api.MethodAdminTenantList, Handler: rpc.Func0(impl.ListTenants)},
		{Name: api.MethodAdminTenantPause, Handler: rpc.Func2(impl.PauseTenant)},
		{Name: api.MethodAdminTenantDelete, Handler: rpc.Func1(impl.DeleteTenant)},
		{Name: api.MethodAdminTokenIssue, Handler: rpc.Func1(impl.IssueToken)},
		{Name: api.MethodAdminTokenRevoke, Handler: rpc.Proc1(impl.RevokeToken)},
		{Name: api.MethodAdminTokenList, Handler: rpc.Func1(impl.ListTokens)},
		{Name: api.MethodAdminWorkers, Handler: rpc.Func0(impl.Workers)},
		{Name: api.MethodAdminThreadPause, Handler: rpc.Func3(impl.PauseThread)},
		{Name: api.MethodAdminSectorAbort, Handler: rpc.Func2(impl.AbortSector)},
		{Name: api.MethodAdminExpired, Handler: rpc.Func0(impl.ExpiredLeases)},
		{Name: api.MethodAdminUsageCSV, Handler: rpc.Func1(impl.UsageCSV)},
	}
}

// AdminClient is the admin API over a connection to the manager.
type AdminClient struct{ C Caller }

// CreateTenant implements api.AdminAPI.
func (a *AdminClient) CreateTenant(ctx context.Context, tc api.TenantConfig) (api.TenantConfig, error) {
	return call[api.TenantConfig](ctx, a.C, api.MethodAdminTenantCreate, tc)
}

// UpdateTenant implements api.AdminAPI.
func (a *AdminClient) UpdateTenant(ctx context.Context, tc api.TenantConfig) (api.TenantConfig, error) {
	return call[api.TenantConfig](ctx, a.C, api.MethodAdminTenantUpdate, tc)
}

// GetTenant implements api.AdminAPI.
func (a *AdminClient) GetTenant(ctx context.Context, id string) (api.TenantConfig, error) {
	return call[api.TenantConfig](ctx, a.C, api.MethodAdminTenantGet, id)
}

// ListTenants implements api.AdminAPI.
func (a *AdminClient) ListTenants(ctx context.Context) ([]api.TenantConfig, error) {
	return call[[]api.TenantConfig](ctx, a.C, api.MethodAdminTenantList)
}

// PauseTenant implements api.AdminAPI.
func (a *AdminClient) PauseTenant(ctx context.Context, id string, paused bool) (struct{}, error) {
	return call[struct{}](ctx, a.C, api.MethodAdminTenantPause, id, paused)
}

// DeleteTenant implements api.AdminAPI.
func (a *AdminClient) DeleteTenant(ctx context.Context, id string) (struct{}, error) {
	return call[struct{}](ctx, a.C, api.MethodAdminTenantDelete, id)
}

// IssueToken implements api.AdminAPI.
func (a *AdminClient) IssueToken(ctx context.Context, req api.TokenRequest) (api.IssuedToken, error) {
	return call[api.IssuedToken](ctx, a.C, api.MethodAdminTokenIssue, req)
}

// RevokeToken implements api.AdminAPI.
func (a *AdminClient) RevokeToken(ctx context.Context, id string) error {
	return a.C.Call(ctx, api.MethodAdminTokenRevoke, nil, id)
}

// ListTokens implements api.AdminAPI.
func (a *AdminClient) ListTokens(ctx context.Context, tenant string) ([]api.TokenInfo, error) {
	return call[[]api.TokenInfo](ctx, a.C, api.MethodAdminTokenList, tenant)
}

// Workers implements api.AdminAPI.
func (a *AdminClient) Workers(ctx context.Context) ([]api.WorkerInfo, error) {
	return call[[]api.WorkerInfo](ctx, a.C, api.MethodAdminWorkers)
}

// PauseThread implements api.AdminAPI.
func (a *AdminClient) PauseThread(ctx context.Context, worker, thread string, paused bool) (struct{}, error) {
	return call[struct{}](ctx, a.C, api.MethodAdminThreadPause, worker, thread, paused)
}

// AbortSector implements api.AdminAPI.
func (a *AdminClient) AbortSector(ctx context.Context, id api.SectorID, reason string) (struct{}, error) {
	return call[struct{}](ctx, a.C, api.MethodAdminSectorAbort, id, reason)
}

// ExpiredLeases implements api.AdminAPI.
func (a *AdminClient) ExpiredLeases(ctx context.Context) ([]api.SectorInfo, error) {
	return call[[]api.SectorInfo](ctx, a.C, api.MethodAdminExpired)
}

// UsageCSV implements api.AdminAPI.
func (a *AdminClient) UsageCSV(ctx context.Context, req api.UsageRequest) (string, error) {
	return call[string](ctx, a.C, api.MethodAdminUsageCSV, req)
}

var _ api.AdminAPI = (*AdminClient)(nil)
