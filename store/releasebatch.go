package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNonceGap is returned by ReleaseBatch when the batch holds a reserved
// nonce that is not its sender's highest: giving the batch up would leave
// a hole in the sender's nonces that nothing fills, so the batch must be
// sent as it is. It wraps ErrConflict.
var ErrNonceGap = fmt.Errorf("store: releasing the batch would leave a nonce gap: %w", ErrConflict)

// ReleaseBatch gives up an unsent batch and frees its sectors so that they
// can join other batches; reason says why (it is kept on the batch's
// message, if it has one). The batch becomes failed, in one transaction.
//
//   - An open or closed batch without a message is simply released.
//   - A batch whose message is reserved but was never pushed (pending or
//     signed) is released only if that message holds its sender's highest
//     reserved nonce: the message is failed and the nonce given back, so no
//     gap is left. Otherwise ErrNonceGap, and nothing changes.
//   - A batch whose message was pushed or landed is ErrConflict: the chain
//     decides what happens to it.
//
// Releasing a failed batch is a no-op (idempotent); a landed one is
// ErrConflict.
func (s *Store) ReleaseBatch(ctx context.Context, id int64, reason string, now time.Time) error {
	return s.tx(ctx, func(d db) error {
		b, err := d.getBatch(ctx, id, true)
		if err != nil {
			return err
		}
		switch b.State {
		case BatchFailed:
			return nil
		case BatchOpen, BatchClosed:
		default:
			return fmt.Errorf("store: release batch %d: %s: %w", id, b.State, ErrConflict)
		}
		m, err := d.messageOf(ctx, id, true)
		switch {
		case errors.Is(err, ErrNotFound):
			return d.finishBatch(ctx, id, BatchFailed, now)
		case err != nil:
			return err
		}
		switch m.State {
		case MsgPending, MsgSigned:
		case MsgFailed:
			return d.finishBatch(ctx, id, BatchFailed, now)
		default:
			return fmt.Errorf("store: release batch %d: message %d is %s: %w", id, m.ID, m.State, ErrConflict)
		}
		res, err := d.exec(ctx, `UPDATE sender_nonces SET next_nonce = ? WHERE address = ? AND next_nonce = ?`,
			int64(m.Nonce), m.From, int64(m.Nonce)+1)
		if err != nil {
			return fmt.Errorf("store: release batch %d: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: release batch %d: %w", id, err)
		} else if n != 1 {
			return fmt.Errorf("store: release batch %d: nonce %d of %s: %w", id, m.Nonce, m.From, ErrNonceGap)
		}
		if _, err := d.exec(ctx, `UPDATE messages SET state = 'failed', error = ?, updated_ms = ? WHERE id = ?`,
			reason, ms(now), m.ID); err != nil {
			return fmt.Errorf("store: release batch %d: %w", id, err)
		}
		return d.finishBatch(ctx, id, BatchFailed, now)
	})
}
