package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
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

// MessageState is a chain message's life. The order matters: a message
// only moves forward (pending → signed → pushed → landed), or to failed
// from any state before landed.
type MessageState string

// Message states.
const (
	// MsgPending: nonce reserved; unsigned bytes may or may not be stored.
	MsgPending MessageState = "pending"
	MsgSigned  MessageState = "signed"
	MsgPushed  MessageState = "pushed"
	// MsgLanded: executed on chain; ExitCode tells success.
	MsgLanded MessageState = "landed"
	// MsgFailed: abandoned before landing.
	MsgFailed MessageState = "failed"
)

func (s MessageState) rank() int {
	switch s {
	case MsgPending:
		return 0
	case MsgSigned:
		return 1
	case MsgPushed:
		return 2
	case MsgLanded:
		return 3
	}
	return 4
}

// Message is the chain message of a batch.
type Message struct {
	ID       int64  `json:"id"`
	BatchID  int64  `json:"batch_id"`
	TenantID string `json:"tenant_id"`
	From     string `json:"from"`
	Nonce    uint64 `json:"nonce"`
	// Unsigned is the message's CBOR, CID its CID; set once.
	Unsigned  []byte       `json:"unsigned,omitempty"`
	CID       string       `json:"cid,omitempty"`
	SignedCID string       `json:"signed_cid,omitempty"`
	State     MessageState `json:"state"`
	// ExitCode is set once landed.
	ExitCode  *int64    `json:"exit_code,omitempty"`
	Error     string    `json:"error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ChainCID is the CID the message has on chain: the signed message's CID
// if known (secp256k1), else the unsigned one (BLS).
func (m Message) ChainCID() string {
	if m.SignedCID != "" {
		return m.SignedCID
	}
	return m.CID
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
	ob := d.open[key]
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
		if d.open != nil {
			d.open[key] = ob
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
func (d db) lockOpenBatch(ctx context.Context, tenant string, kind BatchKind, now time.Time) (*openBatch, error) {
	t, err := scanTenant(d.queryRow(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, tenant))
	if err != nil {
		return nil, fmt.Errorf("tenant %q: %w", tenant, err)
	}
	ob := &openBatch{capacity: t.BatchCapacity(kind)}
	// Under READ COMMITTED (PostgreSQL) the INSERT can see another
	// transaction's open batch, which that transaction then closes before
	// our SELECT runs: the SELECT finds no open batch. Insert again in that
	// case; each round either creates the open batch or locks one that
	// exists.
	for attempt := 0; ; attempt++ {
		if _, err := d.exec(ctx, `INSERT INTO batches (tenant_id, kind, state, created_ms) VALUES (?, ?, 'open', ?)
			ON CONFLICT (tenant_id, kind) WHERE state = 'open' DO NOTHING`, tenant, string(kind), ms(now)); err != nil {
			return nil, err
		}
		err := d.queryRow(ctx, `SELECT id FROM batches WHERE tenant_id = ? AND kind = ? AND state = 'open'`+d.forUpdate(),
			tenant, string(kind)).Scan(&ob.id)
		if err == nil {
			break
		}
		if !errors.Is(err, sql.ErrNoRows) || attempt >= 16 {
			return nil, err
		}
	}
	// Locked, so the count cannot change under us.
	if err := d.queryRow(ctx, `SELECT COUNT(*) FROM sectors WHERE `+kind.sectorCol()+` = ?`, ob.id).Scan(&ob.members); err != nil {
		return nil, fmt.Errorf("count members of batch %d: %w", ob.id, err)
	}
	return ob, nil
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

const messageCols = `id, batch_id, tenant_id, from_addr, nonce, unsigned_msg, cid, signed_cid, state, exit_code, error, created_ms, updated_ms`

func scanMessage(sc interface{ Scan(...any) error }) (Message, error) {
	var (
		m                Message
		nonce            int64
		state            string
		exit             sql.NullInt64
		created, updated int64
	)
	if err := sc.Scan(&m.ID, &m.BatchID, &m.TenantID, &m.From, &nonce, &m.Unsigned, &m.CID, &m.SignedCID,
		&state, &exit, &m.Error, &created, &updated); err != nil {
		return Message{}, err
	}
	m.Nonce, m.State = uint64(nonce), MessageState(state)
	if exit.Valid {
		v := exit.Int64
		m.ExitCode = &v
	}
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
	return m, nil
}

func (d db) messageOf(ctx context.Context, batchID int64, lock bool) (Message, error) {
	q := `SELECT ` + messageCols + ` FROM messages WHERE batch_id = ?`
	if lock {
		q += d.forUpdate()
	}
	m, err := scanMessage(d.queryRow(ctx, q, batchID))
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, fmt.Errorf("store: message of batch %d: %w", batchID, ErrNotFound)
	}
	if err != nil {
		return Message{}, fmt.Errorf("store: message of batch %d: %w", batchID, err)
	}
	return m, nil
}

func (d db) getMessage(ctx context.Context, id int64, lock bool) (Message, error) {
	q := `SELECT ` + messageCols + ` FROM messages WHERE id = ?`
	if lock {
		q += d.forUpdate()
	}
	m, err := scanMessage(d.queryRow(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, fmt.Errorf("store: message %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Message{}, fmt.Errorf("store: get message %d: %w", id, err)
	}
	return m, nil
}

// GetMessage returns a message by id.
func (s *Store) GetMessage(ctx context.Context, id int64) (Message, error) {
	return s.reader().getMessage(ctx, id, false)
}

// UnfinishedMessages returns messages not yet landed or failed (pending,
// signed, pushed), oldest first: what a restarted manager must resume.
func (s *Store) UnfinishedMessages(ctx context.Context) ([]Message, error) {
	rows, err := s.reader().query(ctx, `SELECT `+messageCols+` FROM messages
		WHERE state IN ('pending', 'signed', 'pushed') ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: unfinished messages: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unfinished messages: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unfinished messages: %w", err)
	}
	return out, nil
}

// ReserveNonce gives a closed batch its message and reserves a nonce of
// sender from for it. It is idempotent: if the batch already has a live
// message, that message (same nonce) is returned, which is what makes a
// manager restart resume instead of sending twice. A different sender for
// an existing message is ErrConflict.
//
// The nonce is max(the sender's next stored nonce, chainNext), where
// chainNext is the chain's view (MpoolGetNonce), so nonces used outside the
// store are skipped. The sender row is locked for the transaction, so two
// managers never reserve the same nonce.
func (s *Store) ReserveNonce(ctx context.Context, batchID int64, from string, chainNext uint64, now time.Time) (Message, error) {
	if from == "" || chainNext > 1<<63-1 {
		return Message{}, fmt.Errorf("store: reserve nonce for batch %d: bad sender or nonce: %w", batchID, ErrInvalid)
	}
	var out Message
	err := s.tx(ctx, func(d db) error {
		b, err := d.getBatch(ctx, batchID, true)
		if err != nil {
			return err
		}
		m, err := d.messageOf(ctx, batchID, true)
		switch {
		case err == nil:
			if m.From != from {
				return fmt.Errorf("store: reserve nonce for batch %d: message already from %s, not %s: %w", batchID, m.From, from, ErrConflict)
			}
			out = m
			return nil
		case !errors.Is(err, ErrNotFound):
			return err
		}
		if b.State != BatchClosed {
			return fmt.Errorf("store: reserve nonce for batch %d: batch is %s, want closed: %w", batchID, b.State, ErrConflict)
		}
		if _, err := d.exec(ctx, `INSERT INTO sender_nonces (address, next_nonce) VALUES (?, 0)
			ON CONFLICT (address) DO NOTHING`, from); err != nil {
			return fmt.Errorf("store: reserve nonce for %s: %w", from, err)
		}
		var next int64
		if err := d.queryRow(ctx, `SELECT next_nonce FROM sender_nonces WHERE address = ?`+d.forUpdate(), from).Scan(&next); err != nil {
			return fmt.Errorf("store: reserve nonce for %s: %w", from, err)
		}
		next = max(next, int64(chainNext))
		if _, err := d.exec(ctx, `UPDATE sender_nonces SET next_nonce = ? WHERE address = ?`, next+1, from); err != nil {
			return fmt.Errorf("store: reserve nonce for %s: %w", from, err)
		}
		nowMS := ms(now)
		var id int64
		if err := d.queryRow(ctx, `INSERT INTO messages (batch_id, tenant_id, from_addr, nonce, state, created_ms, updated_ms)
			VALUES (?, ?, ?, ?, 'pending', ?, ?) RETURNING id`, batchID, b.TenantID, from, next, nowMS, nowMS).Scan(&id); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("store: reserve nonce %d for %s: already used: %w", next, from, ErrConflict)
			}
			return fmt.Errorf("store: reserve nonce for batch %d: %w", batchID, err)
		}
		out = Message{ID: id, BatchID: batchID, TenantID: b.TenantID, From: from, Nonce: uint64(next),
			State: MsgPending, CreatedAt: fromMS(nowMS), UpdatedAt: fromMS(nowMS)}
		return nil
	})
	return out, err
}

// SenderNextNonce returns the next nonce the store would reserve for addr
// before consulting the chain (0 for an unknown sender).
func (s *Store) SenderNextNonce(ctx context.Context, addr string) (uint64, error) {
	var n int64
	err := s.reader().queryRow(ctx, `SELECT next_nonce FROM sender_nonces WHERE address = ?`, addr).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: next nonce of %s: %w", addr, err)
	}
	return uint64(n), nil
}

// SetMessageUnsigned stores the unsigned message bytes and CID once. The
// same bytes again are accepted (a restart rebuilding the message); other
// bytes are ErrConflict, because the nonce is already bound to the first.
func (s *Store) SetMessageUnsigned(ctx context.Context, msgID int64, unsigned []byte, cid string, now time.Time) (Message, error) {
	if len(unsigned) == 0 || cid == "" {
		return Message{}, fmt.Errorf("store: set unsigned message %d: empty bytes or cid: %w", msgID, ErrInvalid)
	}
	return s.updateMessage(ctx, msgID, "set unsigned", func(d db, m *Message) error {
		if m.Unsigned != nil {
			if !bytes.Equal(m.Unsigned, unsigned) || m.CID != cid {
				return fmt.Errorf("store: set unsigned message %d: differs from stored: %w", msgID, ErrConflict)
			}
			return errNoChange
		}
		if m.State != MsgPending {
			return fmt.Errorf("store: set unsigned message %d: state %s: %w", msgID, m.State, ErrConflict)
		}
		m.Unsigned, m.CID = unsigned, cid
		_, err := d.exec(ctx, `UPDATE messages SET unsigned_msg = ?, cid = ?, updated_ms = ? WHERE id = ?`, unsigned, cid, ms(now), msgID)
		return err
	})
}

// errNoChange lets an updateMessage step report an idempotent no-op.
var errNoChange = errors.New("no change")

func (s *Store) updateMessage(ctx context.Context, msgID int64, what string, fn func(db, *Message) error) (Message, error) {
	var out Message
	err := s.tx(ctx, func(d db) error {
		m, err := d.getMessage(ctx, msgID, true)
		if err != nil {
			return err
		}
		if err := fn(d, &m); err != nil && !errors.Is(err, errNoChange) {
			if errors.Is(err, ErrConflict) || errors.Is(err, ErrInvalid) {
				return err
			}
			return fmt.Errorf("store: %s message %d: %w", what, msgID, err)
		}
		out = m
		return nil
	})
	if err != nil {
		return Message{}, err
	}
	return out, nil
}

// advance moves a message forward to state `to`. Already at or past `to`
// (and not failed) is a no-op; a failed message is ErrConflict.
func (d db) advance(ctx context.Context, m *Message, to MessageState, now time.Time, set string, args ...any) error {
	if m.State == MsgFailed {
		return fmt.Errorf("store: message %d is failed: %w", m.ID, ErrConflict)
	}
	if m.State.rank() >= to.rank() {
		return errNoChange
	}
	q := `UPDATE messages SET state = ?, updated_ms = ?`
	if set != "" {
		q += ", " + set
	}
	all := append([]any{string(to), ms(now)}, args...)
	all = append(all, m.ID)
	if _, err := d.exec(ctx, q+` WHERE id = ?`, all...); err != nil {
		return err
	}
	m.State = to
	return nil
}

// MarkMessageSigned records the signed message's CID. Idempotent; a
// different CID for an already signed message is ErrConflict.
func (s *Store) MarkMessageSigned(ctx context.Context, msgID int64, signedCID string, now time.Time) (Message, error) {
	return s.updateMessage(ctx, msgID, "mark signed", func(d db, m *Message) error {
		if m.Unsigned == nil {
			return fmt.Errorf("store: mark message %d signed: no unsigned bytes stored: %w", msgID, ErrConflict)
		}
		if m.SignedCID != "" && m.SignedCID != signedCID {
			return fmt.Errorf("store: mark message %d signed: cid %s differs from stored %s: %w", msgID, signedCID, m.SignedCID, ErrConflict)
		}
		if err := d.advance(ctx, m, MsgSigned, now, "signed_cid = ?", signedCID); err != nil {
			return err
		}
		m.SignedCID = signedCID
		return nil
	})
}

// MarkMessagePushed records that the message is in the mempool: the batch
// becomes sent and its sectors learn the message CID. Idempotent.
func (s *Store) MarkMessagePushed(ctx context.Context, msgID int64, now time.Time) (Message, error) {
	return s.updateMessage(ctx, msgID, "mark pushed", func(d db, m *Message) error {
		if m.Unsigned == nil {
			return fmt.Errorf("store: mark message %d pushed: no unsigned bytes stored: %w", msgID, ErrConflict)
		}
		if err := d.advance(ctx, m, MsgPushed, now, ""); err != nil {
			return err
		}
		b, err := d.getBatch(ctx, m.BatchID, true)
		if err != nil {
			return err
		}
		if _, err := d.exec(ctx, `UPDATE batches SET state = 'sent' WHERE id = ?`, b.ID); err != nil {
			return err
		}
		_, err = d.exec(ctx, `UPDATE sectors SET `+b.Kind.msgCol()+` = ? WHERE `+b.Kind.sectorCol()+` = ?`, m.ChainCID(), b.ID)
		return err
	})
}

// MarkMessageLanded records execution on chain. Exit code 0 makes the batch
// landed; any other code makes it failed and releases its sectors so they
// can be batched again. Idempotent; a different exit code for a landed
// message is ErrConflict.
func (s *Store) MarkMessageLanded(ctx context.Context, msgID int64, exitCode int64, now time.Time) (Message, error) {
	return s.updateMessage(ctx, msgID, "mark landed", func(d db, m *Message) error {
		if m.State == MsgLanded {
			if m.ExitCode != nil && *m.ExitCode != exitCode {
				return fmt.Errorf("store: mark message %d landed: exit code %d, stored %d: %w", msgID, exitCode, *m.ExitCode, ErrConflict)
			}
			return errNoChange
		}
		if m.State != MsgPushed {
			return fmt.Errorf("store: mark message %d landed: state %s, want pushed: %w", msgID, m.State, ErrConflict)
		}
		if err := d.advance(ctx, m, MsgLanded, now, "exit_code = ?", exitCode); err != nil {
			return err
		}
		m.ExitCode = &exitCode
		state := BatchLanded
		if exitCode != 0 {
			state = BatchFailed
		}
		return d.finishBatch(ctx, m.BatchID, state, now)
	})
}

// MarkMessageFailed abandons a message that will not land (rejected by the
// mempool, replaced, operator decision): the batch fails and releases its
// sectors. If the message was never pushed and holds the sender's highest
// reserved nonce, the nonce is given back, so no nonce gap is left behind.
// Idempotent; a landed message is ErrConflict.
func (s *Store) MarkMessageFailed(ctx context.Context, msgID int64, reason string, now time.Time) (Message, error) {
	return s.updateMessage(ctx, msgID, "mark failed", func(d db, m *Message) error {
		switch m.State {
		case MsgFailed:
			return errNoChange
		case MsgLanded:
			return fmt.Errorf("store: mark message %d failed: landed: %w", msgID, ErrConflict)
		}
		pushed := m.State == MsgPushed
		if _, err := d.exec(ctx, `UPDATE messages SET state = 'failed', error = ?, updated_ms = ? WHERE id = ?`, reason, ms(now), msgID); err != nil {
			return err
		}
		m.State, m.Error = MsgFailed, reason
		if !pushed {
			if _, err := d.exec(ctx, `UPDATE sender_nonces SET next_nonce = ? WHERE address = ? AND next_nonce = ?`,
				int64(m.Nonce), m.From, int64(m.Nonce)+1); err != nil {
				return err
			}
		}
		return d.finishBatch(ctx, m.BatchID, BatchFailed, now)
	})
}

func (d db) finishBatch(ctx context.Context, batchID int64, state BatchState, now time.Time) error {
	b, err := d.getBatch(ctx, batchID, true)
	if err != nil {
		return err
	}
	if _, err := d.exec(ctx, `UPDATE batches SET state = ?, done_ms = ? WHERE id = ?`, string(state), ms(now), batchID); err != nil {
		return err
	}
	if state == BatchFailed {
		_, err = d.exec(ctx, `UPDATE sectors SET `+b.Kind.sectorCol()+` = NULL, `+b.Kind.msgCol()+` = '' WHERE `+b.Kind.sectorCol()+` = ?`, batchID)
		return err
	}
	return nil
}
