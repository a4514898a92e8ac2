package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/sealant/sealant/proofs/abi"
)

// SigningRoute says who signs a tenant's messages.
type SigningRoute string

// Signing routes.
const (
	// SignerRoute: the tenant's own sealant signer, connected outbound to
	// the manager; keys never leave the tenant. The default.
	SignerRoute SigningRoute = "signer"
	// LotusWalletRoute: a Lotus wallet API the manager is configured with.
	LotusWalletRoute SigningRoute = "lotus-wallet"
)

// ProveMode says how ProveCommits are sent.
type ProveMode string

// Prove modes.
const (
	// ProvePerSector sends one ProveCommit per sector (batches of one).
	ProvePerSector ProveMode = "per-sector"
	// ProveAggregate aggregates proofs of a batch into one message.
	ProveAggregate ProveMode = "aggregate"
)

// Batching is a tenant's batching policy: a batch is closed when it holds
// BatchSize sectors or its oldest sector has waited MaxWait.
type Batching struct {
	PreCommitBatchSize   int           `json:"precommit_batch_size"`
	PreCommitMaxWait     time.Duration `json:"precommit_max_wait"`
	ProveCommitMode      ProveMode     `json:"provecommit_mode"`
	ProveCommitBatchSize int           `json:"provecommit_batch_size"`
	ProveCommitMaxWait   time.Duration `json:"provecommit_max_wait"`
}

// MaxNIBatch is the most sectors one ProveCommitSectorsNI may carry
// (builtin-actors' limit, chain/rand.MaxAggregatedSectorsNI).
const MaxNIBatch = 65

// BatchCapacity is the most sectors one batch of kind may hold under the
// tenant's policy: the configured size (at least 1); for ProveCommit one
// unless the tenant aggregates, and an NI tenant's always up to the
// actor's MaxNIBatch. The store keeps every batch within it (addToBatch)
// and the commit pipeline closes a batch when it is reached.
func (t Tenant) BatchCapacity(kind BatchKind) int {
	b := t.Batching
	switch {
	case kind == BatchPreCommit:
		return max(1, b.PreCommitBatchSize)
	case t.ProofType.IsNI():
		return min(max(1, b.ProveCommitBatchSize), MaxNIBatch)
	case b.ProveCommitMode != ProveAggregate:
		return 1
	}
	return max(1, b.ProveCommitBatchSize)
}

// Fees holds fee caps in attoFIL as decimal strings ("" = no cap); strings
// because FIL amounts exceed 64 bits.
type Fees struct {
	MaxPreCommitFee   string `json:"max_precommit_fee,omitempty"`
	MaxProveCommitFee string `json:"max_provecommit_fee,omitempty"`
}

// Quota limits a tenant's allocations; 0 means unlimited.
type Quota struct {
	// SectorsPerDay bounds allocations in any rolling 24 h window.
	SectorsPerDay int `json:"sectors_per_day"`
	// Concurrent bounds sectors allocated and neither finalized nor
	// aborted.
	Concurrent int `json:"concurrent"`
}

// Tenant is one storage provider served by the manager.
type Tenant struct {
	// ID is the operator-chosen tenant name; immutable.
	ID string `json:"id"`
	// Miner is the miner actor ID (f0…); immutable and unique.
	Miner uint64 `json:"miner"`
	// ProofType is the seal proof all of the tenant's new sectors use.
	ProofType abi.RegisteredSealProof `json:"proof_type"`
	// SectorSize is derived from ProofType by the store.
	SectorSize uint64 `json:"sector_size"`
	// Senders are the addresses that may send the tenant's messages.
	Senders []string `json:"senders"`
	// SigningRoute defaults to SignerRoute.
	SigningRoute SigningRoute `json:"signing_route"`
	Batching     Batching     `json:"batching"`
	Fees         Fees         `json:"fees"`
	// ExpirationDays is the committed sector lifetime.
	ExpirationDays int   `json:"expiration_days"`
	Quota          Quota `json:"quota"`
	// Weight is the tenant's fair-share weight (>0); see AllocateSector.
	Weight int `json:"weight"`
	// Paused tenants get no new sectors; in-flight sectors continue.
	Paused bool `json:"paused"`
	// DeliveryTarget is where sealed sectors are delivered (URL).
	DeliveryTarget string    `json:"delivery_target,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// normalize fills defaults and validates t in place.
func (t *Tenant) normalize() error {
	if !validTenantID(t.ID) {
		return fmt.Errorf("store: tenant id %q: want 1-64 of [a-z0-9._-], starting with a letter or digit: %w", t.ID, ErrInvalid)
	}
	if !t.ProofType.Valid() {
		return fmt.Errorf("store: tenant %q: unknown proof type %d: %w", t.ID, t.ProofType, ErrInvalid)
	}
	t.SectorSize = uint64(t.ProofType.SectorSize())
	if t.SigningRoute == "" {
		t.SigningRoute = SignerRoute
	}
	if t.SigningRoute != SignerRoute && t.SigningRoute != LotusWalletRoute {
		return fmt.Errorf("store: tenant %q: unknown signing route %q: %w", t.ID, t.SigningRoute, ErrInvalid)
	}
	if t.Batching.ProveCommitMode == "" {
		t.Batching.ProveCommitMode = ProvePerSector
	}
	if t.Batching.ProveCommitMode != ProvePerSector && t.Batching.ProveCommitMode != ProveAggregate {
		return fmt.Errorf("store: tenant %q: unknown provecommit mode %q: %w", t.ID, t.Batching.ProveCommitMode, ErrInvalid)
	}
	if t.Batching.PreCommitBatchSize <= 0 {
		t.Batching.PreCommitBatchSize = 1
	}
	if t.Batching.ProveCommitBatchSize <= 0 {
		t.Batching.ProveCommitBatchSize = 1
	}
	if t.Batching.PreCommitMaxWait < 0 || t.Batching.ProveCommitMaxWait < 0 {
		return fmt.Errorf("store: tenant %q: negative batch wait: %w", t.ID, ErrInvalid)
	}
	for _, f := range []string{t.Fees.MaxPreCommitFee, t.Fees.MaxProveCommitFee} {
		if f == "" {
			continue
		}
		if v, ok := new(big.Int).SetString(f, 10); !ok || v.Sign() < 0 {
			return fmt.Errorf("store: tenant %q: fee cap %q is not a non-negative attoFIL integer: %w", t.ID, f, ErrInvalid)
		}
	}
	if t.ExpirationDays <= 0 {
		t.ExpirationDays = 540
	}
	if t.Quota.SectorsPerDay < 0 || t.Quota.Concurrent < 0 {
		return fmt.Errorf("store: tenant %q: negative quota: %w", t.ID, ErrInvalid)
	}
	if t.Weight == 0 {
		t.Weight = 1
	}
	if t.Weight < 0 {
		return fmt.Errorf("store: tenant %q: negative weight: %w", t.ID, ErrInvalid)
	}
	if t.Miner > 1<<63-1 {
		return fmt.Errorf("store: tenant %q: miner id out of range: %w", t.ID, ErrInvalid)
	}
	if t.Senders == nil {
		t.Senders = []string{}
	}
	return nil
}

const tenantCols = `id, miner_id, proof_type, sector_size, senders, signing_route,
	pc_batch_size, pc_max_wait_ms, prove_mode, prove_batch_size, prove_max_wait_ms,
	max_precommit_fee, max_provecommit_fee, expiration_days, quota_per_day, quota_concurrent,
	weight, paused, delivery_target, created_ms, updated_ms`

func scanTenant(sc interface{ Scan(...any) error }) (Tenant, error) {
	var (
		t                                   Tenant
		miner, pt, size                     int64
		senders, route, mode                string
		pcWait, prWait, created, updated    int64
		pcSize, prSize, exp, qDay, qConc, w int64
	)
	err := sc.Scan(&t.ID, &miner, &pt, &size, &senders, &route,
		&pcSize, &pcWait, &mode, &prSize, &prWait,
		&t.Fees.MaxPreCommitFee, &t.Fees.MaxProveCommitFee, &exp, &qDay, &qConc,
		&w, &t.Paused, &t.DeliveryTarget, &created, &updated)
	if err != nil {
		return Tenant{}, err
	}
	t.Miner, t.ProofType, t.SectorSize = uint64(miner), abi.RegisteredSealProof(pt), uint64(size)
	if err := json.Unmarshal([]byte(senders), &t.Senders); err != nil {
		return Tenant{}, fmt.Errorf("store: tenant %q: decode senders: %w", t.ID, err)
	}
	t.SigningRoute = SigningRoute(route)
	t.Batching = Batching{
		PreCommitBatchSize: int(pcSize), PreCommitMaxWait: time.Duration(pcWait) * time.Millisecond,
		ProveCommitMode: ProveMode(mode), ProveCommitBatchSize: int(prSize),
		ProveCommitMaxWait: time.Duration(prWait) * time.Millisecond,
	}
	t.ExpirationDays, t.Quota.SectorsPerDay, t.Quota.Concurrent, t.Weight = int(exp), int(qDay), int(qConc), int(w)
	t.CreatedAt, t.UpdatedAt = fromMS(created), fromMS(updated)
	return t, nil
}

// CreateTenant inserts t (defaults filled, SectorSize derived) and returns
// the stored record. A duplicate id or miner is ErrConflict.
func (s *Store) CreateTenant(ctx context.Context, t Tenant, now time.Time) (Tenant, error) {
	if err := t.normalize(); err != nil {
		return Tenant{}, err
	}
	senders, err := json.Marshal(t.Senders)
	if err != nil {
		return Tenant{}, fmt.Errorf("store: create tenant %q: %w", t.ID, err)
	}
	t.CreatedAt, t.UpdatedAt = fromMS(ms(now)), fromMS(ms(now))
	err = s.tx(ctx, func(d db) error {
		_, err := d.exec(ctx, `INSERT INTO tenants (`+tenantCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, int64(t.Miner), int64(t.ProofType), int64(t.SectorSize), string(senders), string(t.SigningRoute),
			t.Batching.PreCommitBatchSize, t.Batching.PreCommitMaxWait.Milliseconds(), string(t.Batching.ProveCommitMode),
			t.Batching.ProveCommitBatchSize, t.Batching.ProveCommitMaxWait.Milliseconds(),
			t.Fees.MaxPreCommitFee, t.Fees.MaxProveCommitFee, t.ExpirationDays, t.Quota.SectorsPerDay, t.Quota.Concurrent,
			t.Weight, t.Paused, t.DeliveryTarget, ms(now), ms(now))
		return err
	})
	if err != nil {
		if isUniqueViolation(err) {
			return Tenant{}, fmt.Errorf("store: create tenant %q (miner %d): %w", t.ID, t.Miner, ErrConflict)
		}
		return Tenant{}, fmt.Errorf("store: create tenant %q: %w", t.ID, err)
	}
	return t, nil
}

// GetTenant returns the tenant with id, or ErrNotFound.
func (s *Store) GetTenant(ctx context.Context, id string) (Tenant, error) {
	t, err := scanTenant(s.reader().queryRow(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Tenant{}, fmt.Errorf("store: tenant %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("store: get tenant %q: %w", id, err)
	}
	return t, nil
}

// ListTenants returns all tenants ordered by id.
func (s *Store) ListTenants(ctx context.Context) ([]Tenant, error) {
	rows, err := s.reader().query(ctx, `SELECT `+tenantCols+` FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: list tenants: %w", err)
	}
	defer rows.Close()
	var out []Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list tenants: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list tenants: %w", err)
	}
	return out, nil
}

// UpdateTenant replaces the mutable settings of the tenant t.ID. ID, Miner
// and CreatedAt are immutable: a different Miner is ErrConflict. Changing
// ProofType affects only sectors allocated afterwards.
func (s *Store) UpdateTenant(ctx context.Context, t Tenant, now time.Time) (Tenant, error) {
	if err := t.normalize(); err != nil {
		return Tenant{}, err
	}
	senders, err := json.Marshal(t.Senders)
	if err != nil {
		return Tenant{}, fmt.Errorf("store: update tenant %q: %w", t.ID, err)
	}
	var out Tenant
	err = s.tx(ctx, func(d db) error {
		cur, err := scanTenant(d.queryRow(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`+d.forUpdate(), t.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: update tenant %q: %w", t.ID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: update tenant %q: %w", t.ID, err)
		}
		if cur.Miner != t.Miner {
			return fmt.Errorf("store: update tenant %q: miner is immutable (%d → %d): %w", t.ID, cur.Miner, t.Miner, ErrConflict)
		}
		_, err = d.exec(ctx, `UPDATE tenants SET proof_type = ?, sector_size = ?, senders = ?, signing_route = ?,
			pc_batch_size = ?, pc_max_wait_ms = ?, prove_mode = ?, prove_batch_size = ?, prove_max_wait_ms = ?,
			max_precommit_fee = ?, max_provecommit_fee = ?, expiration_days = ?, quota_per_day = ?,
			quota_concurrent = ?, weight = ?, paused = ?, delivery_target = ?, updated_ms = ?
			WHERE id = ?`,
			int64(t.ProofType), int64(t.SectorSize), string(senders), string(t.SigningRoute),
			t.Batching.PreCommitBatchSize, t.Batching.PreCommitMaxWait.Milliseconds(), string(t.Batching.ProveCommitMode),
			t.Batching.ProveCommitBatchSize, t.Batching.ProveCommitMaxWait.Milliseconds(),
			t.Fees.MaxPreCommitFee, t.Fees.MaxProveCommitFee, t.ExpirationDays, t.Quota.SectorsPerDay,
			t.Quota.Concurrent, t.Weight, t.Paused, t.DeliveryTarget, ms(now), t.ID)
		if err != nil {
			return fmt.Errorf("store: update tenant %q: %w", t.ID, err)
		}
		out = t
		out.CreatedAt, out.UpdatedAt = cur.CreatedAt, fromMS(ms(now))
		return nil
	})
	return out, err
}

// SetTenantPaused pauses or resumes allocations for a tenant. Idempotent.
func (s *Store) SetTenantPaused(ctx context.Context, id string, paused bool, now time.Time) error {
	return s.tx(ctx, func(d db) error {
		res, err := d.exec(ctx, `UPDATE tenants SET paused = ?, updated_ms = ? WHERE id = ?`, paused, ms(now), id)
		if err != nil {
			return fmt.Errorf("store: pause tenant %q: %w", id, err)
		}
		if n, err := affected(res); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("store: pause tenant %q: %w", id, ErrNotFound)
		}
		return nil
	})
}

// DeleteTenant removes a tenant with its sectors, batches, messages,
// deliveries and queued pieces, and revokes all its tokens. It refuses (ErrConflict) while the
// tenant has active sectors: abort or finalize them first. Usage records
// and the miner's sector-number counter are kept, so bills survive and a
// re-created tenant for the same miner continues the numbering.
func (s *Store) DeleteTenant(ctx context.Context, id string, now time.Time) error {
	return s.tx(ctx, func(d db) error {
		var x string
		err := d.queryRow(ctx, `SELECT id FROM tenants WHERE id = ?`+d.forUpdate(), id).Scan(&x)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: delete tenant %q: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: delete tenant %q: %w", id, err)
		}
		var active int64
		if err := d.queryRow(ctx, `SELECT COUNT(*) FROM sectors WHERE tenant_id = ? AND phase = 'active'`, id).Scan(&active); err != nil {
			return fmt.Errorf("store: delete tenant %q: %w", id, err)
		}
		if active > 0 {
			return fmt.Errorf("store: delete tenant %q: %d active sectors: %w", id, active, ErrConflict)
		}
		if _, err := d.exec(ctx, `UPDATE tokens SET revoked_ms = ? WHERE tenant_id = ? AND revoked_ms IS NULL`, ms(now), id); err != nil {
			return fmt.Errorf("store: delete tenant %q: revoke tokens: %w", id, err)
		}
		// Deliveries and history cascade from sectors; sectors and batches
		// (and through them messages) cascade from the tenant.
		if _, err := d.exec(ctx, `DELETE FROM deliveries WHERE tenant_id = ?`, id); err != nil {
			return fmt.Errorf("store: delete tenant %q: %w", id, err)
		}
		if _, err := d.exec(ctx, `DELETE FROM piece_queue WHERE tenant_id = ?`, id); err != nil {
			return fmt.Errorf("store: delete tenant %q: queued pieces: %w", id, err)
		}
		if _, err := d.exec(ctx, `DELETE FROM tenants WHERE id = ?`, id); err != nil {
			return fmt.Errorf("store: delete tenant %q: %w", id, err)
		}
		return nil
	})
}

// BumpSectorNumberFloor raises the next sector number of a miner to at
// least floor (typically one past the highest number in the chain's
// StateMinerAllocated bitfield). It never lowers it. Idempotent.
func (s *Store) BumpSectorNumberFloor(ctx context.Context, miner, floor uint64) error {
	if miner > 1<<63-1 || floor > 1<<63-1 {
		return fmt.Errorf("store: bump sector number floor: out of range: %w", ErrInvalid)
	}
	return s.tx(ctx, func(d db) error {
		_, err := d.exec(ctx, `INSERT INTO sector_counters (miner_id, next_number) VALUES (?, ?)
			ON CONFLICT (miner_id) DO UPDATE SET next_number = CASE
				WHEN sector_counters.next_number < excluded.next_number THEN excluded.next_number
				ELSE sector_counters.next_number END`, int64(miner), int64(floor))
		if err != nil {
			return fmt.Errorf("store: bump sector number floor for miner %d: %w", miner, err)
		}
		return nil
	})
}

// NextSectorNumber returns the number the next allocation for miner will
// take (0 if the miner never had one).
func (s *Store) NextSectorNumber(ctx context.Context, miner uint64) (uint64, error) {
	var n int64
	err := s.reader().queryRow(ctx, `SELECT next_number FROM sector_counters WHERE miner_id = ?`, int64(miner)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: next sector number for miner %d: %w", miner, err)
	}
	return uint64(n), nil
}

// validTenantID keeps tenant ids safe to use in URLs, log keys, file names
// and CSV cells (no leading '=', '+', '-' or '@' a spreadsheet would
// evaluate).
func validTenantID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}
