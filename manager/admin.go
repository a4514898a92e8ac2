package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/api/rpcapi"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/store"
)

// The admin API. Handlers are registered for admin tokens only (see
// Register); they do not re-check the role.

// toStoreTenant converts the wire form, validating what the store does not.
func toStoreTenant(tc api.TenantConfig) (store.Tenant, error) {
	if !abi.RegisteredSealProof(tc.ProofType).Valid() {
		return store.Tenant{}, fmt.Errorf("%w: proof type %d", ErrInvalid, tc.ProofType)
	}
	for _, a := range tc.Senders {
		if _, err := address.Parse(a); err != nil {
			return store.Tenant{}, fmt.Errorf("%w: sender %q: %v", ErrInvalid, a, err)
		}
	}
	for _, fee := range []string{tc.MaxPreCommitFee, tc.MaxProveCommitFee} {
		if fee == "" {
			continue
		}
		if v, err := types.ParseBigInt(fee); err != nil || v.Sign() < 0 {
			return store.Tenant{}, fmt.Errorf("%w: fee cap %q: want a non-negative attoFIL integer", ErrInvalid, fee)
		}
	}
	route := store.SigningRoute(tc.SigningRoute)
	switch route {
	case "":
		route = store.SignerRoute
	case store.SignerRoute, store.LotusWalletRoute:
	default:
		return store.Tenant{}, fmt.Errorf("%w: signing route %q: want signer or lotus-wallet", ErrInvalid, tc.SigningRoute)
	}
	mode := store.ProveMode(tc.ProveCommitMode)
	switch mode {
	case "":
		mode = store.ProvePerSector
	case store.ProvePerSector, store.ProveAggregate:
	default:
		return store.Tenant{}, fmt.Errorf("%w: provecommit mode %q: want per-sector or aggregate", ErrInvalid, tc.ProveCommitMode)
	}
	if tc.QuotaPerDay < 0 || tc.QuotaConcurrent < 0 || tc.Weight < 0 || tc.ExpirationDays < 0 ||
		tc.PreCommitBatchSize < 0 || tc.ProveCommitBatchSize < 0 || tc.PreCommitMaxWait < 0 || tc.ProveCommitMaxWait < 0 {
		return store.Tenant{}, fmt.Errorf("%w: negative quota, weight, batch size, wait or expiration", ErrInvalid)
	}
	if err := checkTenantBounds(tc); err != nil {
		return store.Tenant{}, err
	}
	t := store.Tenant{
		ID: tc.ID, Miner: tc.Miner, ProofType: abi.RegisteredSealProof(tc.ProofType), Senders: tc.Senders,
		SigningRoute: route,
		Batching: store.Batching{
			PreCommitBatchSize: max(tc.PreCommitBatchSize, 1), PreCommitMaxWait: time.Duration(tc.PreCommitMaxWait),
			ProveCommitMode: mode, ProveCommitBatchSize: max(tc.ProveCommitBatchSize, 1), ProveCommitMaxWait: time.Duration(tc.ProveCommitMaxWait),
		},
		Fees:           store.Fees{MaxPreCommitFee: tc.MaxPreCommitFee, MaxProveCommitFee: tc.MaxProveCommitFee},
		ExpirationDays: tc.ExpirationDays,
		Quota:          store.Quota{SectorsPerDay: tc.QuotaPerDay, Concurrent: tc.QuotaConcurrent},
		Weight:         max(tc.Weight, 1),
		Paused:         tc.Paused,
		DeliveryTarget: tc.DeliveryTarget,
	}
	if t.ExpirationDays == 0 {
		t.ExpirationDays = 540
	}
	if t.Senders == nil {
		t.Senders = []string{}
	}
	return t, nil
}

// Tenant bounds, from the chain's own limits (Lotus/builtin-actors).
const (
	// firstMinerID: IDs below 100 are the builtin singleton actors
	// (system f00, init f01, power f04, …); no miner has one.
	firstMinerID = 100
	// minExpirationDays and maxExpirationDays: MinSectorExpiration (180
	// days) and MaxSectorExpirationExtension (1278 days).
	minExpirationDays = 180
	maxExpirationDays = 1278
	// maxPreCommitBatch is PreCommitSectorBatchMaxSize; maxProveBatch is
	// MaxAggregatedSectors.
	maxPreCommitBatch = 256
	maxProveBatch     = 819
)

// checkTenantBounds refuses values the chain would refuse later (or that
// make no sense), so a typo fails at creation and not at the first commit.
func checkTenantBounds(tc api.TenantConfig) error {
	if tc.Miner < firstMinerID {
		return fmt.Errorf("%w: miner %d: IDs below %d are builtin actors, not miners", ErrInvalid, tc.Miner, firstMinerID)
	}
	if tc.ExpirationDays != 0 && (tc.ExpirationDays < minExpirationDays || tc.ExpirationDays > maxExpirationDays) {
		return fmt.Errorf("%w: expiration_days %d: want %d to %d", ErrInvalid, tc.ExpirationDays, minExpirationDays, maxExpirationDays)
	}
	if tc.PreCommitBatchSize > maxPreCommitBatch {
		return fmt.Errorf("%w: precommit_batch_size %d: at most %d (PreCommitSectorBatch)", ErrInvalid, tc.PreCommitBatchSize, maxPreCommitBatch)
	}
	if tc.ProveCommitBatchSize > maxProveBatch {
		return fmt.Errorf("%w: provecommit_batch_size %d: at most %d (ProveCommitAggregate)", ErrInvalid, tc.ProveCommitBatchSize, maxProveBatch)
	}
	const maxWait = api.Duration(30 * 24 * time.Hour)
	if tc.PreCommitMaxWait > maxWait || tc.ProveCommitMaxWait > maxWait {
		return fmt.Errorf("%w: batch wait over 30 days", ErrInvalid)
	}
	if tc.DeliveryTarget != "" {
		u, err := url.Parse(tc.DeliveryTarget)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: delivery_target %q: want an http:// or https:// receiver URL", ErrInvalid, redactURL(tc.DeliveryTarget))
		}
	}
	return nil
}

// redactURL drops a #token=… fragment before a URL is put in an error.
func redactURL(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i] + "#…"
	}
	return s
}

func toAPITenant(t store.Tenant) api.TenantConfig {
	return api.TenantConfig{
		ID: t.ID, Miner: t.Miner, ProofType: int64(t.ProofType), SectorSize: t.SectorSize, Senders: t.Senders,
		SigningRoute:       string(t.SigningRoute),
		PreCommitBatchSize: t.Batching.PreCommitBatchSize, PreCommitMaxWait: api.Duration(t.Batching.PreCommitMaxWait),
		ProveCommitMode: string(t.Batching.ProveCommitMode), ProveCommitBatchSize: t.Batching.ProveCommitBatchSize,
		ProveCommitMaxWait: api.Duration(t.Batching.ProveCommitMaxWait),
		MaxPreCommitFee:    t.Fees.MaxPreCommitFee, MaxProveCommitFee: t.Fees.MaxProveCommitFee,
		ExpirationDays: t.ExpirationDays, QuotaPerDay: t.Quota.SectorsPerDay, QuotaConcurrent: t.Quota.Concurrent,
		Weight: t.Weight, Paused: t.Paused, DeliveryTarget: t.DeliveryTarget, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
	}
}

// CreateTenant adds a tenant. With a chain, its miner must exist and its
// senders be the miner's owner, worker or control addresses (see
// checkNewTenant for an unreachable chain). Its miner's sector-number counter is moved
// past the numbers the chain already has (when a chain is configured), so
// the first allocation does not collide with sectors sealed elsewhere.
func (s *Service) CreateTenant(ctx context.Context, tc api.TenantConfig) (api.TenantConfig, error) {
	t, err := toStoreTenant(tc)
	if err != nil {
		return api.TenantConfig{}, err
	}
	if err := s.checkNewTenant(ctx, tc); err != nil {
		return api.TenantConfig{}, err
	}
	out, err := s.st.CreateTenant(ctx, t, s.now())
	if err != nil {
		return api.TenantConfig{}, mapStoreErr(err)
	}
	if s.chain != nil {
		next, err := s.st.NextSectorNumber(ctx, t.Miner)
		if err == nil {
			if _, err := s.numberFree(ctx, store.SectorID{Miner: t.Miner, Number: next}); err != nil {
				s.log.Warn("could not cross-check sector numbers with chain", "miner", t.Miner, "err", err)
			}
		}
	}
	s.log.Info("tenant created", "tenant", out.ID, "miner", out.Miner)
	return toAPITenant(out), nil
}

// UpdateTenant replaces a tenant's mutable settings.
func (s *Service) UpdateTenant(ctx context.Context, tc api.TenantConfig) (api.TenantConfig, error) {
	t, err := toStoreTenant(tc)
	if err != nil {
		return api.TenantConfig{}, err
	}
	if err := s.checkNewTenant(ctx, tc); err != nil {
		return api.TenantConfig{}, err
	}
	out, err := s.st.UpdateTenant(ctx, t, s.now())
	if err != nil {
		return api.TenantConfig{}, mapStoreErr(err)
	}
	return toAPITenant(out), nil
}

// GetTenant returns one tenant.
func (s *Service) GetTenant(ctx context.Context, id string) (api.TenantConfig, error) {
	t, err := s.st.GetTenant(ctx, id)
	if err != nil {
		return api.TenantConfig{}, mapStoreErr(err)
	}
	return toAPITenant(t), nil
}

// ListTenants returns all tenants by id.
func (s *Service) ListTenants(ctx context.Context) ([]api.TenantConfig, error) {
	ts, err := s.st.ListTenants(ctx)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	out := make([]api.TenantConfig, len(ts))
	for i, t := range ts {
		out[i] = toAPITenant(t)
	}
	return out, nil
}

// PauseTenant pauses (or resumes) allocations for a tenant; its sectors in
// flight continue.
func (s *Service) PauseTenant(ctx context.Context, id string, paused bool) (struct{}, error) {
	if err := s.st.SetTenantPaused(ctx, id, paused, s.now()); err != nil {
		return struct{}{}, mapStoreErr(err)
	}
	s.log.Info("tenant paused", "tenant", id, "paused", paused)
	return struct{}{}, nil
}

// DeleteTenant deletes a tenant without active sectors, revoking its tokens
// and dropping its queued pieces. Usage and sector numbers survive.
func (s *Service) DeleteTenant(ctx context.Context, id string) (struct{}, error) {
	if err := s.st.DeleteTenant(ctx, id, s.now()); err != nil {
		return struct{}{}, mapStoreErr(err)
	}
	s.revoked.mu.Lock()
	clear(s.revoked.entries)
	s.revoked.mu.Unlock()
	s.log.Info("tenant deleted", "tenant", id)
	return struct{}{}, nil
}

// ListTokens lists a tenant's tokens ("" = admin tokens), without secrets.
func (s *Service) ListTokens(ctx context.Context, tenant string) ([]api.TokenInfo, error) {
	ts, err := s.st.ListTokens(ctx, tenant)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	out := make([]api.TokenInfo, len(ts))
	for i, t := range ts {
		out[i] = api.TokenInfo{ID: t.ID, Tenant: t.TenantID, Role: t.Role, IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt, Note: t.Note}
	}
	return out, nil
}

// Workers lists workers by their last heartbeat, with undelivered orders.
func (s *Service) Workers(ctx context.Context) ([]api.WorkerInfo, error) {
	ws, err := s.beats.list(ctx)
	if err != nil {
		return nil, err
	}
	s.cmdMu.Lock()
	defer s.cmdMu.Unlock()
	for i := range ws {
		if tc := s.commands[ws[i].Name]; tc != nil {
			ws[i].PendingPause, ws[i].PendingResume = tc.pause, tc.resume
		}
	}
	if ws == nil {
		ws = []api.WorkerInfo{}
	}
	return ws, nil
}

// PauseThread queues a pause (or resume) order for a worker's thread,
// delivered with the worker's next WorkerPing answer.
func (s *Service) PauseThread(ctx context.Context, worker, thread string, paused bool) (struct{}, error) {
	if worker == "" || thread == "" {
		return struct{}{}, fmt.Errorf("%w: worker and thread are required", ErrInvalid)
	}
	s.cmdMu.Lock()
	defer s.cmdMu.Unlock()
	tc := s.commands[worker]
	if tc == nil {
		tc = &threadCommands{}
		s.commands[worker] = tc
	}
	tc.pause = removeStr(tc.pause, thread)
	tc.resume = removeStr(tc.resume, thread)
	if paused {
		tc.pause = append(tc.pause, thread)
	} else {
		tc.resume = append(tc.resume, thread)
	}
	return struct{}{}, nil
}

func removeStr(xs []string, x string) []string {
	out := xs[:0]
	for _, v := range xs {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

// AbortSector aborts a sector by operator decision; the worker learns it
// from its next ReportState answer. Its number stays used.
func (s *Service) AbortSector(ctx context.Context, id api.SectorID, reason string) (struct{}, error) {
	if err := s.st.AbortSector(ctx, toStoreID(id), nonEmpty(reason, "aborted by operator"), s.now()); err != nil {
		return struct{}{}, mapStoreErr(err)
	}
	s.sectors.forget(toStoreID(id)) // the next report answers the abort
	s.log.Info("sector aborted by operator", "sector", id, "reason", reason)
	return struct{}{}, nil
}

// ExpiredLeases lists active sectors whose lease lapsed: their worker has
// gone quiet. They wait for that worker identity; an operator may abort them.
func (s *Service) ExpiredLeases(ctx context.Context) ([]api.SectorInfo, error) {
	now := s.now()
	secs, err := s.st.ExpiredLeases(ctx, now)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	out := make([]api.SectorInfo, len(secs))
	for i, sec := range secs {
		out[i] = sectorInfo(sec, now)
	}
	return out, nil
}

// UsageCSV returns usage per tenant as CSV (see store.WriteUsageCSV).
func (s *Service) UsageCSV(ctx context.Context, req api.UsageRequest) (string, error) {
	us, err := s.usage(ctx, req)
	if err != nil {
		return "", err
	}
	if req.Tenant != "" {
		kept := us[:0]
		for _, u := range us {
			if u.TenantID == req.Tenant {
				kept = append(kept, u)
			}
		}
		us = kept
	}
	var b bytes.Buffer
	if err := store.WriteUsageCSV(&b, us); err != nil {
		return "", fmt.Errorf("manager: usage csv: %w", err)
	}
	return b.String(), nil
}

// attachedWorkerMethods are the worker-API methods answered on the
// caller's context: polls and reads, whose work is worth nothing once the
// caller is gone. Every other worker method (a new one too, by default)
// finishes detached.
var attachedWorkerMethods = map[string]bool{
	api.MethodPollPreCommitState: true,
	api.MethodPollProofState:     true,
	api.MethodWorkerPing:         true,
	api.MethodDeliveryTarget:     true,
	api.MethodDeliveryStatus:     true,
}

// The manager serves the typed contract of package api; a handler whose
// signature drifts from it fails to compile here.
var (
	_ api.SealerAPI = (*Service)(nil)
	_ api.TenantAPI = (*Service)(nil)
	_ api.AdminAPI  = (*Service)(nil)
)

// mutationTimeout bounds a state-changing call that outlives its caller.
const mutationTimeout = 30 * time.Second

// detached runs h under a context that keeps the caller's values (claims)
// but not its cancellation, so persistence survives an RPC disconnect.
func detached(h rpc.Handler) rpc.Handler {
	return func(ctx context.Context, params []json.RawMessage) (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mutationTimeout)
		defer cancel()
		return h(ctx, params)
	}
}

// Register serves the worker, tenant and admin APIs on srv. Every method
// has a permission (checked by the transport) and a set of roles (checked
// by rpc.RequireRole), so a worker token cannot reach the tenant API even
// though both carry "write"; tenant isolation is then checked per object by
// the handlers. Text parameters are checked at this edge (checkText): no
// NUL, valid UTF-8, whatever the store. Components that serve their own methods (signer hub,
// pipeline) are registered too.
func (s *Service) Register(srv *rpc.Server) {
	worker := func(name string, h rpc.Handler) {
		srv.Register(name, rpc.PermWrite, s.metrics.instrument(name, rpc.RequireRole(checkText(h), rpc.RoleWorker)))
	}
	// Methods that change state finish even if the worker hangs up (a
	// detached context, bounded by mutationTimeout): each step is
	// idempotent, but a submission half recorded and half queued would
	// wait for the worker's retry to be completed.
	mutating := func(name string, h rpc.Handler) { worker(name, detached(h)) }
	for _, m := range rpcapi.SealerMethods(s) {
		if attachedWorkerMethods[m.Name] {
			worker(m.Name, m.Handler)
		} else {
			mutating(m.Name, m.Handler)
		}
	}

	tenant := func(name string, perm rpc.Perm, h rpc.Handler) {
		srv.Register(name, perm, s.metrics.instrument(name, rpc.RequireRole(checkText(h), rpc.RoleTenant, rpc.RoleAdmin)))
	}
	for _, m := range rpcapi.TenantMethods(s) {
		perm := rpc.PermRead
		if m.Name == api.MethodSubmitPieces {
			perm = rpc.PermWrite
		}
		tenant(m.Name, perm, m.Handler)
	}

	admin := func(name string, h rpc.Handler) {
		srv.Register(name, rpc.PermAdmin, s.metrics.instrument(name, rpc.RequireRole(checkText(h), rpc.RoleAdmin)))
	}
	for _, m := range rpcapi.AdminMethods(s) {
		admin(m.Name, m.Handler)
	}

	for _, c := range []any{s.pipeline, s.signers} {
		if r, ok := c.(RPCRegistrar); ok {
			r.RegisterRPC(srv)
		}
	}
}
