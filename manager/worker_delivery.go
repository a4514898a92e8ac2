package manager

import (
	"context"
	"errors"
	"fmt"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/store"
)

// DeliveryTarget tells the worker where a finalized sector goes: the
// tenant's receiver (architecture 2) or the provider's store (1).
func (s *Service) DeliveryTarget(ctx context.Context, id api.SectorID) (api.DeliveryTarget, error) {
	sec, err := s.workerSector(ctx, id)
	if err != nil {
		return api.DeliveryTarget{}, err
	}
	t, err := s.st.GetTenant(ctx, sec.TenantID)
	if err != nil {
		return api.DeliveryTarget{}, mapStoreErr(err)
	}
	if t.DeliveryTarget != "" {
		s.prepareHandoff(ctx, sec, t)
		return api.DeliveryTarget{Architecture: api.ArchSPProves, ReceiverURL: t.DeliveryTarget, BandwidthLimit: s.delivery.BandwidthLimit}, nil
	}
	if s.delivery.StorePath == "" {
		return api.DeliveryTarget{}, fmt.Errorf("%w: tenant %s has no delivery target and the manager no store_path", ErrNotFound, t.ID)
	}
	return api.DeliveryTarget{Architecture: api.ArchProviderProves, StorePath: s.delivery.StorePath, BandwidthLimit: s.delivery.BandwidthLimit}, nil
}

// deliveryOrder is the forward path of a delivery; a report may skip steps
// (a fast transfer reports accepted directly) and is walked through them.
var deliveryOrder = []store.DeliveryState{store.DeliveryPending, store.DeliveryTransferring, store.DeliveryVerifying}

// ReportDelivery records a delivery step. The worker may drop its copy only
// once the answer says MayCleanUp (the sector was accepted).
//
// For an Architecture-2 tenant the receiver, not the worker, has the last
// word: a final report (accepted or rejected) is checked against the
// receiver's state, which is what gets recorded and answered — accepted
// only when the receiver accepted, rejected with the receiver's reason,
// otherwise the receiver's progress (the worker then polls again). When
// the receiver cannot be reached an "accepted" claim is not recorded; a
// "rejected" one is (it lets nothing be deleted).
func (s *Service) ReportDelivery(ctx context.Context, id api.SectorID, r api.DeliveryReport) (api.DeliveryReportResponse, error) {
	sec, err := s.workerSector(ctx, id)
	if err != nil {
		return api.DeliveryReportResponse{}, err
	}
	to := store.DeliveryState(r.State)
	switch to {
	case store.DeliveryPending, store.DeliveryTransferring, store.DeliveryVerifying, store.DeliveryAccepted, store.DeliveryRejected:
	default:
		return api.DeliveryReportResponse{}, fmt.Errorf("%w: delivery state %q", ErrInvalid, r.State)
	}
	now := s.now()
	d, err := s.st.GetDelivery(ctx, sec.ID)
	if errors.Is(err, store.ErrNotFound) {
		d, err = s.st.CreateDelivery(ctx, sec.ID, "", now)
	}
	if err != nil {
		return api.DeliveryReportResponse{}, mapStoreErr(err)
	}
	if d.State == store.DeliveryAccepted {
		return api.DeliveryReportResponse{State: api.DeliveryAccepted, MayCleanUp: true, Desc: nonEmpty(d.Reason, "already accepted")}, nil
	}
	desc := r.Desc
	if to == store.DeliveryAccepted || to == store.DeliveryRejected {
		t, err := s.st.GetTenant(ctx, sec.TenantID)
		if err != nil {
			return api.DeliveryReportResponse{}, mapStoreErr(err)
		}
		if t.DeliveryTarget != "" {
			rs, verr := s.receiverVerdict(ctx, t, sec.ID)
			switch {
			case verr != nil && to == store.DeliveryAccepted:
				s.log.Warn("delivery not confirmed", "sector", sec.ID, "err", verr)
				return api.DeliveryReportResponse{State: api.DeliveryState(d.State), Desc: "not confirmed by the receiver yet: " + verr.Error()}, nil
			case verr != nil:
				// A rejection the receiver cannot be asked about is
				// recorded as reported.
			case rs.State == api.DeliveryAccepted:
				to, desc = store.DeliveryAccepted, "accepted by receiver"
			case rs.State == api.DeliveryRejected:
				to, desc = store.DeliveryRejected, receiverReason(rs)
			default:
				// Still in progress at the receiver: record its progress,
				// not the worker's claim.
				if d, err = s.applyReceiverState(ctx, d, rs); err != nil {
					return api.DeliveryReportResponse{}, err
				}
				return api.DeliveryReportResponse{State: api.DeliveryState(d.State), Desc: "receiver: " + nonEmpty(string(rs.State), "no record")}, nil
			}
		}
	}
	if d.State != to {
		if d, err = s.walkDelivery(ctx, d, to, desc); err != nil {
			return api.DeliveryReportResponse{}, err
		}
	}
	return api.DeliveryReportResponse{State: api.DeliveryState(d.State), MayCleanUp: d.State == store.DeliveryAccepted, Desc: d.Reason}, nil
}

func indexOf(xs []store.DeliveryState, x store.DeliveryState) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}
