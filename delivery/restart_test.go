package delivery

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http/httptest"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
)

// waitCommits waits until no background commit runs (tests only).
func (r *Receiver) waitCommits() {
	for {
		r.mu.Lock()
		var running []chan struct{}
		for _, s := range r.sectors {
			s.mu.Lock()
			for _, lf := range s.live {
				if lf.syncing {
					running = append(running, lf.syncDone)
				}
			}
			s.mu.Unlock()
		}
		r.mu.Unlock()
		if len(running) == 0 {
			return
		}
		for _, d := range running {
			<-d
		}
	}
}

// crash makes r forget everything it has not committed, as a killed
// process would, without committing anything (tests only). The written
// bytes stay in the files, as they stay in the page cache.
func (r *Receiver) crash() {
	r.waitCommits()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.sectors {
		s.mu.Lock()
		s.dropAll()
		s.mu.Unlock()
	}
	r.sectors = map[api.SectorID]*sectorSlot{}
}

// A receiver restarted mid-transfer continues from its committed record:
// after a clean stop (Run's Flush) everything acknowledged was committed
// and nothing is sent again; after a crash the bytes acknowledged but not
// committed are sent again — and only those — whatever the dead process
// left past the committed offset; after a crash with nothing committed
// the file starts over. Every case ends with the sector accepted, so the
// file is byte for byte right (whole-file SHA-256, TreeR_last rebuild).
func TestReceiverRestartResumes(t *testing.T) {
	const chunk = 512
	cases := []struct {
		name string
		// commitBytes of the first receiver; the second uses defaults.
		commitBytes int64
		crash       bool
		// garbage is written past the committed offset before the
		// restart (what an OS crash can leave in unsynced pages).
		garbage bool
		// wantCommitted is the first receiver's committed offset of the
		// sealed file after three chunks.
		wantCommitted int64
	}{
		{name: "clean stop", commitBytes: 1 << 30, wantCommitted: 3 * chunk},
		{name: "crash after a commit", commitBytes: 2 * chunk, crash: true, wantCommitted: 2 * chunk},
		{name: "crash with garbage past the commit", commitBytes: 2 * chunk, crash: true, garbage: true, wantCommitted: 2 * chunk},
		{name: "crash before any commit", commitBytes: 1 << 30, crash: true, wantCommitted: 0},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root, store := t.TempDir(), t.TempDir()
			chain := newFakeChain()
			start := func(commitBytes int64) (*Receiver, *httptest.Server, func()) {
				r, err := NewReceiver(ReceiverConfig{Root: root, Store: store, Secret: testSecret, Chain: chain,
					CommitBytes: commitBytes, CommitInterval: time.Hour})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- r.Run(ctx) }()
				srv := httptest.NewServer(r.Handler())
				return r, srv, func() {
					srv.Close()
					cancel()
					if err := <-done; err != nil {
						t.Errorf("run: %v", err)
					}
				}
			}
			s := newTestSector(t, 401+uint64(i))
			_, rec := sealed(t)
			chain.prove(s.id.Number, rec.CommR)
			tok := providerToken(t, "acme")
			c := testClient()
			c.ChunkSize = chunk

			r1, srv, stop := start(tc.commitBytes)
			ep := Endpoint{URL: srv.URL, Token: tok}
			if _, err := c.PushMetadata(context.Background(), ep, s.md); err != nil {
				t.Fatal(err)
			}
			sealedFile := s.files[0]
			f, err := os.Open(sealedFile.Path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ph := newPrefixHashes(f)
			for off := int64(0); off < 3*chunk; off += chunk {
				h, err := ph.at(context.Background(), off)
				if err != nil {
					t.Fatal(err)
				}
				var got api.ReceiverFile
				if _, err := c.putChunk(context.Background(), ep, s.id, sealedFile.Name, f, off, chunk, h, nil, &got); err != nil || got.Received != off+chunk {
					t.Fatalf("chunk at %d: %+v %v", off, got, err)
				}
			}
			// Acknowledged: the sender is told 3 chunks, whatever is
			// committed.
			st, err := c.Status(context.Background(), ep, s.id)
			if err != nil || st.Files[0].Received != 3*chunk {
				t.Fatalf("status before restart: %+v %v", st, err)
			}
			if tc.crash {
				r1.crash()
			}
			stop() // Run's Flush has nothing left to commit after a crash
			disk, _, err := LoadSector(root, s.id)
			if err != nil {
				t.Fatal(err)
			}
			committed := disk.Files[0].Received
			if committed != tc.wantCommitted {
				t.Fatalf("committed %d bytes of the sealed file, want %d", committed, tc.wantCommitted)
			}
			incoming := r1.incomingPath(s.id, sealedFile.Name)
			if fi, err := os.Stat(incoming); err != nil || fi.Size() != 3*chunk {
				t.Fatalf("the first receiver wrote %v bytes (%v), want %d", fi, err, 3*chunk)
			}
			if tc.garbage {
				junk := make([]byte, 3*chunk)
				for i := range junk {
					junk[i] = 0xa5
				}
				wf, err := os.OpenFile(incoming, os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := wf.WriteAt(junk, committed); err != nil {
					t.Fatal(err)
				}
				wf.Close()
			}

			r2, srv2, stop2 := start(0)
			defer stop2()
			ep2 := Endpoint{URL: srv2.URL, Token: tok}
			st, err = c.Status(context.Background(), ep2, s.id)
			if err != nil || st.Files[0].Received != committed {
				t.Fatalf("status after restart: %+v %v, want the committed %d", st, err, committed)
			}
			if err := c.Transfer(context.Background(), api.DeliveryTarget{ReceiverURL: srv2.URL, Token: tok}, s.id, s.files); err != nil {
				t.Fatal(err)
			}
			if sent, want := r2.BytesReceived(), totalSize(s.files)-committed; sent != want {
				t.Errorf("restarted receiver got %d bytes, want the %d not committed", sent, want)
			}
			acc, err := r2.SectorStatus(s.id)
			if err != nil || acc.State != api.DeliveryAccepted {
				t.Fatalf("status %+v %v", acc, err)
			}
		})
	}
}

// The commit policy: acknowledged progress is what the sender sees at
// once; the record on disk (what a restart resumes from) follows by
// CommitBytes, by CommitInterval once the upload pauses, at completion
// and at Flush.
func TestCommitPolicy(t *testing.T) {
	const chunk = 256
	cases := []struct {
		name           string
		commitBytes    int64
		commitInterval time.Duration
		flush          bool
		// wantOnDisk after 4 chunks of the sealed file (and the wait).
		wantOnDisk int64
	}{
		{name: "large: nothing committed yet", commitBytes: 1 << 30, commitInterval: time.Hour, wantOnDisk: 0},
		{name: "every chunk", commitBytes: chunk, commitInterval: time.Hour, wantOnDisk: 4 * chunk},
		{name: "every 3 chunks", commitBytes: 3 * chunk, commitInterval: time.Hour, wantOnDisk: 3 * chunk},
		{name: "flush", commitBytes: 1 << 30, commitInterval: time.Hour, flush: true, wantOnDisk: 4 * chunk},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *ReceiverConfig) { c.CommitBytes, c.CommitInterval = tc.commitBytes, tc.commitInterval })
			s := newTestSector(t, 501+uint64(i))
			_, rec := sealed(t)
			e.chain.prove(s.id.Number, rec.CommR)
			c := testClient()
			if _, err := c.PushMetadata(context.Background(), e.endpoint(), s.md); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(s.files[0].Path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ph := newPrefixHashes(f)
			for off := int64(0); off < 4*chunk; off += chunk {
				h, _ := ph.at(context.Background(), off)
				var got api.ReceiverFile
				if _, err := c.putChunk(context.Background(), e.endpoint(), s.id, s.files[0].Name, f, off, chunk, h, nil, &got); err != nil {
					t.Fatalf("chunk at %d: %v", off, err)
				}
				ph.keep(off+chunk, h)
			}
			e.r.waitCommits()
			if tc.flush {
				if err := e.r.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			st, err := c.Status(context.Background(), e.endpoint(), s.id)
			if err != nil || st.Files[0].Received != 4*chunk || st.State != api.DeliveryTransferring {
				t.Fatalf("status %+v %v: want 4 chunks acknowledged", st, err)
			}
			disk, _, err := LoadSector(e.root, s.id)
			if err != nil {
				t.Fatal(err)
			}
			if got := disk.Files[0].Received; got != tc.wantOnDisk {
				t.Errorf("record says %d bytes committed, want %d", got, tc.wantOnDisk)
			}
			// The rest completes; a complete file is always committed.
			if err := c.Transfer(context.Background(), e.target(), s.id, s.files); err != nil {
				t.Fatal(err)
			}
			disk, _, err = LoadSector(e.root, s.id)
			if err != nil || disk.State != api.DeliveryAccepted {
				t.Fatalf("record %+v %v", disk, err)
			}
		})
	}
}

// A paused upload is committed by the timer, without Flush or restart.
func TestCommitWhenPaused(t *testing.T) {
	e := newEnv(t, func(c *ReceiverConfig) { c.CommitBytes, c.CommitInterval = 1<<30, time.Millisecond })
	s := newTestSector(t, 521)
	c := testClient()
	e.onChain(t, s)
	if _, err := c.PushMetadata(context.Background(), e.endpoint(), s.md); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(s.files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got api.ReceiverFile
	if _, err := c.putChunk(context.Background(), e.endpoint(), s.id, s.files[0].Name, f, 0, 256, sha256.New(), nil, &got); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		disk, _, err := LoadSector(e.root, s.id)
		if err != nil {
			t.Fatal(err)
		}
		if disk.Files[0].Received == 256 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the paused upload was never committed: %+v", disk.Files[0])
		}
		time.Sleep(time.Millisecond)
	}
	// And the live state is gone: nothing holds the file open.
	e.r.waitCommits()
	sl := e.r.slot(s.id)
	for {
		sl.mu.Lock()
		n := len(sl.live)
		sl.mu.Unlock()
		if n == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("live state of a paused upload never dropped")
		}
		time.Sleep(time.Millisecond)
	}
}

// failSyncDisk fails the next fails fsyncs with err (tests only).
type failSyncDisk struct {
	mu    sync.Mutex
	fails int
	err   error
}

func (d *failSyncDisk) OpenFile(p string) (File, error) {
	f, err := OSDisk{}.OpenFile(p)
	if err != nil {
		return nil, err
	}
	return &failSyncFile{File: f, d: d}, nil
}

type failSyncFile struct {
	File
	d *failSyncDisk
}

func (f *failSyncFile) Sync() error {
	f.d.mu.Lock()
	fail := f.d.fails > 0
	if fail {
		f.d.fails--
	}
	f.d.mu.Unlock()
	if fail {
		return &os.PathError{Op: "fsync", Path: "x", Err: f.d.err}
	}
	return f.File.Sync()
}

// A commit whose fsync fails is rolled back: the file goes back to its
// last commit (unsynced pages cannot be trusted after a failed fsync), the
// sender is told and resumes from there, and the sector ends correct. Out
// of space is the clear ErrDiskFull, after which a new Transfer resumes;
// another I/O error is retried within the same Transfer.
func TestCommitFailureRollsBack(t *testing.T) {
	cases := []struct {
		name     string
		err      syscall.Errno
		diskFull bool
	}{
		{"no space at fsync", syscall.ENOSPC, true},
		{"I/O error at fsync", syscall.EIO, false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			disk := &failSyncDisk{fails: 1, err: tc.err}
			e := newEnv(t, func(c *ReceiverConfig) { c.Disk, c.CommitBytes, c.CommitInterval = disk, 512, time.Hour })
			s := newTestSector(t, 541+uint64(i))
			c := testClient()
			c.ChunkSize = 256
			err := e.deliver(t, s, c)
			if tc.diskFull {
				if !errors.Is(err, ErrDiskFull) {
					t.Fatalf("transfer: %v, want ErrDiskFull", err)
				}
				st, err := c.Status(context.Background(), e.endpoint(), s.id)
				if err != nil {
					t.Fatal(err)
				}
				// Rolled back to the last commit: nothing of the sealed
				// file, on the wire and on disk.
				if st.Files[0].Received != 0 {
					t.Errorf("after the failed commit the receiver says %d bytes", st.Files[0].Received)
				}
				if fi, err := os.Stat(e.r.incomingPath(s.id, s.files[0].Name)); err != nil || fi.Size() != 0 {
					t.Errorf("after the failed commit the file is %v (%v), want 0 bytes", fi, err)
				}
				err = c.Transfer(context.Background(), e.target(), s.id, s.files)
				if err != nil {
					t.Fatalf("after the disk recovered: %v", err)
				}
			} else if err != nil {
				t.Fatalf("transfer: %v", err)
			}
			if disk.fails != 0 {
				t.Fatal("the injected fsync failure never happened")
			}
			st, err := e.r.SectorStatus(s.id)
			if err != nil || st.State != api.DeliveryAccepted {
				t.Fatalf("status %+v %v", st, err)
			}
		})
	}
}
