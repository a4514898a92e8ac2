package manager

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/delivery"
	"github.com/sealant/sealant/store"
)

// ReceiverClient is the part of an SP's receiver API (package delivery) the
// manager uses in Architecture 2: it pushes a finalized sector's metadata
// and reads the receiver's verdict. *delivery.Client satisfies it; tests
// use a fake.
type ReceiverClient interface {
	PushMetadata(ctx context.Context, e delivery.Endpoint, md api.SectorMetadata) (api.ReceiverSector, error)
	Status(ctx context.Context, e delivery.Endpoint, id api.SectorID) (api.ReceiverSector, error)
}

var _ ReceiverClient = (*delivery.Client)(nil)

const (
	// DefaultHandoffInterval is how often the handoff loop looks for
	// sectors whose metadata is not at their receiver yet and reads the
	// verdicts of the others.
	DefaultHandoffInterval = 5 * time.Second
	// handoffMaxBackoff caps the wait after repeated failures against one
	// receiver, so a receiver back after an outage is found within it.
	handoffMaxBackoff = 10 * time.Minute
	// handoffStatusInterval is how often the loop reads the receiver's
	// state of a sector whose metadata is there: the worker's transfer
	// reports the verdict anyway, so the loop's reads are the safety net
	// and need not cost a request per sector per pass.
	handoffStatusInterval = 30 * time.Second
	// receiverCallTimeout bounds one call to a receiver, so one dead SP
	// cannot stall the loop (or a worker's call) for every other tenant.
	receiverCallTimeout = 30 * time.Second
)

// newReceiverClient is the default ReceiverClient: few in-call retries,
// because the handoff loop is the retry (with its own, persisted back-off).
func newReceiverClient() ReceiverClient {
	return &delivery.Client{MaxRetries: 1, RetryDelay: 500 * time.Millisecond}
}

// runHandoff is the background metadata handoff: every interval (or at
// once when woken by a finalize), one PushPendingMetadata pass. The state
// it works from lives in the database (deliveries, mgr_handoff), so a
// restarted manager, or a second one on the same PostgreSQL database,
// resumes where the last left off; a duplicate push is a no-op at the
// receiver.
func (s *Service) runHandoff(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.PushPendingMetadata(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("metadata handoff pass", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.handoffWake:
		}
	}
}

// wakeHandoff asks the handoff loop for a pass now; it never blocks.
func (s *Service) wakeHandoff() {
	select {
	case s.handoffWake <- struct{}{}:
	default:
	}
}

// PushPendingMetadata makes one handoff pass over the in-flight deliveries
// (pending, transferring, verifying) of Architecture-2 tenants (those with
// a delivery target): a sector whose current metadata was not pushed for
// its current delivery attempt is pushed to the tenant's receiver; for the
// others the receiver's state is read and recorded, so the delivery record
// follows the receiver's verdict (accepted, or rejected with its reason)
// even if the worker never reports again. Failures back off per sector
// (5 s doubling to 10 min, persisted), and a sector's receiver state is
// read at most every 30 s. It returns how many sectors were
// pushed; errors of single sectors are logged and joined.
func (s *Service) PushPendingMetadata(ctx context.Context) (int, error) {
	ds, err := s.st.ListDeliveries(ctx, "", store.DeliveryPending, store.DeliveryTransferring, store.DeliveryVerifying)
	if err != nil {
		return 0, mapStoreErr(err)
	}
	tenants := map[string]*store.Tenant{}
	pushed := 0
	var errs []error
	for _, d := range ds {
		if ctx.Err() != nil {
			return pushed, ctx.Err()
		}
		t, ok := tenants[d.TenantID]
		if !ok {
			tt, err := s.st.GetTenant(ctx, d.TenantID)
			if err != nil {
				// A deleted tenant's deliveries have nowhere to go.
				tenants[d.TenantID] = nil
				continue
			}
			t = &tt
			tenants[d.TenantID] = t
		}
		if t == nil || t.DeliveryTarget == "" {
			continue
		}
		did, err := s.handOff(ctx, d, *t, false)
		if did {
			pushed++
		}
		if err != nil {
			s.log.Warn("metadata handoff", "sector", d.Sector, "tenant", d.TenantID, "err", err)
			errs = append(errs, err)
		}
	}
	return pushed, errors.Join(errs...)
}

// handOff pushes one sector's metadata when needed and records the
// receiver's state. force ignores the back-off (a worker is about to
// transfer and waits for the answer).
func (s *Service) handOff(ctx context.Context, d store.Delivery, t store.Tenant, force bool) (bool, error) {
	h, _, err := s.st.GetHandoff(ctx, d.Sector)
	if err != nil {
		return false, err
	}
	now := s.now()
	// Next is the back-off after a failure, or the next status read after
	// a success.
	if !force && now.Before(h.Next) {
		return false, nil
	}
	fail := func(err error) (bool, error) {
		h.Failures++
		h.Next = now.Add(handoffBackoff(h.Failures))
		h.LastError = err.Error()
		if perr := s.st.PutHandoff(ctx, d.Sector, h); perr != nil {
			return false, errors.Join(err, perr)
		}
		return false, err
	}
	ep, err := delivery.EndpointOf(api.DeliveryTarget{Architecture: api.ArchSPProves, ReceiverURL: t.DeliveryTarget})
	if err != nil {
		return fail(fmt.Errorf("manager: tenant %s delivery target: %w", t.ID, err))
	}
	sec, err := s.st.GetSector(ctx, d.Sector)
	if err != nil {
		return false, mapStoreErr(err)
	}
	md, err := s.sectorMetadata(ctx, sec)
	if err != nil {
		return false, err
	}
	md.Files = deliveredFiles(md.Files)
	if len(md.Files) == 0 {
		// Not finalized through ReportFinalized (no file list): nothing a
		// receiver could verify against.
		return fail(fmt.Errorf("manager: sector %s has no finalized file list", sec.ID))
	}
	raw, err := json.Marshal(md)
	if err != nil {
		return false, fmt.Errorf("manager: sector %s metadata: %w", sec.ID, err)
	}
	sum := sha256.Sum256(raw)
	hash := hex.EncodeToString(sum[:])
	cctx, cancel := context.WithTimeout(ctx, receiverCallTimeout)
	defer cancel()
	var rs api.ReceiverSector
	pushed := false
	// Push when this metadata was not pushed for this delivery attempt: a
	// new attempt after a rejection must re-push (the receiver restarts a
	// rejected sector only on a push), and changed metadata (a message CID
	// learnt late) replaces the old before verification.
	if h.Pushed.IsZero() || h.Hash != hash || h.Attempt != d.Attempts {
		rs, err = s.receiver.PushMetadata(cctx, ep, md)
		if err != nil {
			return fail(fmt.Errorf("manager: push metadata of sector %s to %s: %w", sec.ID, ep.URL, err))
		}
		h = store.Handoff{Hash: hash, Attempt: d.Attempts, Pushed: now, Next: now.Add(handoffStatusInterval)}
		if err := s.st.PutHandoff(ctx, d.Sector, h); err != nil {
			return false, err
		}
		pushed = true
		s.log.Info("sector metadata pushed", "sector", sec.ID, "tenant", t.ID, "receiver", ep.URL, "receiver_state", rs.State)
	} else {
		rs, err = s.receiver.Status(cctx, ep, toAPIID(d.Sector))
		if errors.Is(err, delivery.ErrNotFound) {
			// The receiver lost the record (reinstalled root): push again.
			h.Pushed = time.Time{}
			if err := s.st.PutHandoff(ctx, d.Sector, h); err != nil {
				return false, err
			}
			return false, nil
		}
		if err != nil {
			return fail(fmt.Errorf("manager: receiver status of sector %s: %w", sec.ID, err))
		}
		h.Failures, h.Next, h.LastError = 0, now.Add(handoffStatusInterval), ""
		if err := s.st.PutHandoff(ctx, d.Sector, h); err != nil {
			return pushed, err
		}
	}
	_, err = s.applyReceiverState(ctx, d, rs)
	return pushed, err
}

// handoffBackoff is the wait after n consecutive failures: 5 s doubling,
// capped.
func handoffBackoff(n int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < n && d < handoffMaxBackoff; i++ {
		d *= 2
	}
	return min(d, handoffMaxBackoff)
}

// deliveredFiles keeps the files a sector is delivered with (the replica
// and the cache files the SP proves with); the unsealed copy of a data
// sector stays with the provider.
func deliveredFiles(fs []api.SectorFile) []api.SectorFile {
	out := make([]api.SectorFile, 0, len(fs))
	for _, f := range fs {
		if !strings.HasPrefix(f.Name, "unsealed/") {
			out = append(out, f)
		}
	}
	return out
}

// receiverReason is the one-line reason of a receiver's rejection.
func receiverReason(rs api.ReceiverSector) string {
	reason := nonEmpty(rs.Reason, "rejected by receiver")
	if failed := delivery.FailedChecks(api.VerifyResult{Checks: rs.Checks}); failed != "" && !strings.Contains(reason, failed) {
		reason += " (" + failed + ")"
	}
	return reason
}

// applyReceiverState moves a delivery record forward to the receiver's
// state: accepted and rejected are final verdicts; transferring and
// verifying are progress. A receiver state behind the record (pending after
// the record reached verifying) changes nothing: the record never walks
// back except through a retry.
func (s *Service) applyReceiverState(ctx context.Context, d store.Delivery, rs api.ReceiverSector) (store.Delivery, error) {
	if d.State == store.DeliveryAccepted || d.State == store.DeliveryRejected {
		return d, nil
	}
	switch rs.State {
	case api.DeliveryAccepted:
		return s.walkDelivery(ctx, d, store.DeliveryAccepted, "accepted by receiver")
	case api.DeliveryRejected:
		return s.walkDelivery(ctx, d, store.DeliveryRejected, receiverReason(rs))
	case api.DeliveryTransferring, api.DeliveryVerifying:
		if indexOf(deliveryOrder, rs.State) > indexOf(deliveryOrder, d.State) {
			return s.walkDelivery(ctx, d, rs.State, "")
		}
	}
	return d, nil
}

// walkDelivery moves a delivery record to state to through the
// intermediate states (the store allows one step at a time); from
// rejected, any move but to pending first goes back to pending as a retry.
func (s *Service) walkDelivery(ctx context.Context, d store.Delivery, to store.DeliveryState, reason string) (store.Delivery, error) {
	if d.State == to {
		return d, nil
	}
	now := s.now()
	var err error
	if d.State == store.DeliveryRejected && to != store.DeliveryPending {
		if d, err = s.st.UpdateDelivery(ctx, d.Sector, store.DeliveryPending, "retry", now); err != nil {
			return d, mapStoreErr(err)
		}
	}
	cur := indexOf(deliveryOrder, d.State)
	target := indexOf(deliveryOrder, to)
	if to == store.DeliveryAccepted || to == store.DeliveryRejected {
		target = len(deliveryOrder)
	}
	for i := cur + 1; i < target && i < len(deliveryOrder); i++ {
		if d, err = s.st.UpdateDelivery(ctx, d.Sector, deliveryOrder[i], "", now); err != nil {
			return d, mapStoreErr(err)
		}
	}
	if d.State != to {
		if d, err = s.st.UpdateDelivery(ctx, d.Sector, to, reason, now); err != nil {
			return d, mapStoreErr(err)
		}
	}
	if to == store.DeliveryAccepted || to == store.DeliveryRejected {
		s.log.Info("sector delivery "+string(to), "sector", d.Sector, "tenant", d.TenantID, "reason", reason)
	}
	return d, nil
}

// receiverVerdict reads the receiver's state of a sector of an
// Architecture-2 tenant.
func (s *Service) receiverVerdict(ctx context.Context, t store.Tenant, id store.SectorID) (api.ReceiverSector, error) {
	ep, err := delivery.EndpointOf(api.DeliveryTarget{Architecture: api.ArchSPProves, ReceiverURL: t.DeliveryTarget})
	if err != nil {
		return api.ReceiverSector{}, fmt.Errorf("manager: tenant %s delivery target: %w", t.ID, err)
	}
	cctx, cancel := context.WithTimeout(ctx, receiverCallTimeout)
	defer cancel()
	rs, err := s.receiver.Status(cctx, ep, toAPIID(id))
	if err != nil {
		return api.ReceiverSector{}, fmt.Errorf("manager: receiver status of sector %s: %w", id, err)
	}
	return rs, nil
}

// prepareHandoff runs when a worker asks where an Architecture-2 sector
// goes, i.e. just before it transfers: a rejected delivery becomes a new
// attempt, and the metadata is pushed now (best effort, ignoring the
// back-off) so the transfer does not wait for the loop. A failure here only
// delays: the worker's transfer sees "metadata not pushed yet" and retries,
// and the loop keeps pushing.
func (s *Service) prepareHandoff(ctx context.Context, sec store.Sector, t store.Tenant) {
	d, err := s.st.GetDelivery(ctx, sec.ID)
	if errors.Is(err, store.ErrNotFound) {
		d, err = s.st.CreateDelivery(ctx, sec.ID, t.DeliveryTarget, s.now())
	}
	if err != nil {
		s.log.Warn("metadata handoff: delivery record", "sector", sec.ID, "err", err)
		return
	}
	switch d.State {
	case store.DeliveryAccepted:
		return
	case store.DeliveryRejected:
		if d, err = s.st.UpdateDelivery(ctx, sec.ID, store.DeliveryPending, "retry: worker delivers again", s.now()); err != nil {
			s.log.Warn("metadata handoff: retry", "sector", sec.ID, "err", err)
			return
		}
	}
	if _, err := s.handOff(ctx, d, t, true); err != nil {
		s.log.Warn("metadata handoff before transfer", "sector", sec.ID, "err", err)
	}
}
