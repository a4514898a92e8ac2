package store

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/sealant/sealant/proofs/abi"
)

// callsBackends runs fn on SQLite and (when configured) PostgreSQL.
func callsBackends(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, sqliteFactory(t)()) })
	t.Run("postgres", func(t *testing.T) { fn(t, pgFactory(t)(t)()) })
}

func b32(v byte) []byte { return bytes.Repeat([]byte{v}, 32) }

// TestWorkerSubmissions walks one sector through the submission calls
// and checks each answer and what it left in the store.
func TestWorkerSubmissions(t *testing.T) {
	callsBackends(t, func(t *testing.T, s *Store) {
		mustCreate(t, s, tenant("acme", 1000, 1))
		a := mustAlloc(t, s, "w/t0", t0)
		id := a.Sector.ID
		h := Holder{Now: t0}
		tk := Ticket{Value: b32(7), Epoch: 100}
		pc := Commitments{PreCommitInfo: PreCommitInfo{CommR: b32(1), CommD: b32(2), Ticket: tk}, CommC: "c1", CommRLast: "r1"}
		withC := func(f func(*Commitments)) Commitments { c := pc; f(&c); return c }

		if o, err := s.WorkerSubmitPreCommit(bg, id, h, pc, false); err != nil || o.Result != SubmitRefused || o.Reason != "no ticket assigned: call AssignTicket first" {
			t.Fatalf("precommit before the ticket: %+v, %v", o, err)
		}
		if _, ok, err := s.WorkerRandomness(bg, id, h, false, nil); err != nil || ok {
			t.Fatalf("look without a ticket: ok=%v, %v", ok, err)
		}
		if got, ok, err := s.WorkerRandomness(bg, id, h, false, &tk); err != nil || !ok || !bytes.Equal(got.Value, tk.Value) {
			t.Fatalf("store ticket: %+v %v %v", got, ok, err)
		}
		if got, _, err := s.WorkerRandomness(bg, id, h, false, &Ticket{Value: b32(8), Epoch: 101}); err != nil || got.Epoch != 100 {
			t.Fatalf("second ticket replaced the first: %+v, %v", got, err)
		}
		for _, step := range []struct {
			name    string
			c       Commitments
			requeue bool
			want    SubmitResult
			reason  string
			batched bool
		}{
			{"refused first", withC(func(c *Commitments) { c.Refusal = "ticket expired: old" }), false, SubmitRefused, "ticket expired: old", false},
			{"other ticket", withC(func(c *Commitments) { c.Ticket.Epoch = 99 }), false, SubmitMismatch, "m", false},
			{"accepted", pc, false, SubmitAccepted, "", true},
			{"repeat", pc, false, SubmitDuplicate, "", false},
			{"repeat after a failed batch", pc, true, SubmitDuplicate, "", true},
			{"refusal ignored on a repeat", withC(func(c *Commitments) { c.Refusal = "late" }), false, SubmitDuplicate, "", false},
			{"other comm_r", withC(func(c *Commitments) { c.CommR = b32(9) }), false, SubmitMismatch, "m", false},
			{"unparsable payload, even on a repeat", Commitments{Invalid: "comm_r: bad"}, false, SubmitRefused, "comm_r: bad", false},
			{"other comm_c", withC(func(c *Commitments) { c.CommC = "c2" }), false, SubmitMismatch, "comm_c or comm_r_last differ from the earlier submission", false},
		} {
			o, err := s.WorkerSubmitPreCommit(bg, id, h, step.c, step.requeue)
			reason := o.Reason
			if reason != "" && step.reason == "m" {
				reason = "m"
			}
			if err != nil || o.Result != step.want || reason != step.reason || (o.Batch != 0) != step.batched {
				t.Fatalf("%s: %+v, %v", step.name, o, err)
			}
		}
		sec, _ := s.GetSector(bg, id)
		if sec.CommC != "c1" || sec.CommRLast != "r1" || !bytes.Equal(sec.CommR, b32(1)) || sec.PreCommitBatch == 0 || sec.LastPreCommitBatch != sec.PreCommitBatch {
			t.Fatalf("after the precommit: %+v", sec)
		}

		proof := ProofSubmission{Proof: []byte("proof")}
		if o, err := s.WorkerSubmitProof(bg, id, h, proof, false); err != nil || o.Result != SubmitRefused {
			t.Fatalf("proof before the seed: %+v, %v", o, err)
		}
		if _, _, err := s.WorkerRandomness(bg, id, h, true, &Ticket{Value: b32(3), Epoch: 200}); err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct {
			name string
			p    []byte
			want SubmitResult
		}{{"accepted", []byte("proof"), SubmitAccepted}, {"repeat", []byte("proof"), SubmitDuplicate}, {"other", []byte("other"), SubmitMismatch}} {
			if o, err := s.WorkerSubmitProof(bg, id, h, ProofSubmission{Proof: step.p}, false); err != nil || o.Result != step.want {
				t.Fatalf("proof %s: %+v, %v", step.name, o, err)
			}
		}
		if p, _ := s.Proof(bg, id); string(p) != "proof" {
			t.Fatalf("stored proof %q", p)
		}
		if err := s.AbortSector(bg, id, "test", t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.WorkerSubmitPreCommit(bg, id, h, pc, false); !errors.Is(err, ErrSectorDone) {
			t.Fatalf("precommit on an aborted sector: %v", err)
		}
	})
}

// TestWorkerHolder: a refused holder changes nothing; an accepted one
// renews a lease that runs low, and only then.
func TestWorkerHolder(t *testing.T) {
	callsBackends(t, func(t *testing.T, s *Store) {
		mustCreate(t, s, tenant("acme", 1000, 1))
		a := mustAlloc(t, s, "w/t0", t0) // lease: t0 + 10 min
		id := a.Sector.ID
		refuse := errors.New("not yours")
		tk := Ticket{Value: b32(7), Epoch: 1}
		late := t0.Add(8 * time.Minute)
		if _, _, err := s.WorkerRandomness(bg, id, Holder{Now: late, TTL: 10 * time.Minute, Check: func(Sector) error { return refuse }}, false, &tk); !errors.Is(err, refuse) {
			t.Fatalf("refused holder: %v", err)
		}
		sec, _ := s.GetSector(bg, id)
		if sec.Ticket != nil || !sec.LeaseExpires.Equal(a.Sector.LeaseExpires) {
			t.Fatalf("refused call changed the sector: %+v", sec)
		}
		for _, tc := range []struct {
			now  time.Time
			want time.Time
		}{
			{t0.Add(time.Minute), a.Sector.LeaseExpires},        // 9 min left of 10: kept
			{late, late.Add(10 * time.Minute)},                  // 2 min left: renewed
			{late.Add(time.Minute), late.Add(10 * time.Minute)}, // 9 min left again: kept
		} {
			if _, _, err := s.WorkerRandomness(bg, id, Holder{Now: tc.now, TTL: 10 * time.Minute}, false, &tk); err != nil {
				t.Fatal(err)
			}
			sec, _ := s.GetSector(bg, id)
			if !sec.LeaseExpires.Equal(tc.want) {
				t.Fatalf("at %v: lease %v, want %v", tc.now, sec.LeaseExpires, tc.want)
			}
		}
	})
}

// TestWorkerAcquirePieces: pieces are taken first-fit with natural
// alignment, once; an NI-PoRep sector and an empty queue are CC.
func TestWorkerAcquirePieces(t *testing.T) {
	callsBackends(t, func(t *testing.T, s *Store) {
		ni := tenant("ni", 2000, 1)
		ni.ProofType = abi.StackedDrg2KiBV1_2_Feat_NiPoRep
		mustCreate(t, s, tenant("acme", 1000, 1), ni, tenant("cc", 3000, 1))
		q := []Piece{
			{CID: "p1", Size: 1024, PayloadSize: 1000, SourceURL: "http://x/1"},
			{CID: "p2", Size: 2048, PayloadSize: 2000, SourceURL: "http://x/2"}, // does not fit after p1
			{CID: "p3", Size: 512, PayloadSize: 500, SourceURL: "http://x/3"},
			{CID: "p4", Size: 1024, PayloadSize: 1000, SourceURL: "http://x/4"}, // no room left after p1, p3
		}
		if _, err := s.EnqueuePieces(bg, "acme", q, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EnqueuePieces(bg, "acme", []Piece{{CID: "bad", Size: 512, PayloadSize: 600, SourceURL: "u"}}, t0); !errors.Is(err, ErrInvalid) {
			t.Fatalf("payload above size accepted: %v", err)
		}
		a := mustAllocFor(t, s, "w/t0", "acme")
		tk := &Ticket{Value: b32(9), Epoch: 90}
		for round := range 2 {
			got, err := s.WorkerAcquirePieces(bg, a.Sector.ID, Holder{Now: t0}, tk)
			if err != nil || len(got) != 2 || got[0] != q[0] || got[1] != q[2] {
				t.Fatalf("round %d: pieces %+v, %v", round, got, err)
			}
		}
		// A data sector's ticket is drawn when the worker asks (its
		// AddPiece may take long); a CC sector's is stored with its pieces.
		if sec, err := s.GetSector(bg, a.Sector.ID); err != nil || sec.Ticket != nil || !sec.PiecesSet {
			t.Fatalf("data sector: ticket %+v, pieces set %v, %v", sec.Ticket, sec.PiecesSet, err)
		}
		cc := mustAllocFor(t, s, "w/t2", "cc")
		if _, err := s.WorkerAcquirePieces(bg, cc.Sector.ID, Holder{Now: t0}, &Ticket{Value: b32(8), Epoch: 80}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.WorkerAcquirePieces(bg, cc.Sector.ID, Holder{Now: t0}, tk); err != nil || len(got) != 0 {
			t.Fatalf("CC repeat: %+v, %v", got, err)
		}
		if sec, err := s.GetSector(bg, cc.Sector.ID); err != nil || sec.Ticket == nil || sec.Ticket.Epoch != 80 || !sec.PiecesSet {
			t.Fatalf("CC sector: ticket %+v (want the first, epoch 80), pieces set %v, %v", sec.Ticket, sec.PiecesSet, err)
		}
		if n, _ := s.QueuedPieces(bg, "acme"); n != 2 {
			t.Fatalf("queue left %d, want 2", n)
		}
		n := mustAllocFor(t, s, "w/t1", "ni")
		if got, err := s.WorkerAcquirePieces(bg, n.Sector.ID, Holder{Now: t0}, nil); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("NI sector pieces %+v, %v", got, err)
		}
	})
}

func mustAllocFor(t *testing.T, s *Store, worker, tenant string) Allocation {
	t.Helper()
	a, err := s.AllocateSector(bg, worker, AllocateFilter{Tenants: []string{tenant}}, t0, AllocatePolicy{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestWorkerFinalizeAndReport: a report is recorded once (a resend is
// not), bills its CPU seconds by history position, and says when the
// sector was aborted; finalizing records the files and opens the delivery.
func TestWorkerFinalizeAndReport(t *testing.T) {
	callsBackends(t, func(t *testing.T, s *Store) {
		mustCreate(t, s, tenant("acme", 1000, 1))
		a := mustAlloc(t, s, "w/t0", t0)
		id := a.Sector.ID
		h := Holder{Now: t0.Add(time.Second)}
		rep := StateReport{ID: id, Prev: "A", Next: "B", Event: "go"}
		bad := errors.New("stale")
		if _, err := s.WorkerReport(bg, h, rep, map[string]float64{"pc1": 5}, func(Sector) error { return bad }); !errors.Is(err, bad) {
			t.Fatalf("refused report: %v", err)
		}
		for i, want := range []bool{false, true} {
			out, err := s.WorkerReport(bg, h, rep, map[string]float64{"pc1": 5, "x": -1}, nil)
			if err != nil || out.Resend != want || out.Phase != PhaseActive {
				t.Fatalf("report %d: %+v, %v", i, out, err)
			}
		}
		hist, _ := s.SectorHistory(bg, id)
		if len(hist) != 2 || hist[1].Next != "B" || hist[1].WorkerID != "w/t0" {
			t.Fatalf("history %+v", hist)
		}
		use, _ := s.Usage(bg, t0, t0.Add(time.Hour))
		if len(use) != 1 || use[0].CPUSeconds["pc1"] != 5 || len(use[0].CPUSeconds) != 1 {
			t.Fatalf("usage %+v", use)
		}
		if _, _, err := s.WorkerFinalize(bg, id, h, "/persist", `[{"name":"f"}]`, "/store"); err != nil {
			t.Fatal(err)
		}
		sec, _ := s.GetSector(bg, id)
		d, err := s.GetDelivery(bg, id)
		if sec.Phase != PhaseFinalized || sec.Location != "/persist" || sec.Files != `[{"name":"f"}]` || err != nil || d.Target != "/store" {
			t.Fatalf("finalized: %+v, delivery %+v, %v", sec, d, err)
		}
		b := mustAlloc(t, s, "w/t1", t0)
		if err := s.WorkerAbort(bg, b.Sector.ID, h, "gave up"); err != nil {
			t.Fatal(err)
		}
		if out, err := s.WorkerReport(bg, h, StateReport{ID: b.Sector.ID, Prev: "B", Next: "C"}, nil, nil); err != nil || out.Phase != PhaseAborted || out.AbortReason != "gave up" {
			t.Fatalf("report on an aborted sector: %+v, %v", out, err)
		}
		if _, _, err := s.WorkerFinalize(bg, b.Sector.ID, h, "", "", ""); !errors.Is(err, ErrConflict) {
			t.Fatalf("finalize of an aborted sector: %v", err)
		}
	})
}
