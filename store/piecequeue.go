package store

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// The piece queue: pieces a tenant submitted, waiting for a data sector.
// A piece leaves the queue in the transaction that records it in a sector
// (takePieces), so it goes to exactly one sector even with several
// managers on one database.

// EnqueuePieces appends pieces to a tenant's queue, in order, and returns
// their queue ids. Each piece needs a CID, a size, a payload no larger
// than the size, and a source URL.
func (s *Store) EnqueuePieces(ctx context.Context, tenant string, pieces []Piece, now time.Time) ([]int64, error) {
	if tenant == "" {
		return nil, fmt.Errorf("store: queue pieces: empty tenant: %w", ErrInvalid)
	}
	for i, p := range pieces {
		if p.CID == "" || p.Size == 0 || p.Size > 1<<63-1 || p.PayloadSize > p.Size || p.SourceURL == "" {
			return nil, fmt.Errorf("store: queue pieces for tenant %q: piece %d: empty cid or url, or bad size: %w", tenant, i, ErrInvalid)
		}
	}
	ids := make([]int64, 0, len(pieces))
	err := s.tx(ctx, func(d db) error {
		ids = ids[:0]
		for _, p := range pieces {
			var id int64
			if err := d.queryRow(ctx, `INSERT INTO piece_queue (tenant_id, piece_cid, size, payload_size, source_url, created_ms)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, tenant, p.CID, int64(p.Size), int64(p.PayloadSize), p.SourceURL, ms(now)).Scan(&id); err != nil {
				return fmt.Errorf("store: queue piece for tenant %q: %w", tenant, err)
			}
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}

// QueuedPieces counts a tenant's waiting pieces ("" = all tenants).
func (s *Store) QueuedPieces(ctx context.Context, tenant string) (int64, error) {
	q, args := `SELECT COUNT(*) FROM piece_queue`, []any{}
	if tenant != "" {
		q, args = q+` WHERE tenant_id = ?`, append(args, tenant)
	}
	var n int64
	if err := s.reader().queryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: queued pieces: %w", err)
	}
	return n, nil
}

// maxQueueScan bounds the queued pieces one sector looks at.
const maxQueueScan = 256

// takePieces takes, first-fit in queue order, the tenant's queued pieces
// that fit a sector of sectorSize with natural alignment (each piece at an
// offset that is a multiple of its size, as the unsealed sector layout
// requires), and removes them from the queue. An empty queue gives none: a
// committed-capacity sector. On PostgreSQL pieces another transaction is
// taking are skipped rather than waited for. In a PostgreSQL group the
// queue's head may have been read and locked up front (queueHead).
func (d db) takePieces(ctx context.Context, tenant string, sectorSize uint64) ([]Piece, error) {
	var head *queueHead
	if d.group != nil {
		head = d.group.queues[tenant]
	}
	if head == nil || head.taken && !head.whole {
		// The limit is written in (see pieceHeadsQuery).
		q := `SELECT id, piece_cid, size, payload_size, source_url FROM piece_queue WHERE tenant_id = ? ORDER BY id LIMIT ` + strconv.Itoa(maxQueueScan)
		if d.s.dialect == dialectPostgres {
			q += ` FOR UPDATE SKIP LOCKED`
		}
		rows, err := d.query(ctx, q, tenant)
		if err != nil {
			return nil, fmt.Errorf("store: take pieces of tenant %q: %w", tenant, err)
		}
		head = &queueHead{}
		for rows.Next() {
			var c queuedPiece
			var size, payload int64
			if err := rows.Scan(&c.id, &c.p.CID, &size, &payload, &c.p.SourceURL); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: take pieces of tenant %q: %w", tenant, err)
			}
			c.p.Size, c.p.PayloadSize = uint64(size), uint64(payload)
			head.pieces = append(head.pieces, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: take pieces of tenant %q: %w", tenant, err)
		}
		head.whole = len(head.pieces) < maxQueueScan
		if d.group != nil {
			d.group.queues[tenant] = head
		}
	}
	var offset uint64
	picked := []Piece{}
	left := head.pieces[:0:0]
	for _, c := range head.pieces {
		start := alignUp(offset, c.p.Size)
		if start+c.p.Size > sectorSize {
			left = append(left, c)
			continue
		}
		if err := d.later(ctx, nil, `DELETE FROM piece_queue WHERE id = ?`, c.id); err != nil {
			return nil, fmt.Errorf("store: take pieces of tenant %q: %w", tenant, err)
		}
		picked = append(picked, c.p)
		offset = start + c.p.Size
	}
	head.pieces, head.taken = left, head.taken || len(picked) > 0
	return picked, nil
}

// queuedPiece is a piece in a tenant's queue.
type queuedPiece struct {
	id int64
	p  Piece
}

// queueHead is the head of a tenant's piece queue as a PostgreSQL group
// read and locked it, less what the group's calls took since. Later calls
// of the group take from it without reading again: pieces queued after
// the read go to the next sectors. When the read stopped at maxQueueScan
// pieces (not whole), what lies beyond is read again once some were taken.
type queueHead struct {
	pieces []queuedPiece
	whole  bool
	taken  bool
}

// alignUp rounds off up to a multiple of size.
func alignUp(off, size uint64) uint64 {
	if size == 0 {
		return off
	}
	return (off + size - 1) / size * size
}
