package store

import (
	"testing"
)

func TestReleaseBatchSQLite(t *testing.T)   { testReleaseBatch(t, sqliteFactory) }
func TestReleaseBatchPostgres(t *testing.T) { testReleaseBatch(t, pgFactory(t)) }

// testReleaseBatch covers every batch and message state ReleaseBatch may
// meet: it frees the sectors of an unsent batch, gives back the highest
// reserved nonce, refuses to leave a nonce gap or to touch a pushed
// message, and is idempotent.
func testReleaseBatch(t *testing.T, newDB dbFactory) {
	s := newDB(t)()
	tn := tenant("acme", 1000, 1)
	tn.Batching.PreCommitBatchSize = 4 // batches of several sectors
	mustCreate(t, s, tn)
	ids := allocN(t, s, 6, "w")
	batchOf := func(ids ...SectorID) int64 {
		t.Helper()
		var bid int64
		for _, id := range ids {
			b, err := s.AddToBatch(bg, id, BatchPreCommit, t0)
			if err != nil {
				t.Fatal(err)
			}
			bid = b
		}
		if err := s.CloseBatch(bg, bid, t0); err != nil {
			t.Fatal(err)
		}
		return bid
	}
	freed := func(bid int64, members ...SectorID) {
		t.Helper()
		b, err := s.GetBatch(bg, bid)
		if err != nil || b.State != BatchFailed || len(b.Sectors) != 0 {
			t.Fatalf("released batch = %+v, %v", b, err)
		}
		for _, id := range members {
			if sec, _ := s.GetSector(bg, id); sec.PreCommitBatch != 0 {
				t.Fatalf("sector %s still in batch %d", id, sec.PreCommitBatch)
			}
		}
	}

	// An open batch without a message.
	open, err := s.AddToBatch(bg, ids[0], BatchPreCommit, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseBatch(bg, open, "empty", t0); err != nil {
		t.Fatal(err)
	}
	freed(open, ids[0])
	if err := s.ReleaseBatch(bg, open, "again", t0); err != nil {
		t.Fatalf("release twice: %v", err)
	}
	// A freed sector opens a new batch.
	again, err := s.AddToBatch(bg, ids[0], BatchPreCommit, t0)
	if err != nil || again == open {
		t.Fatalf("rejoin = %d, %v", again, err)
	}
	if err := s.ReleaseBatch(bg, again, "empty", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseBatch(bg, 1<<40, "missing", t0); err == nil {
		t.Fatal("released a batch that does not exist")
	}

	// Two closed batches with reserved nonces 7 and 8: 7 cannot go without
	// a gap; 8 can, and gives its nonce back.
	b1 := batchOf(ids[1], ids[2])
	b2 := batchOf(ids[3])
	m1, err := s.ReserveNonce(bg, b1, "f1sender", 7, t0)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := s.ReserveNonce(bg, b2, "f1sender", 0, t0)
	if err != nil || m2.Nonce != 8 {
		t.Fatalf("reserve = %+v, %v", m2, err)
	}
	wantErr(t, s.ReleaseBatch(bg, b1, "split", t0), ErrNonceGap)
	wantErr(t, s.ReleaseBatch(bg, b1, "split", t0), ErrConflict)
	if b, _ := s.GetBatch(bg, b1); b.State != BatchClosed || len(b.Sectors) != 2 || b.Message.State != MsgPending {
		t.Fatalf("refused release changed the batch: %+v", b)
	}
	if err := s.ReleaseBatch(bg, b2, "split", t0); err != nil {
		t.Fatal(err)
	}
	freed(b2, ids[3])
	if m, _ := s.GetMessage(bg, m2.ID); m.State != MsgFailed || m.Error != "split" {
		t.Fatalf("released message = %+v", m)
	}
	if n, _ := s.SenderNextNonce(bg, "f1sender"); n != 8 {
		t.Fatalf("next nonce = %d, want 8 (given back)", n)
	}
	// Now 7 is the highest: a signed (never pushed) message releases too.
	if _, err := s.SetMessageUnsigned(bg, m1.ID, []byte{0x8a, 1}, "bafyunsigned", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkMessageSigned(bg, m1.ID, "bafysigned", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseBatch(bg, b1, "signer refused", t0); err != nil {
		t.Fatal(err)
	}
	freed(b1, ids[1], ids[2])
	if n, _ := s.SenderNextNonce(bg, "f1sender"); n != 7 {
		t.Fatalf("next nonce = %d, want 7", n)
	}

	// A pushed message belongs to the chain.
	b3 := batchOf(ids[4])
	m3, err := s.ReserveNonce(bg, b3, "f1sender", 0, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetMessageUnsigned(bg, m3.ID, []byte{0x8a, 2}, "bafy3", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkMessagePushed(bg, m3.ID, t0); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.ReleaseBatch(bg, b3, "too late", t0), ErrConflict)
	if sec, _ := s.GetSector(bg, ids[4]); sec.PreCommitBatch != b3 {
		t.Fatalf("sector of a sent batch released: %+v", sec)
	}
}
