package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sealant/sealant/api"
)

// DeliveryState is the progress of handing a sealed sector to its tenant.
// It is the wire type itself: the stored strings are the ones workers and
// receivers exchange, so the two can never drift apart.
type DeliveryState = api.DeliveryState

// Delivery states (see api.DeliveryState).
const (
	DeliveryPending      = api.DeliveryPending
	DeliveryTransferring = api.DeliveryTransferring
	DeliveryVerifying    = api.DeliveryVerifying
	DeliveryAccepted     = api.DeliveryAccepted
	DeliveryRejected     = api.DeliveryRejected
)

// deliveryNext is the transition table. A rejected delivery may be retried
// (back to pending, counting an attempt); accepted is final. Any state may
// fall back to pending when a transfer breaks.
var deliveryNext = map[DeliveryState][]DeliveryState{
	DeliveryPending:      {DeliveryTransferring, DeliveryRejected},
	DeliveryTransferring: {DeliveryVerifying, DeliveryPending, DeliveryRejected},
	DeliveryVerifying:    {DeliveryAccepted, DeliveryRejected, DeliveryPending},
	DeliveryRejected:     {DeliveryPending},
	DeliveryAccepted:     nil,
}

// canMoveTo reports whether deliveryNext allows from → to.
func canMoveTo(from, to DeliveryState) bool {
	for _, n := range deliveryNext[from] {
		if n == to {
			return true
		}
	}
	return false
}

// Delivery is one sector's delivery record.
type Delivery struct {
	Sector   SectorID      `json:"sector"`
	TenantID string        `json:"tenant_id"`
	State    DeliveryState `json:"state"`
	Target   string        `json:"target,omitempty"`
	// Reason explains the last rejection or fallback.
	Reason    string    `json:"reason,omitempty"`
	Attempts  int       `json:"attempts"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

const deliveryCols = `miner_id, number, tenant_id, state, target, reason, attempts, created_ms, updated_ms`

func scanDelivery(sc interface{ Scan(...any) error }) (Delivery, error) {
	var (
		d                    Delivery
		m, n, attempts, c, u int64
		state                string
	)
	if err := sc.Scan(&m, &n, &d.TenantID, &state, &d.Target, &d.Reason, &attempts, &c, &u); err != nil {
		return Delivery{}, err
	}
	d.Sector, d.State, d.Attempts = SectorID{uint64(m), uint64(n)}, DeliveryState(state), int(attempts)
	d.CreatedAt, d.UpdatedAt = fromMS(c), fromMS(u)
	return d, nil
}

func (d db) getDelivery(ctx context.Context, id SectorID, lock bool) (Delivery, error) {
	q := `SELECT ` + deliveryCols + ` FROM deliveries WHERE miner_id = ? AND number = ?`
	if lock {
		q += d.forUpdate()
	}
	del, err := scanDelivery(d.queryRow(ctx, q, int64(id.Miner), int64(id.Number)))
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, fmt.Errorf("store: delivery of sector %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("store: delivery of sector %s: %w", id, err)
	}
	return del, nil
}

// CreateDelivery starts (pending) the delivery of a sector to target, or
// returns the existing record unchanged (idempotent).
func (s *Store) CreateDelivery(ctx context.Context, id SectorID, target string, now time.Time) (Delivery, error) {
	var out Delivery
	err := s.tx(ctx, func(d db) error {
		sec, err := d.getSector(ctx, id, false)
		if err != nil {
			return err
		}
		out, err = d.createDelivery(ctx, sec, target, now)
		return err
	})
	return out, err
}

// createDelivery is CreateDelivery for a sector already read.
func (d db) createDelivery(ctx context.Context, sec Sector, target string, now time.Time) (Delivery, error) {
	id := sec.ID
	if _, err := d.exec(ctx, `INSERT INTO deliveries (`+deliveryCols+`) VALUES (?, ?, ?, 'pending', ?, '', 1, ?, ?)
		ON CONFLICT (miner_id, number) DO NOTHING`,
		int64(id.Miner), int64(id.Number), sec.TenantID, target, ms(now), ms(now)); err != nil {
		return Delivery{}, fmt.Errorf("store: create delivery of sector %s: %w", id, err)
	}
	return d.getDelivery(ctx, id, false)
}

// UpdateDelivery moves a delivery to state `to` following the transition
// table (pending → transferring → verifying → accepted|rejected; rejected →
// pending retries and counts an attempt). Moving to the current state is a
// no-op; any other disallowed move is ErrConflict.
func (s *Store) UpdateDelivery(ctx context.Context, id SectorID, to DeliveryState, reason string, now time.Time) (Delivery, error) {
	if _, ok := deliveryNext[to]; !ok {
		return Delivery{}, fmt.Errorf("store: update delivery of sector %s: unknown state %q: %w", id, to, ErrInvalid)
	}
	var out Delivery
	err := s.tx(ctx, func(d db) error {
		cur, err := d.getDelivery(ctx, id, true)
		if err != nil {
			return err
		}
		if cur.State == to {
			out = cur
			return nil
		}
		if !canMoveTo(cur.State, to) {
			return fmt.Errorf("store: update delivery of sector %s: %s → %s: %w", id, cur.State, to, ErrConflict)
		}
		attempts := cur.Attempts
		if cur.State == DeliveryRejected && to == DeliveryPending {
			attempts++
		}
		if _, err := d.exec(ctx, `UPDATE deliveries SET state = ?, reason = ?, attempts = ?, updated_ms = ?
			WHERE miner_id = ? AND number = ?`, string(to), reason, attempts, ms(now), int64(id.Miner), int64(id.Number)); err != nil {
			return fmt.Errorf("store: update delivery of sector %s: %w", id, err)
		}
		cur.State, cur.Reason, cur.Attempts, cur.UpdatedAt = to, reason, attempts, fromMS(ms(now))
		out = cur
		return nil
	})
	return out, err
}

// GetDelivery returns a sector's delivery, or ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, id SectorID) (Delivery, error) {
	return s.reader().getDelivery(ctx, id, false)
}

// ListDeliveries returns deliveries of a tenant ("" = all) in the given
// states (none = all), oldest first.
func (s *Store) ListDeliveries(ctx context.Context, tenantID string, states ...DeliveryState) ([]Delivery, error) {
	q := `SELECT ` + deliveryCols + ` FROM deliveries WHERE 1 = 1`
	var args []any
	if tenantID != "" {
		q += ` AND tenant_id = ?`
		args = append(args, tenantID)
	}
	if len(states) > 0 {
		q += ` AND state IN (` + placeholders(len(states)) + `)`
		for _, st := range states {
			args = append(args, string(st))
		}
	}
	rows, err := s.reader().query(ctx, q+` ORDER BY created_ms, miner_id, number`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list deliveries: %w", err)
	}
	return out, nil
}
