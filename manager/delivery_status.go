package manager

import (
	"context"
	"errors"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/store"
)

// DeliveryStatus answers a worker waiting for its sector's delivery
// verdict (the worker's ConfirmDelivery). It never records anything the
// worker claims: it reads the delivery record, and while that has no
// verdict and the tenant has a receiver (Architecture 2), asks the
// receiver once and records what the receiver says — the same step the
// handoff loop takes, so the verdict reaches the worker at its own poll
// pace instead of the loop's. A delivery the worker has not reported yet
// is pending.
func (s *Service) DeliveryStatus(ctx context.Context, id api.SectorID) (api.DeliveryReportResponse, error) {
	sec, err := s.workerSector(ctx, id)
	if err != nil {
		return api.DeliveryReportResponse{}, err
	}
	d, err := s.st.GetDelivery(ctx, sec.ID)
	if errors.Is(err, store.ErrNotFound) {
		return api.DeliveryReportResponse{State: api.DeliveryPending, Desc: "no delivery reported yet"}, nil
	}
	if err != nil {
		return api.DeliveryReportResponse{}, mapStoreErr(err)
	}
	if d.State != store.DeliveryAccepted && d.State != store.DeliveryRejected {
		t, err := s.st.GetTenant(ctx, sec.TenantID)
		if err != nil {
			return api.DeliveryReportResponse{}, mapStoreErr(err)
		}
		if t.DeliveryTarget != "" {
			rs, verr := s.receiverVerdict(ctx, t, sec.ID)
			if verr != nil {
				// The receiver is unreachable: the worker asks again later.
				return api.DeliveryReportResponse{State: api.DeliveryState(d.State),
					Desc: "receiver not reachable: " + verr.Error()}, nil
			}
			if d, err = s.applyReceiverState(ctx, d, rs); err != nil {
				return api.DeliveryReportResponse{}, err
			}
		}
	}
	return api.DeliveryReportResponse{State: api.DeliveryState(d.State), MayCleanUp: d.State == store.DeliveryAccepted,
		Desc: nonEmpty(d.Reason, string(d.State))}, nil
}
