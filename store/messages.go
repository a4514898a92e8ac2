package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

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
