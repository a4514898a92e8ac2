package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// BatchKind says which message a batch becomes.
type BatchKind string

// Batch kinds.
const (
	BatchPreCommit   BatchKind = "precommit"
	BatchProveCommit BatchKind = "provecommit"
)

func (k BatchKind) valid() bool { return k == BatchPreCommit || k == BatchProveCommit }

// sectorCol is the sectors column holding the batch id of this kind.
func (k BatchKind) sectorCol() string {
	if k == BatchPreCommit {
		return "precommit_batch"
	}
	return "provecommit_batch"
}

// msgCol is the sectors column holding the message CID of this kind.
func (k BatchKind) msgCol() string {
	if k == BatchPreCommit {
		return "precommit_msg"
	}
	return "provecommit_msg"
}

// BatchState is a batch's life: open (taking sectors) → closed (frozen,
// its message being prepared) → sent (message pushed) → landed or failed.
type BatchState string

// Batch states.
const (
	BatchOpen   BatchState = "open"
	BatchClosed BatchState = "closed"
	BatchSent   BatchState = "sent"
	BatchLanded BatchState = "landed"
	BatchFailed BatchState = "failed"
)

// Batch is a group of one tenant's sectors sent in one message.
type Batch struct {
	ID       int64      `json:"id"`
	TenantID string     `json:"tenant_id"`
	Kind     BatchKind  `json:"kind"`
	State    BatchState `json:"state"`
	// Sectors are the members, ordered by miner and number. A failed
	// batch releases its sectors (they can join a new batch), so its list
	// is empty.
	Sectors   []SectorID `json:"sectors"`
	CreatedAt time.Time  `json:"created_at"`
	ClosedAt  time.Time  `json:"closed_at,omitzero"`
	DoneAt    time.Time  `json:"done_at,omitzero"`
	Message   *Message   `json:"message,omitempty"`
}

// AddToBatch puts an active sector into its tenant's open batch of kind,
// creating the batch if there is none, and returns the batch id. If the
// sector is already in a live batch of that kind it returns that batch
// (idempotent). Concurrent calls converge on one open batch per tenant and
// kind (a partial unique index).
func (s *Store) AddToBatch(ctx context.Context, id SectorID, kind BatchKind, now time.Time) (int64, error) {
	if !kind.valid() {
		return 0, fmt.Errorf("store: add sector %s to batch: kind %q: %w", id, kind, ErrInvalid)
	}
	var bid int64
	err := s.tx(ctx, func(d db) error {
		sec, err := d.getSector(ctx, id, true)
		if err != nil {
			return err
		}
		bid, err = d.addToBatch(ctx, sec, kind, now, nil)
		return err
	})
	return bid, err
}

// addToBatch is AddToBatch on a sector already read with its row locked.
// It also records the batch as the sector's last of its kind.
//
// With u set, the sector's new columns are added to u for the caller to
// write with its own changes; otherwise they are written here.
func (d db) addToBatch(ctx context.Context, sec Sector, kind BatchKind, now time.Time, u *sets) (int64, error) {
	id := sec.ID
	if cur := batchOf(sec, kind); cur != 0 {
		return cur, nil
	}
	if sec.Phase != PhaseActive {
		return 0, fmt.Errorf("store: add sector %s to batch: %s: %w", id, sec.Phase, ErrSectorDone)
	}
	// A full open batch is closed here and the sector opens the next:
	// whoever adds (a submission or the pipeline's sweep, alone or several
	// in one group transaction), a batch never holds more than its
	// tenant's policy allows (one sector per message for per-sector
	// ProveCommit).
	key := openKey{sec.TenantID, kind}
	var ob *openBatch
	if d.group != nil {
		ob = d.group.open[key]
	}
	for ob == nil || ob.members >= ob.capacity {
		if ob != nil {
			if _, err := d.exec(ctx, `UPDATE batches SET state = 'closed', closed_ms = ? WHERE id = ?`, ms(now), ob.id); err != nil {
				return 0, fmt.Errorf("store: close full batch %d: %w", ob.id, err)
			}
		}
		var err error
		if ob, err = d.lockOpenBatch(ctx, sec.TenantID, kind, now); err != nil {
			return 0, fmt.Errorf("store: add sector %s to batch: %w", id, err)
		}
		if d.group != nil {
			d.group.open[key] = ob
		}
	}
	ob.members++
	bid := ob.id
	set := u
	if set == nil {
		set = &sets{}
	}
	set.add(kind.sectorCol(), bid)
	set.add("last_"+kind.sectorCol(), bid)
	set.add("updated_ms", ms(now))
	if u != nil {
		return bid, nil // the caller writes u
	}
	if err := d.writeSets(ctx, id, *set); err != nil {
		return 0, fmt.Errorf("store: add sector %s to batch: %w", id, err)
	}
	return bid, nil
}

// lockOpenBatch finds or creates the tenant's open batch of kind, locks
// it, and counts its members and reads its capacity.
//
// Under READ COMMITTED (PostgreSQL) the INSERT can see another
// transaction's open batch, which that transaction then closes before our
// SELECT runs: the SELECT finds no open batch. It is tried again then;
// each round either creates the open batch or locks one that exists.
func (d db) lockOpenBatch(ctx context.Context, tenant string, kind BatchKind, now time.Time) (*openBatch, error) {
	try := d.tryOpenBatch
	if d.group != nil {
		try = d.tryOpenBatchPipelined
	}
	for attempt := 0; ; attempt++ {
		t, ob, err := try(ctx, tenant, kind, now)
		switch {
		case err != nil:
			return nil, err
		case ob != nil:
			ob.capacity = t.BatchCapacity(kind)
			return ob, nil
		case attempt >= 16:
			return nil, fmt.Errorf("no open batch of kind %s for tenant %q after %d attempts", kind, tenant, attempt+1)
		}
	}
}

// The statements of a round of lockOpenBatch: the tenant, the open batch
// made sure of, then locked.
const (
	openBatchTenantQ = `SELECT ` + tenantCols + ` FROM tenants WHERE id = ?`
	openBatchInsertQ = `INSERT INTO batches (tenant_id, kind, state, created_ms) VALUES (?, ?, 'open', ?)
		ON CONFLICT (tenant_id, kind) WHERE state = 'open' DO NOTHING`
	openBatchLockQ = `SELECT id FROM batches WHERE tenant_id = ? AND kind = ? AND state = 'open'`
)

// openBatchRound returns the statements of a round of lockOpenBatch, with
// ? placeholders: the tenant, the open batch made sure of, locked, and its
// members counted. The members are counted by the open batch's key, as
// its id is not known when the statements are sent together
// (tryOpenBatchPipelined); the count still follows the lock, as every
// statement of a READ COMMITTED transaction sees what was committed
// before it began, and SQLite runs one transaction at a time.
func (d db) openBatchRound(tenant string, kind BatchKind, now time.Time) [4]keptWrite {
	return [4]keptWrite{
		{openBatchTenantQ, []any{tenant}},
		{openBatchInsertQ, []any{tenant, string(kind), ms(now)}},
		{openBatchLockQ + d.forUpdate(), []any{tenant, string(kind)}},
		{`SELECT COUNT(*) FROM sectors s JOIN batches b ON s.` + kind.sectorCol() + ` = b.id
			WHERE b.tenant_id = ? AND b.kind = ? AND b.state = 'open'`, []any{tenant, string(kind)}},
	}
}

// readOpenBatchRound reads the answers to openBatchRound's statements in
// order, from row (a statement that returns a row) and exec (one that
// does not); ob is nil when no open batch was found.
func readOpenBatchRound(tenant string, row func() interface{ Scan(...any) error }, exec func() error) (Tenant, *openBatch, error) {
	t, err := scanTenant(row())
	if err != nil {
		return Tenant{}, nil, fmt.Errorf("tenant %q: %w", tenant, err)
	}
	if err := exec(); err != nil {
		return Tenant{}, nil, err
	}
	var ob openBatch
	if err := row().Scan(&ob.id); errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return t, nil, nil
	} else if err != nil {
		return Tenant{}, nil, err
	}
	// Locked, so the count cannot change under us.
	if err := row().Scan(&ob.members); err != nil {
		return Tenant{}, nil, fmt.Errorf("count members of batch %d: %w", ob.id, err)
	}
	return t, &ob, nil
}

// tryOpenBatch is one round of lockOpenBatch, a statement at a time.
func (d db) tryOpenBatch(ctx context.Context, tenant string, kind BatchKind, now time.Time) (Tenant, *openBatch, error) {
	stmts := d.openBatchRound(tenant, kind, now)
	next := 0
	take := func() keptWrite { next++; return stmts[next-1] }
	return readOpenBatchRound(tenant,
		func() interface{ Scan(...any) error } { st := take(); return d.queryRow(ctx, st.sql, st.args...) },
		func() error { st := take(); _, err := d.exec(ctx, st.sql, st.args...); return err })
}

// tryOpenBatchPipelined is tryOpenBatch in a PostgreSQL group: its
// statements go with the group's kept writes in one round trip instead of
// five (the first call of every group that submits comes here).
func (d db) tryOpenBatchPipelined(ctx context.Context, tenant string, kind BatchKind, now time.Time) (Tenant, *openBatch, error) {
	stmts := d.openBatchRound(tenant, kind, now)
	for i := range stmts { // not kept: sent now, but in the form kept writes take
		stmts[i].sql = d.s.rebind(stmts[i].sql)
	}
	g := d.group
	if g.err != nil {
		return Tenant{}, nil, g.err // the transaction is already lost
	}
	var (
		t  Tenant
		ob *openBatch
	)
	err := g.sendWith(ctx, stmts[:], func(res pgx.BatchResults) error {
		var err error
		t, ob, err = readOpenBatchRound(tenant,
			func() interface{ Scan(...any) error } { return res.QueryRow() },
			func() error { _, err := res.Exec(); return err })
		return err
	})
	if err != nil {
		// The transaction is aborted, or its kept writes are lost: the
		// group cannot commit.
		if g.err == nil {
			g.err = fmt.Errorf("store: lock the open batch: %w", err)
		}
		return Tenant{}, nil, err
	}
	return t, ob, nil
}

// batchOf is the sector's current batch of kind (0: none).
func batchOf(sec Sector, kind BatchKind) int64 {
	if kind == BatchProveCommit {
		return sec.ProveCommitBatch
	}
	return sec.PreCommitBatch
}

const batchCols = `id, tenant_id, kind, state, created_ms, closed_ms, done_ms`

func scanBatch(sc interface{ Scan(...any) error }) (Batch, error) {
	var (
		b            Batch
		kind, state  string
		created      int64
		closed, done sql.NullInt64
	)
	if err := sc.Scan(&b.ID, &b.TenantID, &kind, &state, &created, &closed, &done); err != nil {
		return Batch{}, err
	}
	b.Kind, b.State = BatchKind(kind), BatchState(state)
	b.CreatedAt, b.ClosedAt, b.DoneAt = fromMS(created), fromNullMS(closed), fromNullMS(done)
	return b, nil
}

func (d db) getBatch(ctx context.Context, id int64, lock bool) (Batch, error) {
	q := `SELECT ` + batchCols + ` FROM batches WHERE id = ?`
	if lock {
		q += d.forUpdate()
	}
	b, err := scanBatch(d.queryRow(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Batch{}, fmt.Errorf("store: batch %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Batch{}, fmt.Errorf("store: get batch %d: %w", id, err)
	}
	return b, nil
}

// fill loads a batch's sectors and message.
func (d db) fillBatch(ctx context.Context, b *Batch) error {
	rows, err := d.query(ctx, `SELECT miner_id, number FROM sectors WHERE `+b.Kind.sectorCol()+` = ? ORDER BY miner_id, number`, b.ID)
	if err != nil {
		return fmt.Errorf("store: batch %d sectors: %w", b.ID, err)
	}
	defer rows.Close()
	b.Sectors = []SectorID{}
	for rows.Next() {
		var m, n int64
		if err := rows.Scan(&m, &n); err != nil {
			return fmt.Errorf("store: batch %d sectors: %w", b.ID, err)
		}
		b.Sectors = append(b.Sectors, SectorID{uint64(m), uint64(n)})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: batch %d sectors: %w", b.ID, err)
	}
	m, err := d.messageOf(ctx, b.ID, false)
	if err == nil {
		b.Message = &m
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// GetBatch returns a batch with its sectors and message.
func (s *Store) GetBatch(ctx context.Context, id int64) (Batch, error) {
	d := s.reader()
	b, err := d.getBatch(ctx, id, false)
	if err != nil {
		return Batch{}, err
	}
	if err := d.fillBatch(ctx, &b); err != nil {
		return Batch{}, err
	}
	return b, nil
}

// BatchHead is a batch without its sector list: what a poll answer needs.
type BatchHead struct {
	Batch
	// Size is the number of sectors in the batch.
	Size int `json:"size"`
}

// GetBatchHead returns a batch's row, its message and its sector count,
// without listing the sectors (Batch.Sectors is nil).
func (s *Store) GetBatchHead(ctx context.Context, id int64) (BatchHead, error) {
	d := s.reader()
	b, err := d.getBatch(ctx, id, false)
	if err != nil {
		return BatchHead{}, err
	}
	h := BatchHead{Batch: b}
	if err := d.queryRow(ctx, `SELECT COUNT(*) FROM sectors WHERE `+b.Kind.sectorCol()+` = ?`, b.ID).Scan(&h.Size); err != nil {
		return BatchHead{}, fmt.Errorf("store: batch %d size: %w", b.ID, err)
	}
	m, err := d.messageOf(ctx, b.ID, false)
	if err == nil {
		h.Message = &m
	} else if !errors.Is(err, ErrNotFound) {
		return BatchHead{}, err
	}
	return h, nil
}

// BatchFilter selects batches; zero fields match all.
type BatchFilter struct {
	TenantID string
	Kind     BatchKind
	States   []BatchState
}

// ListBatches returns batches matching f with their sectors and messages,
// oldest first.
func (s *Store) ListBatches(ctx context.Context, f BatchFilter) ([]Batch, error) {
	q := `SELECT ` + batchCols + ` FROM batches WHERE 1 = 1`
	var args []any
	if f.TenantID != "" {
		q += ` AND tenant_id = ?`
		args = append(args, f.TenantID)
	}
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, string(f.Kind))
	}
	if len(f.States) > 0 {
		q += ` AND state IN (` + placeholders(len(f.States)) + `)`
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	q += ` ORDER BY id`
	d := s.reader()
	rows, err := d.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list batches: %w", err)
	}
	var out []Batch
	for rows.Next() {
		b, err := scanBatch(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: list batches: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("store: list batches: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list batches: %w", err)
	}
	for i := range out {
		if err := d.fillBatch(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CloseBatch freezes an open batch: no sector joins it any more and the
// next AddToBatch opens a new one. Closing a closed batch is a no-op; a
// batch past closed is ErrConflict.
func (s *Store) CloseBatch(ctx context.Context, id int64, now time.Time) error {
	return s.tx(ctx, func(d db) error {
		b, err := d.getBatch(ctx, id, true)
		if err != nil {
			return err
		}
		switch b.State {
		case BatchClosed:
			return nil
		case BatchOpen:
		default:
			return fmt.Errorf("store: close batch %d: %s: %w", id, b.State, ErrConflict)
		}
		if _, err := d.exec(ctx, `UPDATE batches SET state = 'closed', closed_ms = ? WHERE id = ?`, ms(now), id); err != nil {
			return fmt.Errorf("store: close batch %d: %w", id, err)
		}
		return nil
	})
}
