package rpcapi

import (
	"context"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/rpc"
)

// SignerMethods is the table of methods a signer serves to the manager
// over the connection it dialled (register each with rpc.WithHandler).
func SignerMethods(impl api.SignerAPI) []Method {
	return []Method{
		{Name: api.MethodSignerProve, Handler: rpc.Func1(impl.ProveAddresses)},
		{Name: api.MethodSignerSign, Handler: rpc.Func1(impl.Sign)},
	}
}

// SignerClient is the signer API over a signer's connection, as the
// manager calls it (an *rpc.Peer).
type SignerClient struct{ C Caller }

// ProveAddresses implements api.SignerAPI.
func (s *SignerClient) ProveAddresses(ctx context.Context, challenge api.HexBytes) ([]api.AddressProof, error) {
	return call[[]api.AddressProof](ctx, s.C, api.MethodSignerProve, challenge)
}

// Sign implements api.SignerAPI.
func (s *SignerClient) Sign(ctx context.Context, req api.SignRequest) (api.SignResponse, error) {
	return call[api.SignResponse](ctx, s.C, api.MethodSignerSign, req)
}

// SignerHubMethods is the table of the manager's signer-facing methods.
func SignerHubMethods(impl api.SignerHubAPI) []Method {
	return []Method{
		{Name: api.MethodSignerHello, Handler: rpc.Func1(impl.SignerHello)},
	}
}

// SignerHubClient is the manager's signer-facing API, as a signer calls it.
type SignerHubClient struct{ C Caller }

// SignerHello implements api.SignerHubAPI.
func (s *SignerHubClient) SignerHello(ctx context.Context, h api.SignerHello) (api.SignerWelcome, error) {
	return call[api.SignerWelcome](ctx, s.C, api.MethodSignerHello, h)
}

var (
	_ api.SignerAPI    = (*SignerClient)(nil)
	_ api.SignerHubAPI = (*SignerHubClient)(nil)
)

var _ api.SignerAdminAPI = (*SignerAdminClient)(nil)

// SignerAdminMethods is the server table of api.SignerAdminAPI.
func SignerAdminMethods(impl api.SignerAdminAPI) []Method {
	return []Method{
		{Name: api.MethodAdminSigners, Handler: rpc.Func1(impl.ConnectedSigners)},
	}
}

// SignerAdminClient is the hub's admin API, as `sealant admin signers`
// calls it.
type SignerAdminClient struct{ C Caller }

// ConnectedSigners implements api.SignerAdminAPI; tenant "" lists every tenant's.
func (s *SignerAdminClient) ConnectedSigners(ctx context.Context, tenant string) ([]api.SignerStatus, error) {
	return call[[]api.SignerStatus](ctx, s.C, api.MethodAdminSigners, tenant)
}
