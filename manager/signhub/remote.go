package signhub

import (
	"context"
	"fmt"
	"sort"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/api/rpcapi"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/rpc"
)

// Remote is a signer connection that speaks another protocol than
// `sealant signer`'s, adapted by its own package (manager/walletgw adapts
// a venus-wallet's gateway connection). Once attached it is routed to
// exactly like a `sealant signer`: the hub calls
//
//	Call(ctx, api.MethodSignerSign, *api.SignResponse, api.SignRequest)
//
// and expects a policy refusal as an *rpc.Error with code
// api.CodeSignRefused (its message is the signer's reason), and a
// connection lost before an answer as an error wrapping rpc.ErrConnClosed
// (the request then goes to the next signer, or to this one after it
// reconnects). Done is closed when the connection is gone; the hub then
// forgets it. The hub verifies every signature a Remote returns.
type Remote interface {
	Call(ctx context.Context, method string, result any, params ...any) error
	Done() <-chan struct{}
	RemoteAddr() string
}

// Authorize checks that tenant may have signers connected (Config.Tenant)
// and returns its miner actor id. A Remote's adapter calls it before
// proving addresses, as SignerHello does.
func (h *Hub) Authorize(ctx context.Context, tenant string) (uint64, error) {
	if tenant == "" {
		return 0, fmt.Errorf("%w: signer token has no tenant", rpc.ErrPermissionDenied)
	}
	if h.cfg.Tenant == nil {
		return 0, nil
	}
	return h.cfg.Tenant(ctx, tenant)
}

// AttachRemote registers r as a signer of tenant holding addrs, which the
// caller has proven r holds (key addresses only; others are ignored).
// info describes r (Kind, Name, Version, Unproven); the hub fills ID,
// Tenant, Addresses, Remote and ConnectedAt. The registration ends when
// r.Done() is closed. Attaching the same r again replaces its
// registration.
func (h *Hub) AttachRemote(tenant string, r Remote, info SignerInfo, addrs []address.Address) {
	info.Tenant = tenant
	info.Remote = r.RemoteAddr()
	info.ConnectedAt = h.cfg.Now()
	set := keyAddrSet(addrs)
	info.Addresses = addrStrings(set)
	h.attach(tenant, r, info, set)
}

// SetAddresses replaces the proven addresses of an attached Remote (a
// wallet added a key and proved it, or removed one). It reports whether r
// is attached to tenant. Requests waiting for a signer holding a newly
// added address are routed to r at once.
func (h *Hub) SetAddresses(tenant string, r Remote, addrs []address.Address) bool {
	set := keyAddrSet(addrs)
	h.mu.Lock()
	defer h.mu.Unlock()
	ts := h.tenants[tenant]
	if ts == nil {
		return false
	}
	c := ts.conns[r]
	if c == nil {
		return false
	}
	c.addrs = set
	c.info.Addresses = addrStrings(set)
	h.broadcastLocked()
	return true
}

// keyAddrSet keeps the f1/f3 addresses of addrs.
func keyAddrSet(addrs []address.Address) map[address.Address]bool {
	set := make(map[address.Address]bool, len(addrs))
	for _, a := range addrs {
		if p := a.Protocol(); !a.Empty() && (p == address.SECP256K1 || p == address.BLS) {
			set[a] = true
		}
	}
	return set
}

func addrStrings(set map[address.Address]bool) []string {
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a.String())
	}
	sort.Strings(out)
	return out
}

// AllSigners lists the connected signers of every tenant (of tenant only,
// when it is not ""), by tenant and then oldest first.
func (h *Hub) AllSigners(tenant string) []SignerInfo {
	if tenant != "" {
		return append([]SignerInfo{}, h.Signers(tenant)...)
	}
	h.mu.Lock()
	names := make([]string, 0, len(h.tenants))
	for t := range h.tenants {
		names = append(names, t)
	}
	h.mu.Unlock()
	sort.Strings(names)
	out := []SignerInfo{}
	for _, t := range names {
		out = append(out, h.Signers(t)...)
	}
	return out
}

// registerAdmin adds api.SignerAdminAPI (admin role) to srv.
func (h *Hub) registerAdmin(srv *rpc.Server) {
	for _, m := range rpcapi.SignerAdminMethods(h) {
		srv.Register(m.Name, rpc.PermAdmin, rpc.RequireRole(m.Handler, rpc.RoleAdmin))
	}
}

// ConnectedSigners implements api.SignerAdminAPI: the signers connected for tenant,
// or for every tenant when it is "".
func (h *Hub) ConnectedSigners(_ context.Context, tenant string) ([]api.SignerStatus, error) {
	return h.AllSigners(tenant), nil
}

var _ api.SignerAdminAPI = (*Hub)(nil)
