package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestPGGroup runs worker calls as one PostgreSQL group: a call's own
// error is its answer and the others commit; a failed statement aborts the
// transaction, and then every call runs alone with the same answers.
func TestPGGroup(t *testing.T) {
	s := pgFactory(t)(t)()
	mustCreate(t, s, tenant("acme", 1000, 1))
	ids := []SectorID{mustAlloc(t, s, "w/a", t0).Sector.ID, mustAlloc(t, s, "w/b", t0).Sector.ID}
	no := errors.New("no")
	for _, tc := range []struct {
		name   string
		middle func(db) error
		want   string
		alone  bool // the group fails and its calls run alone
	}{
		{"call error", func(db) error { return no }, "no", false},
		{"failed statement", func(d db) error {
			_, err := d.exec(bg, `SELECT no_such_column FROM sectors`)
			return err
		}, "no_such_column", true},
		// A kept write fails when it is sent, after its call has
		// answered nil; the group must still fail and run every call
		// alone, where the write fails in its own call.
		{"failed kept write", func(d db) error {
			return d.later(bg, nil, `UPDATE no_such_table SET x = 1`)
		}, "no_such_table", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ops []*groupOp
			for _, fn := range []func(db) error{
				func(d db) error { return d.setState(ids[0], tc.name) },
				tc.middle,
				func(d db) error { return d.setState(ids[1], tc.name) },
			} {
				ops = append(ops, &groupOp{ctx: bg, fn: fn, done: make(chan error, 1)})
			}
			before := s.GroupsRunAlone()
			runPGGroup(s, ops)
			if ran := s.GroupsRunAlone() - before; ran != map[bool]uint64{false: 0, true: 1}[tc.alone] {
				t.Errorf("groups run alone: %d more, want alone=%v", ran, tc.alone)
			}
			for i, op := range ops {
				err := <-op.done
				if i == 1 {
					if err == nil || !strings.Contains(err.Error(), tc.want) {
						t.Fatalf("middle call: %v, want %q", err, tc.want)
					}
				} else if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			for _, id := range ids {
				if sec, _ := s.GetSector(bg, id); sec.State != tc.name {
					t.Fatalf("sector %s state %q, want %q", id, sec.State, tc.name)
				}
			}
		})
	}
}

// TestPGGroupCommitRolledBack: a call that hides a failed statement
// leaves the transaction aborted, and its COMMIT then answers ROLLBACK
// without an error. The group must see that, not answer its calls as
// committed: they run alone, and the write of the call that did nothing
// wrong is kept.
func TestPGGroupCommitRolledBack(t *testing.T) {
	s := pgFactory(t)(t)()
	mustCreate(t, s, tenant("acme", 1000, 1))
	id := mustAlloc(t, s, "w/a", t0).Sector.ID
	ops := []*groupOp{
		{ctx: bg, done: make(chan error, 1), fn: func(d db) error {
			// Sent at once, not kept: the COMMIT goes alone.
			_, err := d.exec(bg, `UPDATE sectors SET state = 'kept' WHERE miner_id = ? AND number = ?`, int64(id.Miner), int64(id.Number))
			return err
		}},
		{ctx: bg, done: make(chan error, 1), fn: func(d db) error {
			_, _ = d.exec(bg, `SELECT no_such_column FROM sectors`)
			return nil
		}},
	}
	runPGGroup(s, ops)
	if err := <-ops[0].done; err != nil {
		t.Fatalf("first call: %v", err)
	}
	<-ops[1].done // alone, its own commit fails or not: not this test's point
	if sec, _ := s.GetSector(bg, id); sec.State != "kept" {
		t.Fatalf("sector state %q: the group answered a call whose write was rolled back", sec.State)
	}
}

// setState is a minimal worker-call write for the group tests, kept
// for later in a group as the worker calls' own updates are.
func (d db) setState(id SectorID, state string) error {
	return d.later(bg, &id, `UPDATE sectors SET state = ? WHERE miner_id = ? AND number = ?`, state, int64(id.Miner), int64(id.Number))
}

// TestPGGroupLockedRows: a group answers its calls' sector reads from the
// rows it locked up front until it writes them; a kept write is seen by
// the group's next read; byte columns survive the kept writes.
func TestPGGroupLockedRows(t *testing.T) {
	s := pgFactory(t)(t)()
	mustCreate(t, s, tenant("acme", 1000, 1))
	a, b := mustAlloc(t, s, "w/a", t0).Sector.ID, mustAlloc(t, s, "w/b", t0).Sector.ID
	ticket := []byte{0, '\\', '\'', 0xff, 'x', 0}
	ticket = append(ticket, make([]byte, 32-len(ticket))...)
	steps := []func(d db) error{
		func(d db) error {
			if len(d.group.rows) != 2 {
				return fmt.Errorf("%d rows locked up front, want 2", len(d.group.rows))
			}
			// Changed behind the group's back (no other writer could; this
			// shows where the next read comes from).
			if _, err := d.q.ExecContext(bg, `UPDATE sectors SET state = 'underneath' WHERE number = $1`, int64(a.Number)); err != nil {
				return err
			}
			sec, err := d.getSector(bg, a, true)
			if err != nil || sec.State != "" {
				return fmt.Errorf("read of a locked row: state %q, %v; want the row as locked", sec.State, err)
			}
			return d.writeSets(bg, a, sets{cols: []string{"state", "ticket", "ticket_epoch"}, args: []any{"written", ticket, int64(7)}})
		},
		func(d db) error {
			if len(d.group.kept) == 0 {
				return errors.New("the update was sent at once, not kept")
			}
			sec, err := d.getSector(bg, a, true)
			if err != nil || sec.State != "written" || sec.Ticket == nil || !bytes.Equal(sec.Ticket.Value, ticket) || sec.Ticket.Epoch != 7 {
				return fmt.Errorf("read after a kept write: %+v, %v", sec, err)
			}
			if _, err := d.exec(bg, `UPDATE sectors SET state = 'raw' WHERE miner_id = ? AND number = ?`, int64(b.Miner), int64(b.Number)); err != nil {
				return err
			}
			if len(d.group.rows) != 0 {
				return errors.New("a statement writing sectors left rows locked up front in use")
			}
			return nil
		},
	}
	var ops []*groupOp
	for i, fn := range steps {
		id := []SectorID{a, b}[i]
		ops = append(ops, &groupOp{ctx: bg, fn: fn, done: make(chan error, 1), sector: &id})
	}
	runPGGroup(s, ops)
	for i, op := range ops {
		if err := <-op.done; err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	sa, _ := s.GetSector(bg, a)
	sb, _ := s.GetSector(bg, b)
	if sa.State != "written" || sa.Ticket == nil || !bytes.Equal(sa.Ticket.Value, ticket) || sb.State != "raw" {
		t.Fatalf("committed: %q %v, %q", sa.State, sa.Ticket, sb.State)
	}
}

func TestWritesSectors(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want bool
	}{
		{"UPDATE sectors SET state = ? WHERE miner_id = ?", true},
		{"update\n\tsectors\n set x = 1", true},
		{"DELETE FROM sectors WHERE miner_id = ?", true},
		{"delete  from\nsectors where 1 = 1", true},
		{"UPDATE sector_counters SET next_number = ?", false},
		{"INSERT INTO sectors (miner_id) VALUES (?)", false},
		{"SELECT state FROM sectors WHERE miner_id = ? FOR UPDATE", false},
		{"DELETE FROM sector_pieces WHERE miner_id = ?", false},
	} {
		if got := writesSectors(tc.q); got != tc.want {
			t.Errorf("writesSectors(%q) = %v, want %v", tc.q, got, tc.want)
		}
	}
}

// TestPGGroupPieceHeads: a group reads and locks the heads of its calls'
// tenants' piece queues up front; its calls take from that head, never
// the same piece twice, and read beyond it again when the head stopped
// at maxQueueScan pieces.
func TestPGGroupPieceHeads(t *testing.T) {
	const sectorSize = 2048
	for _, tc := range []struct {
		name   string
		queued int    // pieces of pieceSize queued
		size   uint64 // bytes each
		want   []int  // pieces each call takes
	}{
		{"empty queue", 0, 128, []int{0, 0, 0}},
		{"short queue", 3, 1024, []int{2, 1, 0}},
		// 17 calls of 16 pieces outrun the head of 256 read up front.
		{"past the head", maxQueueScan + 20, 128, slices.Repeat([]int{16}, 17)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := pgFactory(t)(t)()
			mustCreate(t, s, tenant("acme", 1000, 1))
			var ps []Piece
			for i := range tc.queued {
				ps = append(ps, Piece{CID: fmt.Sprintf("piece-%d", i), Size: tc.size, PayloadSize: tc.size, SourceURL: "http://x/"})
			}
			if len(ps) > 0 {
				if _, err := s.EnqueuePieces(bg, "acme", ps, t0); err != nil {
					t.Fatal(err)
				}
			}
			id := mustAlloc(t, s, "w/a", t0).Sector.ID
			taken := make([][]Piece, len(tc.want))
			var ops []*groupOp
			for i := range tc.want {
				ops = append(ops, &groupOp{ctx: bg, done: make(chan error, 1), sector: &id, pieces: true, fn: func(d db) error {
					if i == 0 {
						head := d.group.queues["acme"]
						if head == nil || len(head.pieces) != min(tc.queued, maxQueueScan) {
							return fmt.Errorf("queue head read up front: %+v, want %d pieces", head, min(tc.queued, maxQueueScan))
						}
					}
					var err error
					taken[i], err = d.takePieces(bg, "acme", sectorSize)
					return err
				}})
			}
			runPGGroup(s, ops)
			seen := map[string]bool{}
			next := 0
			for i, op := range ops {
				if err := <-op.done; err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if len(taken[i]) != tc.want[i] {
					t.Fatalf("call %d took %d pieces, want %d", i, len(taken[i]), tc.want[i])
				}
				for _, p := range taken[i] {
					if seen[p.CID] || p.CID != fmt.Sprintf("piece-%d", next) {
						t.Fatalf("call %d took %s, want piece-%d (queue order, each once)", i, p.CID, next)
					}
					seen[p.CID] = true
					next++
				}
			}
			if n, err := s.QueuedPieces(bg, "acme"); err != nil || n != int64(tc.queued-next) {
				t.Fatalf("%d pieces left queued (%v), want %d", n, err, tc.queued-next)
			}
		})
	}
}
