package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Fewer round trips for a PostgreSQL group (pggroup.go).
//
// A lane runs its group's calls one after another, so what bounds a lane
// is the sum of its calls' round trips to the server. On a busy machine a
// round trip is not the server's work but the wait for both processes to
// be scheduled again, and each call made two or three of them (lock the
// sector row, update it, append its history), besides the group's BEGIN
// and COMMIT. A group therefore
//
//   - begins its transaction and locks the rows of all its calls' sectors
//     up front, in key order, in one round trip (BEGIN and the locking
//     SELECT sent as one pgx pipeline), and answers each call's lock of
//     its sector from what that statement returned (no one else can
//     change a locked row, and a row this transaction writes is read
//     again); in the same round trip it reads and locks the head of the
//     piece queue of each tenant whose calls take pieces (queueHead);
//   - keeps the writes whose result a call does not look at (the sector's
//     UPDATE, its history and usage lines) and sends them all in one
//     round trip before the next statement that reads, and at the end
//     together with its COMMIT.
//
// So a group whose calls read nothing beyond their sector rows and piece
// queues costs two round trips, whatever its size. The transaction is
// begun and ended by hand on a connection the group holds (database/sql's
// Tx would send BEGIN and COMMIT on their own).
//
// The kept writes are sent as one pgx pipeline of prepared statements,
// and at the end with COMMIT, in one round trip. They used to be one
// simple-protocol message with their arguments quoted in: PostgreSQL then
// parsed and planned every statement of every group, which was a fifth of
// its CPU time while 10,000 threads started (perf, PostgreSQL 15); a
// prepared statement is parsed once per connection and keeps its plan.
// pgx prepares each statement shape on first use on a connection, in a
// round trip of its own, so kept writes keep few shapes (insertLater). A
// kept write that fails aborts the transaction (PostgreSQL skips the rest
// of the pipeline, COMMIT included), and the group then runs every call
// again alone (runGroupTx), so it does not matter which call sees the
// error.

// pgGroup is what a PostgreSQL group's transaction holds besides the
// transaction itself.
type pgGroup struct {
	// rows are sectors locked up front, as read; a sector is dropped when
	// this transaction writes it.
	rows map[SectorID]Sector
	// conn is the connection the group's transaction runs on.
	conn *sql.Conn
	// kept are the kept writes, in order; keptArgs counts their
	// arguments.
	kept     []keptWrite
	keptArgs int
	// open remembers the open batches this transaction has locked: no one
	// else can close or join them before it commits, so later calls of the
	// group need not find, count or size them again.
	open map[openKey]*openBatch
	// queues holds the heads of the tenants' piece queues this
	// transaction read and locked (takePieces).
	queues map[string]*queueHead
	// err is the first failed send of kept writes: the group cannot
	// commit (a read that could not report it fails on the aborted
	// transaction, or the group ends on it).
	err error
}

// keptWrite is one kept write: its statement, placeholders numbered,
// and its arguments.
type keptWrite struct {
	sql  string
	args []any
}

func newPGGroup(conn *sql.Conn) *pgGroup {
	return &pgGroup{conn: conn, rows: map[SectorID]Sector{}, open: map[openKey]*openBatch{}, queues: map[string]*queueHead{}}
}

// maxKeptArgs bounds the arguments of the kept writes; more are sent
// first, so one pipeline stays a reasonable size.
const maxKeptArgs = 4096

// later runs a write whose result the caller does not need: in a
// PostgreSQL group it is kept and sent with the others (see above),
// elsewhere it runs now. sector, when set, is the sector row the write
// changes.
func (d db) later(ctx context.Context, sector *SectorID, q string, args ...any) error {
	g := d.group
	if g == nil {
		_, err := d.exec(ctx, q, args...)
		return err
	}
	switch {
	case sector != nil:
		delete(g.rows, *sector)
	case writesSectors(q):
		clear(g.rows)
	}
	// The arguments are copied: the caller's slice may share an array
	// it goes on using.
	g.kept = append(g.kept, keptWrite{sql: d.s.rebind(q), args: slices.Clone(args)})
	g.keptArgs += len(args)
	if g.keptArgs >= maxKeptArgs {
		return d.flush(ctx)
	}
	return nil
}

// flush sends the kept writes, if any.
func (d db) flush(ctx context.Context) error {
	g := d.group
	if g == nil {
		return nil
	}
	if g.err == nil && len(g.kept) > 0 {
		if _, err := g.send(ctx, ""); err != nil {
			g.err = fmt.Errorf("store: kept writes: %w", err)
		}
	}
	return g.err
}

// send sends the kept writes, followed by last unless it is "", as one
// pipeline, and empties them; it returns last's command tag.
func (g *pgGroup) send(ctx context.Context, last string) (tag string, err error) {
	var more []keptWrite
	if last != "" {
		more = []keptWrite{{sql: last}}
	}
	err = g.sendWith(ctx, more, func(res pgx.BatchResults) error {
		if last == "" {
			return nil
		}
		t, err := res.Exec()
		tag = t.String()
		return err
	})
	return tag, err
}

// sendWith sends the kept writes followed by the statements more as one
// pipeline, and empties the kept writes; read reads more's results, in
// order, once every kept write succeeded.
func (g *pgGroup) sendWith(ctx context.Context, more []keptWrite, read func(pgx.BatchResults) error) error {
	var b pgx.Batch
	for _, w := range g.kept {
		b.Queue(w.sql, w.args...)
	}
	for _, w := range more {
		b.Queue(w.sql, w.args...)
	}
	n := len(g.kept)
	g.kept, g.keptArgs = nil, 0
	return withPGX(g.conn, func(pc *pgx.Conn) error {
		res := pc.SendBatch(ctx, &b)
		var err error
		for range n {
			if _, err = res.Exec(); err != nil {
				break
			}
		}
		if err == nil {
			err = read(res)
		}
		if cerr := res.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// before readies d for a statement of its own: the kept writes go first,
// and a statement that changes sector rows drops every row locked up
// front (which ones it changes is not known here).
func (d db) before(ctx context.Context, q string) error {
	g := d.group
	if g == nil {
		return nil
	}
	if err := d.flush(ctx); err != nil {
		return err
	}
	if len(g.rows) > 0 && writesSectors(q) {
		clear(g.rows)
	}
	return nil
}

// writesSectors reports whether q may change rows of the sectors table
// (an UPDATE or DELETE naming it; whitespace and case do not matter).
func writesSectors(q string) bool {
	// Reads are most statements; only an UPDATE or DELETE is split.
	head := strings.TrimLeft(q, " \t\r\n")
	if len(head) < 6 || !strings.EqualFold(head[:6], "update") && !strings.EqualFold(head[:6], "delete") {
		return false
	}
	words := strings.Fields(strings.ToLower(q))
	for i := 0; i+1 < len(words); i++ {
		switch {
		case words[i] == "update" && words[i+1] == "sectors",
			words[i] == "delete" && i+2 < len(words) && words[i+1] == "from" && words[i+2] == "sectors":
			return true
		}
	}
	return false
}

// groupLocks is what a group locks up front.
type groupLocks struct {
	// sectors are its calls' sectors.
	sectors []SectorID
	// pieceMiners are the miners whose tenants' piece queues its calls
	// take from.
	pieceMiners []int64
}

// pieceHeadsQuery reads and locks the heads of the piece queues of the
// tenants of n miners (its arguments: the miners, padded with noKey), up
// to maxQueueScan pieces each; a tenant whose queue is empty (or all
// taken by others) has one row with no piece. The miners are a VALUES
// list of a power-of-two length and the limit is written in, not a
// parameter, so that PostgreSQL keeps the statement's generic plan: with
// an array of miners, or an unknown limit, the generic plan looked
// dearer than a custom one, and the statement was planned again on every
// use (1,926 plans for 1,910 uses while 10,000 threads started).
func pieceHeadsQuery(n int) string { return pieceHeadsSQL.get(n) }

var pieceHeadsSQL = newSizedSQL(func(n int) string {
	return `SELECT t.id, q.id, q.piece_cid, q.size, q.payload_size, q.source_url
	FROM (VALUES ` + rowList("(?::bigint)", n) + `) AS m(miner_id)
	JOIN tenants t ON t.miner_id = m.miner_id
	LEFT JOIN LATERAL (
		SELECT p.id, p.piece_cid, p.size, p.payload_size, p.source_url FROM piece_queue p
		WHERE p.tenant_id = t.id ORDER BY p.id LIMIT ` + strconv.Itoa(maxQueueScan) + ` FOR UPDATE SKIP LOCKED) q ON true
	ORDER BY t.id, q.id`
})

// beginGroup begins a group's transaction on conn (READ COMMITTED,
// whatever the server's default: each statement must see what others
// committed before the locks it waited for were released; allocgroup.go
// counts under the tenants' locks) and takes lock's locks, keeping what
// they read for the group's calls: the sectors' rows, in key order so
// that two groups lock shared rows in the same order, then the heads of
// the piece queues (queueHead; skipping pieces others hold, so no group
// waits for another here). All of it is one round trip.
func (d db) beginGroup(ctx context.Context, conn *sql.Conn, lock groupLocks) error {
	var b pgx.Batch
	b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
	sorted := inKeyOrder(lock.sectors)
	if len(sorted) > 0 {
		q, args := d.sectorsQuery(sorted, true)
		b.Queue(d.s.rebind(q), args...)
	}
	miners := slices.Clone(lock.pieceMiners)
	slices.Sort(miners)
	miners = slices.Compact(miners)
	if len(miners) > 0 {
		args, n := padKeys(miners, 1)
		b.Queue(d.s.rebind(pieceHeadsQuery(n)), args...)
	}
	err := withPGX(conn, func(pc *pgx.Conn) error {
		res := pc.SendBatch(ctx, &b)
		err := d.readGroupLocks(res, len(sorted), len(miners) > 0)
		if cerr := res.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: begin a group and take its locks: %w", err)
	}
	return nil
}

// readGroupLocks reads beginGroup's results into the group: the rows of
// sectors sectors, then, when asked, the piece queues' heads.
func (d db) readGroupLocks(res pgx.BatchResults, sectors int, pieces bool) error {
	if _, err := res.Exec(); err != nil {
		return err
	}
	if sectors > 0 {
		rows, err := res.Query()
		if err != nil {
			return err
		}
		got, err := scanSectors(rows, sectors)
		rows.Close()
		if err != nil {
			return err
		}
		maps.Copy(d.group.rows, got)
	}
	if !pieces {
		return nil
	}
	rows, err := res.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		// The piece's columns are NULL together: a tenant with none.
		var (
			tenant        string
			id            sql.NullInt64
			cid, url      sql.NullString
			size, payload sql.NullInt64
		)
		if err := rows.Scan(&tenant, &id, &cid, &size, &payload, &url); err != nil {
			return err
		}
		head := d.group.queues[tenant]
		if head == nil {
			head = &queueHead{}
			d.group.queues[tenant] = head
		}
		if id.Valid {
			head.pieces = append(head.pieces, queuedPiece{id: id.Int64, p: Piece{CID: cid.String, Size: uint64(size.Int64), PayloadSize: uint64(payload.Int64), SourceURL: url.String}})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, head := range d.group.queues {
		head.whole = len(head.pieces) < maxQueueScan
	}
	return nil
}

// commitGroup sends the kept writes and COMMIT in one round trip, and
// checks that the transaction did commit (COMMIT in a failed transaction
// answers ROLLBACK, without an error).
func (d db) commitGroup(ctx context.Context) error {
	g := d.group
	if g.err != nil {
		return g.err
	}
	tag, err := g.send(ctx, "COMMIT")
	if err == nil && tag != "COMMIT" {
		err = fmt.Errorf("the transaction was rolled back (%s)", tag)
	}
	if err != nil {
		return fmt.Errorf("store: commit a group: %w", err)
	}
	return nil
}

// withPGX runs fn on conn's pgx connection (the store's PostgreSQL
// driver is pgx's database/sql driver).
func withPGX(conn *sql.Conn, fn func(*pgx.Conn) error) error {
	return conn.Raw(func(dc any) error {
		pc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: a PostgreSQL group needs a pgx connection, not %T", dc)
		}
		return fn(pc.Conn())
	})
}

// abortGroup rolls back a group's transaction and gives its connection
// back to the pool; a connection whose state is not known is closed.
func abortGroup(conn *sql.Conn) {
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = conn.Close()
}
