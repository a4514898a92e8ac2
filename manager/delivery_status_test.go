package manager

import (
	"context"
	"errors"
	"testing"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/store"
)

// TestDeliveryStatus: the worker's wait for a verdict. The worker reports
// "verifying" once its upload is done; DeliveryStatus then follows the
// receiver (verifying, then accepted with clean-up allowed) and never
// records anything the worker claims; asking again changes nothing.
func TestDeliveryStatus(t *testing.T) {
	e := newEnv(t)
	fr := newFakeReceiver()
	e.receiver = fr
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1, func(tc *api.TenantConfig) { tc.DeliveryTarget = testReceiverTarget })
	id, _ := sealToFinalized(t, e, s)
	w := workerCtx("w1")

	if _, err := s.DeliveryTarget(w, id); err != nil {
		t.Fatal(err)
	}
	resp, err := s.ReportDelivery(w, id, api.DeliveryReport{State: api.DeliveryVerifying})
	if err != nil || resp.State != api.DeliveryVerifying || resp.MayCleanUp {
		t.Fatalf("report verifying = %+v, %v", resp, err)
	}
	fr.set(id, api.DeliveryVerifying, "")
	for range 2 {
		st, err := s.DeliveryStatus(w, id)
		if err != nil || st.State != api.DeliveryVerifying || st.MayCleanUp {
			t.Fatalf("status while verifying = %+v, %v", st, err)
		}
	}
	fr.set(id, api.DeliveryAccepted, "")
	st, err := s.DeliveryStatus(w, id)
	if err != nil || st.State != api.DeliveryAccepted || !st.MayCleanUp {
		t.Fatalf("status after the verdict = %+v, %v", st, err)
	}
	if d := deliveryOf(t, s, id); d.State != store.DeliveryAccepted {
		t.Fatalf("delivery record = %+v", d)
	}
	// The verdict is final: a receiver that forgets the sector changes
	// nothing the worker sees.
	fr.set(id, api.DeliveryRejected, "forgot")
	if st, err := s.DeliveryStatus(w, id); err != nil || st.State != api.DeliveryAccepted {
		t.Fatalf("status after a final verdict = %+v, %v", st, err)
	}
}

// TestDeliveryStatusReadOnly: for an Architecture-1 sector whose delivery
// the worker has not reported, DeliveryStatus answers pending and leaves
// the record as it was; for a sector of another worker it is refused like
// any worker call.
func TestDeliveryStatusReadOnly(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "acme", 1000, 1)
	id, _ := sealToFinalized(t, e, s)
	before, err := s.st.GetDelivery(context.Background(), toStoreID(id))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	for range 3 {
		st, err := s.DeliveryStatus(workerCtx("w1"), id)
		if err != nil || st.State != api.DeliveryPending || st.MayCleanUp {
			t.Fatalf("status before any report = %+v, %v", st, err)
		}
	}
	after, err := s.st.GetDelivery(context.Background(), toStoreID(id))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	if before.State != after.State || !before.UpdatedAt.Equal(after.UpdatedAt) || before.Attempts != after.Attempts {
		t.Fatalf("DeliveryStatus changed the record: %+v → %+v", before, after)
	}
	if _, err := s.DeliveryStatus(workerCtx("w2"), id); !errors.Is(err, ErrNotLeaseHolder) {
		t.Fatalf("another worker's status: %v, want ErrNotLeaseHolder", err)
	}
}
