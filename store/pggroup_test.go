package store

import (
	"errors"
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
	}{
		{"call error", func(db) error { return no }, "no"},
		{"failed statement", func(d db) error {
			_, err := d.exec(bg, `SELECT no_such_column FROM sectors`)
			return err
		}, "no_such_column"},
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
			runPGGroup(s, ops)
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

// setState is a minimal worker-call write for the group tests.
func (d db) setState(id SectorID, state string) error {
	_, err := d.exec(bg, `UPDATE sectors SET state = ? WHERE miner_id = ? AND number = ?`, state, int64(id.Miner), int64(id.Number))
	return err
}
