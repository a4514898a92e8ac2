package delivery

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sealant/sealant/api"
)

// The receiving side of chunk uploads.
//
// Durability is by commit, not per chunk. A chunk is acknowledged once it
// is written (page cache) and its prefix digest matched; its progress
// lives in the sector slot (liveFile). A commit — fsync of the file, then
// the offset and the whole-file hash state saved in the record — starts
// when CommitBytes are pending or the oldest pending byte is
// CommitInterval old (checked at each chunk end), runs in the background
// while later chunks arrive, and is waited for when a file completes
// (whose commit is synchronous: a complete file is durable before it is
// reported complete), when an upload pauses (timer), before the record is
// otherwise rewritten, and when Run stops (Flush). While a commit runs,
// at most CommitBytes more are acknowledged before the next chunk waits
// for it, which bounds uncommitted data and slows a sender to the disk's
// pace.
//
// Why: fsync guards only against an OS crash or power loss (a process
// crash keeps written data in the page cache), and a device flush costs
// tens of milliseconds whatever its size; syncing every 8 MiB chunk put
// that latency in every chunk's round trip, and syncing in the request
// path at all stalls the network while the disk flushes. The in-memory
// offset is lost with the process, so a restarted receiver resumes at the
// committed offset and truncates what lies beyond: after a receiver crash
// at most about 2×CommitBytes are sent again, after a network cut nothing.
//
// Ownership: a chunk request owns its file (uploading[name]) from the
// offset check to its answer, and only the owner writes, truncates or
// rolls back. A background commit only fsyncs (concurrent with writes
// past its offset, which is safe) and then updates the record under the
// slot lock; if it fails it leaves the error for the next owner, who rolls
// the file back to the committed offset — after a failed fsync the
// unsynced pages cannot be trusted — and the sender resumes from there.
// The timer and Flush act only under the slot lock on files with no chunk
// and no commit running.

// liveFile is a file's acknowledged progress beyond its record.
type liveFile struct {
	// file is the record's file this state extends; a record reset or
	// replaced since (new metadata, rejection) makes the state stale.
	file api.SectorFile
	// committed is the record's Received: durable. acked ≥ committed is
	// what the sender was told.
	committed, acked int64
	// hash is the SHA-256 of the file's first acked bytes.
	hash hash.Hash
	// f is the open file: chunks are written and commits fsync through
	// the same descriptor, so a writeback error cannot escape them.
	f File
	// dirtySince is when the oldest byte no commit covers yet was
	// acknowledged (zero: none).
	dirtySince time.Time
	// timer commits and forgets the state once the upload pauses.
	timer *time.Timer
	// syncing: a background commit of the first syncTo bytes runs;
	// syncDone is closed when it ends.
	syncing  bool
	syncTo   int64
	syncDone chan struct{}
	// syncErr is a failed background commit's error, for the next owner.
	syncErr error
	// dropped: forgotten while syncing; the commit closes f.
	dropped bool
}

func (lf *liveFile) dirty() bool { return lf.acked > lf.committed }

// covered is how far the committed or committing bytes reach.
func (lf *liveFile) covered() int64 {
	if lf.syncing {
		return lf.syncTo
	}
	return lf.committed
}

// current returns f's live state if it still extends the record, dropping
// a stale one. Called with s.mu held.
func (s *sectorSlot) current(f *fileRecord) *liveFile {
	lf := s.live[f.Name]
	if lf == nil {
		return nil
	}
	if f.Complete || lf.file != f.SectorFile || lf.committed != f.Received {
		s.drop(f.Name, lf)
		return nil
	}
	return lf
}

// drop forgets a live state and closes its file, or has its running
// commit close it (s.mu held).
func (s *sectorSlot) drop(name string, lf *liveFile) {
	if s.live[name] == lf {
		delete(s.live, name)
	}
	if lf.timer != nil {
		s.bg.stop(lf.timer)
		lf.timer = nil
	}
	if lf.syncing {
		lf.dropped = true
		return
	}
	if lf.f != nil {
		_ = lf.f.Close()
		lf.f = nil
	}
}

// dropAll forgets every live state of the sector (s.mu held), when its
// record is replaced or rejected.
func (s *sectorSlot) dropAll() {
	for name, lf := range s.live {
		s.drop(name, lf)
	}
}

// acked is what the sender may rely on for f (s.mu held).
func (s *sectorSlot) acked(f *fileRecord) int64 {
	if lf := s.current(f); lf != nil && lf.syncErr == nil {
		return lf.acked
	}
	return f.Received
}

// view is the record's public form with acknowledged progress (s.mu held).
func (s *sectorSlot) view(rec *sectorRecord) api.ReceiverSector {
	pub := rec.public()
	for i := range pub.Files {
		if a := s.acked(&rec.Files[i]); a != pub.Files[i].Received {
			pub.Files[i].Received = a
			if pub.State == api.DeliveryPending {
				pub.State = api.DeliveryTransferring
			}
		}
	}
	return pub
}

func (s *sectorSlot) fileView(f *fileRecord) *api.ReceiverFile {
	if f == nil {
		return nil
	}
	p := f.public()
	p.Received = s.acked(f)
	return &p
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// putChunk receives one chunk: it must start exactly at the file's
// acknowledged offset. The body is streamed to disk through the running
// whole-file SHA-256, and acknowledged only if the digest of the file's
// prefix it ends matches the sender's; a refused or cut chunk is
// truncated away, so the file always ends at an acknowledged chunk
// boundary.
func (r *Receiver) putChunk(w http.ResponseWriter, req *http.Request, provider string, id api.SectorID) error {
	if v := req.Header.Get(ProtocolHeader); v != ProtocolVersion {
		if v == "" {
			v = "0"
		}
		// ErrInvalid: a code older clients know, and final for them.
		return fmt.Errorf("%w: %w: the chunk uses delivery protocol %s, this receiver speaks %s (%s): upgrade the provider's sealant",
			ErrInvalid, ErrProtocol, v, ProtocolVersion, PrefixSHAHeader)
	}
	q := req.URL.Query()
	name := q.Get("file")
	offset, err1 := strconv.ParseInt(q.Get("offset"), 10, 64)
	length, err2 := strconv.ParseInt(q.Get("length"), 10, 64)
	if name == "" || err1 != nil || err2 != nil || offset < 0 || length <= 0 || length > MaxChunkSize {
		return fmt.Errorf("%w: chunk needs file, offset ≥ 0 and 0 < length ≤ %d", ErrInvalid, MaxChunkSize)
	}
	s := r.slot(id)
	s.mu.Lock()
	rec, err := r.record(id, provider)
	if err == nil && rec == nil {
		err = fmt.Errorf("%w: sector %s", ErrNoMetadata, id)
	}
	var f *fileRecord
	var lf *liveFile
	if err == nil {
		f = rec.file(name)
		if f != nil && !s.uploading[name] {
			// No chunk of it runs, so this request may act as its owner:
			// a failed background commit is rolled back here, and the
			// sender told why (a full disk must say so) and where the
			// file stands now.
			if lf = s.current(f); lf != nil && lf.syncErr != nil {
				err = lf.syncErr
				r.rollback(s, name, lf)
				lf = nil
			}
		}
		if err == nil {
			err = chunkAllowed(rec, s, name, offset, length, lf)
		}
	}
	fresh := lf == nil
	if err == nil && fresh {
		lf, err = r.openLive(id, f)
	}
	if err != nil {
		pub := s.fileView(f)
		s.mu.Unlock()
		writeError(w, err, pub)
		return nil
	}
	s.live[name] = lf
	if lf.timer != nil {
		s.bg.stop(lf.timer)
		lf.timer = nil
	}
	s.uploading[name] = true
	file := *f
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.uploading, name)
		if s.live[name] == lf {
			r.armIdle(s, id, name, lf)
		}
		s.mu.Unlock()
	}()

	// The chunk hashes into a copy: a refused chunk leaves lf at acked.
	h, err := cloneHash(lf.hash)
	if err != nil {
		return err
	}
	if err := r.receiveChunk(req, lf.f, name, offset, length, h, fresh); err != nil {
		return err
	}
	end := offset + length
	if end == file.Size {
		// The sender's digest of the whole file matched what arrived, so
		// a mismatch with the metadata means the sender's file is not the
		// one described: reject, keep the evidence.
		if sum := [32]byte(h.Sum(nil)); sum != [32]byte(file.SHA256) {
			reason := fmt.Sprintf("%s: whole-file sha256 %x, metadata says %s", name, sum, file.SHA256)
			s.mu.Lock()
			defer s.mu.Unlock()
			if rec, err := r.record(id, provider); err == nil && rec != nil {
				r.reject(s, rec, reason, []api.VerifyCheck{{Name: CheckChecksums, Detail: reason}})
			}
			return fmt.Errorf("%w: %s", ErrRejected, reason)
		}
	}
	fr, err := r.acknowledge(s, id, name, lf, h, end, end == file.Size)
	if err != nil {
		return err
	}
	return writeJSON(w, fr.public())
}

// acknowledge records a checked chunk ending at end and commits as due:
// synchronously when the file is complete, else in the background. It
// returns the file as the sender should see it. Called by lf's owner.
func (r *Receiver) acknowledge(s *sectorSlot, id api.SectorID, name string, lf *liveFile, h hash.Hash, end int64, complete bool) (*fileRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A commit still running when the limit of pending bytes is reached
	// (the disk is slower than the network), or when the file completes,
	// is waited for.
	for lf.syncing && (complete || end-lf.committed >= 2*r.cfg.CommitBytes) {
		done := lf.syncDone
		s.mu.Unlock()
		<-done
		s.mu.Lock()
	}
	if lf.syncErr != nil {
		err := lf.syncErr
		r.rollback(s, name, lf)
		return nil, err
	}
	if s.live[name] != lf {
		return nil, fmt.Errorf("%w: sector %s changed during the upload", ErrConflict, id)
	}
	now := r.cfg.Now()
	lf.hash, lf.acked = h, end
	if lf.dirtySince.IsZero() {
		lf.dirtySince = now
	}
	if complete {
		return r.commitOwned(s, id, name, lf)
	}
	if !lf.syncing && (lf.acked-lf.covered() >= r.cfg.CommitBytes || now.Sub(lf.dirtySince) >= r.cfg.CommitInterval) {
		if err := r.startCommit(s, id, name, lf); err != nil {
			return nil, err
		}
	}
	out := fileRecord{SectorFile: lf.file, Received: lf.acked}
	return &out, nil
}

// chunkAllowed checks a chunk against the record and the file's live
// progress (called locked).
func chunkAllowed(rec *sectorRecord, s *sectorSlot, name string, offset, length int64, lf *liveFile) error {
	switch rec.State {
	case api.DeliveryPending, api.DeliveryTransferring:
	case api.DeliveryRejected:
		return fmt.Errorf("%w: %s", ErrRejected, rec.Reason)
	default:
		return fmt.Errorf("%w: sector %s is %s, it takes no more data", ErrConflict, rec.ID, rec.State)
	}
	f := rec.file(name)
	if f == nil {
		return fmt.Errorf("%w: %s is not a file of sector %s", ErrInvalid, name, rec.ID)
	}
	acked := f.Received
	if lf != nil {
		acked = lf.acked
	}
	switch {
	case f.Complete:
		return fmt.Errorf("%w: %s is complete", ErrConflict, name)
	case s.uploading[name]:
		return fmt.Errorf("%w: %s is being uploaded by another request", ErrBusy, name)
	case offset != acked:
		return fmt.Errorf("%w: %s continues at offset %d, not %d", ErrConflict, name, acked, offset)
	case offset+length > f.Size:
		return fmt.Errorf("%w: chunk [%d, %d) exceeds %s's %d bytes", ErrInvalid, offset, offset+length, name, f.Size)
	}
	return nil
}

// openLive starts a live state at the record's committed progress
// (s.mu held).
func (r *Receiver) openLive(id api.SectorID, f *fileRecord) (*liveFile, error) {
	h, err := resumeHash(f.HashState, f.Received)
	if err != nil {
		return nil, err
	}
	p := r.incomingPath(id, f.Name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, mapDiskErr(err)
	}
	fh, err := r.cfg.Disk.OpenFile(p)
	if err != nil {
		return nil, mapDiskErr(err)
	}
	return &liveFile{file: f.SectorFile, committed: f.Received, acked: f.Received, hash: h, f: fh}, nil
}

func resumeHash(state []byte, offset int64) (hash.Hash, error) {
	h := sha256.New()
	if offset == 0 {
		return h, nil
	}
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("delivery: resume file hash: %w", err)
	}
	return h, nil
}

func marshalHash(h hash.Hash) ([]byte, error) {
	st, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("delivery: save file hash: %w", err)
	}
	return st, nil
}

func cloneHash(h hash.Hash) (hash.Hash, error) {
	st, err := marshalHash(h)
	if err != nil {
		return nil, err
	}
	c := sha256.New()
	if err := c.(encoding.BinaryUnmarshaler).UnmarshalBinary(st); err != nil {
		return nil, fmt.Errorf("delivery: copy file hash: %w", err)
	}
	return c, nil
}

// receiveChunk streams the body into f at offset through fileHash and
// checks the sender's prefix digest. fresh truncates f to offset first:
// bytes a previous process wrote past its committed offset are not
// trusted. On any failure f is truncated back to offset, so partial or
// refused chunks never survive.
func (r *Receiver) receiveChunk(req *http.Request, f File, name string, offset, length int64, fileHash hash.Hash, fresh bool) (err error) {
	if fresh {
		if err := f.Truncate(offset); err != nil {
			return fmt.Errorf("delivery: truncate %s: %w", name, mapDiskErr(err))
		}
	}
	defer func() {
		if err != nil {
			_ = f.Truncate(offset)
		}
	}()
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	body := limitReader(req.Context(), req.Body, r.limit)
	var n int64
	for {
		// Fill the buffer: one hash call and one write per MiB whatever
		// the socket hands over per read.
		k, rerr := fill(body, buf)
		if k > 0 {
			r.bytesIn.Add(int64(k))
			if n+int64(k) > length {
				return fmt.Errorf("%w: chunk body longer than %d bytes", ErrInvalid, length)
			}
			fileHash.Write(buf[:k])
			if _, werr := f.WriteAt(buf[:k], offset+n); werr != nil {
				return fmt.Errorf("delivery: write %s: %w", name, mapDiskErr(werr))
			}
			n += int64(k)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("delivery: read chunk of %s: %w", name, rerr)
		}
	}
	if n != length {
		return fmt.Errorf("%w: chunk body has %d bytes, want %d", ErrInvalid, n, length)
	}
	want := req.Trailer.Get(PrefixSHAHeader)
	if want == "" {
		want = req.Header.Get(PrefixSHAHeader)
	}
	if sum := hex.EncodeToString(fileHash.Sum(nil)); !strings.EqualFold(sum, want) {
		return fmt.Errorf("%w: %s [%d, %d): sha256 of the file's first %d bytes is %s, sender says %q",
			ErrChecksum, name, offset, offset+length, offset+length, sum, want)
	}
	// Start writing the chunk out now, so that a commit's fsync waits for
	// little and the disk works while the next chunk arrives.
	startWriteback(f, offset, length)
	return nil
}

// fill reads until buf is full or r fails; unlike io.ReadFull it returns
// r's own error, so a cut body (io.ErrUnexpectedEOF from the HTTP server)
// is not mistaken for a short one.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// startCommit commits lf's acknowledged bytes in the background (s.mu
// held by lf's owner, no commit running).
func (r *Receiver) startCommit(s *sectorSlot, id api.SectorID, name string, lf *liveFile) error {
	st, err := marshalHash(lf.hash)
	if err != nil {
		return err
	}
	off, done := lf.acked, make(chan struct{})
	prevDirty := lf.dirtySince
	lf.syncing, lf.syncTo, lf.syncDone, lf.dirtySince = true, off, done, time.Time{}
	started := r.bg.goFunc(func() {
		defer close(done)
		err := lf.f.Sync()
		s.mu.Lock()
		defer s.mu.Unlock()
		lf.syncing = false
		if err != nil {
			err = fmt.Errorf("delivery: sync %s: %w", name, mapDiskErr(err))
		} else {
			_, err = r.saveProgress(s, id, name, lf, off, st)
		}
		if lf.dropped {
			if lf.f != nil {
				_ = lf.f.Close()
				lf.f = nil
			}
			return
		}
		if err != nil {
			lf.syncErr = err
			r.log.Warn("commit failed; the upload resumes from the last commit", "sector", id, "file", name, "err", err)
		}
	})
	if !started {
		// Run has stopped: commit here, before the chunk is answered.
		lf.syncing, lf.syncDone, lf.dirtySince = false, nil, prevDirty
		_, err := r.commitOwned(s, id, name, lf)
		return err
	}
	return nil
}

// commitOwned commits all of lf's acknowledged bytes before returning.
// Called with s.mu held by lf's owner with no commit running; s.mu is
// released during the fsync.
func (r *Receiver) commitOwned(s *sectorSlot, id api.SectorID, name string, lf *liveFile) (*fileRecord, error) {
	off := lf.acked
	st, err := marshalHash(lf.hash)
	if err != nil {
		return nil, err
	}
	s.mu.Unlock()
	serr := lf.f.Sync()
	s.mu.Lock()
	if serr != nil {
		r.rollback(s, name, lf)
		return nil, fmt.Errorf("delivery: sync %s: %w", name, mapDiskErr(serr))
	}
	fr, err := r.saveProgress(s, id, name, lf, off, st)
	if err != nil {
		r.rollback(s, name, lf)
		return nil, err
	}
	return fr, nil
}

// commitIdle commits a file with no chunk and no commit running, holding
// s.mu throughout (timer, Flush, metadata changes).
func (r *Receiver) commitIdle(s *sectorSlot, id api.SectorID, name string, lf *liveFile) error {
	if lf.syncErr != nil {
		err := lf.syncErr
		r.rollback(s, name, lf)
		return err
	}
	if !lf.dirty() {
		return nil
	}
	off := lf.acked
	st, err := marshalHash(lf.hash)
	if err == nil {
		if err = lf.f.Sync(); err != nil {
			err = fmt.Errorf("delivery: sync %s: %w", name, mapDiskErr(err))
		}
	}
	if err == nil {
		_, err = r.saveProgress(s, id, name, lf, off, st)
	}
	if err != nil {
		r.rollback(s, name, lf)
	}
	return err
}

// saveProgress records that the first off bytes of lf are durable with
// hash state st (s.mu held, the fsync done). A record that changed since
// lf was made (new metadata, rejection) is left alone: ErrConflict.
func (r *Receiver) saveProgress(s *sectorSlot, id api.SectorID, name string, lf *liveFile, off int64, st []byte) (*fileRecord, error) {
	rec, err := loadRecord(r.cfg.Root, id)
	if err != nil {
		return nil, err
	}
	var f *fileRecord
	if rec != nil {
		f = rec.file(name)
	}
	if f == nil || lf.dropped || s.live[name] != lf || f.SectorFile != lf.file || f.Received != lf.committed || f.Complete ||
		(rec.State != api.DeliveryPending && rec.State != api.DeliveryTransferring) {
		return nil, fmt.Errorf("%w: sector %s changed during the upload", ErrConflict, id)
	}
	f.Received, f.HashState = off, st
	f.Complete = off == f.Size // only reached after the whole-file check
	rec.State, rec.Updated = api.DeliveryTransferring, r.cfg.Now()
	if rec.allComplete() {
		rec.State = api.DeliveryVerifying
	}
	if err := saveRecord(r.cfg.Root, rec); err != nil {
		return nil, fmt.Errorf("delivery: save progress of %s: %w", name, mapDiskErr(err))
	}
	lf.committed = off
	if f.Complete {
		s.drop(name, lf)
	}
	if rec.State == api.DeliveryVerifying {
		r.log.Info("sector received", "sector", id, "provider", rec.Provider)
		r.enqueue(id)
	}
	return f, nil
}

// rollback truncates a file whose commit failed back to its committed
// offset and forgets its live state (s.mu held).
func (r *Receiver) rollback(s *sectorSlot, name string, lf *liveFile) {
	if lf.f != nil {
		_ = lf.f.Truncate(lf.committed)
	}
	s.drop(name, lf)
}

// armIdle commits and forgets lf once its upload pauses for
// CommitInterval (s.mu held): a sender that went away leaves nothing
// uncommitted and no open file behind.
func (r *Receiver) armIdle(s *sectorSlot, id api.SectorID, name string, lf *liveFile) {
	if lf.timer != nil {
		return
	}
	t := r.bg.after(r.cfg.CommitInterval, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.live[name] != lf {
			return
		}
		lf.timer = nil
		if s.uploading[name] {
			return // the running chunk re-arms at its end
		}
		if lf.syncing {
			r.armIdle(s, id, name, lf)
			return
		}
		r.commitPaused(s, id, name, lf)
	})
	if t == nil && !s.uploading[name] && !lf.syncing {
		// Run has stopped: no timer, commit the paused upload now.
		r.commitPaused(s, id, name, lf)
	}
	lf.timer = t
}

// commitPaused commits and forgets a paused upload (s.mu held).
func (r *Receiver) commitPaused(s *sectorSlot, id api.SectorID, name string, lf *liveFile) {
	if err := r.commitIdle(s, id, name, lf); err != nil {
		r.log.Error("commit of a paused upload failed; the sender resumes from the last commit", "sector", id, "file", name, "err", err)
		return
	}
	s.drop(name, lf)
}

// commitAllLocked commits and forgets every live file of a sector that
// has no chunk and no commit running (s.mu held). A file whose commit is
// running stays consistent: that commit checks the record when it ends.
func (r *Receiver) commitAllLocked(s *sectorSlot, id api.SectorID) error {
	var errs []error
	for name, lf := range s.live {
		if s.uploading[name] || lf.syncing {
			continue
		}
		if err := r.commitIdle(s, id, name, lf); err != nil {
			errs = append(errs, err)
			continue
		}
		s.drop(name, lf)
	}
	return errors.Join(errs...)
}

// Flush commits the acknowledged progress of every upload that is not in
// the middle of a chunk (a running chunk's bytes are committed by its
// own background commit or the pause timer), waiting for running
// commits. Run calls it when it stops, so a clean restart re-sends
// nothing.
func (r *Receiver) Flush() error {
	r.mu.Lock()
	slots := make(map[api.SectorID]*sectorSlot, len(r.sectors))
	for id, s := range r.sectors {
		slots[id] = s
	}
	r.mu.Unlock()
	var errs []error
	for id, s := range slots {
		s.mu.Lock()
		var running []chan struct{}
		for _, lf := range s.live {
			if lf.syncing {
				running = append(running, lf.syncDone)
			}
		}
		s.mu.Unlock()
		for _, done := range running {
			<-done
		}
		s.mu.Lock()
		err := r.commitAllLocked(s, id)
		s.mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("delivery: flush %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}
