package delivery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/porep"
	"github.com/sealant/sealant/rpc"
)

// ReceiverConfig configures a Receiver.
type ReceiverConfig struct {
	// Root holds the receiver's own files: state/ (one record per sector),
	// incoming/ (files being received, laid out like a store),
	// quarantine/ (rejected sectors) and scratch/ (verification).
	Root string
	// Store is the Lotus/Curio storage path accepted sectors move into
	// (sealed/, cache/). Put it on the same filesystem as Root so the move
	// is a rename-like hard link rather than a copy.
	Store string
	// Secret is the HS256 key provider tokens are signed with (≥ 32 bytes).
	Secret []byte
	// Revoked lists token ids (jti) that are no longer accepted.
	Revoked []string
	// Miners restricts deliveries to these miner actor ids; empty allows
	// any (a receiver normally serves one SP's miners).
	Miners []uint64
	// Chain provides the on-chain CommR. Required for acceptance unless
	// Verify is replaced.
	Chain Chain
	// BandwidthLimit caps the total upload rate in bytes/s (0: none).
	BandwidthLimit int64
	// Disk receives file data; nil is OSDisk.
	Disk Disk
	// VerifyConcurrency bounds simultaneous verifications (default 1: a
	// TreeR_last rebuild keeps every core busy).
	VerifyConcurrency int
	// Verify replaces the verified import's checks; nil is Verify. Only
	// benchmarks that measure the transfer alone replace it.
	Verify func(ctx context.Context, in VerifyInput) api.VerifyResult
	// Logger receives progress; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Receiver is the SP-side service: it authenticates providers, takes
// sector metadata and chunked, checksummed file uploads, verifies complete
// sectors and imports accepted ones into the store.
type Receiver struct {
	cfg     ReceiverConfig
	log     *slog.Logger
	limit   *Limiter
	revoked map[string]bool
	allowed map[uint64]bool

	mu      sync.Mutex
	sectors map[api.SectorID]*sectorSlot

	queue chan api.SectorID
	wg    sync.WaitGroup

	// bytesIn counts chunk body bytes read from the network.
	bytesIn atomic.Int64
}

// sectorSlot serialises changes to one sector's record.
type sectorSlot struct {
	mu        sync.Mutex
	uploading map[string]bool
	verifying bool
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// NewReceiver prepares the directories and loads nothing else: records are
// read on demand, so a receiver with many sectors starts instantly.
func NewReceiver(cfg ReceiverConfig) (*Receiver, error) {
	if cfg.Root == "" || cfg.Store == "" {
		return nil, fmt.Errorf("%w: receiver needs a root and a store directory", ErrInvalid)
	}
	if len(cfg.Secret) < rpc.MinSecretLen {
		return nil, fmt.Errorf("%w: receiver secret shorter than %d bytes", ErrInvalid, rpc.MinSecretLen)
	}
	if cfg.Disk == nil {
		cfg.Disk = OSDisk{}
	}
	if cfg.VerifyConcurrency <= 0 {
		cfg.VerifyConcurrency = 1
	}
	if cfg.Verify == nil {
		cfg.Verify = Verify
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, d := range []string{stateDirName, incomingDirName, quarantineDirName, scratchDirName} {
		if err := os.MkdirAll(filepath.Join(cfg.Root, d), 0o755); err != nil {
			return nil, fmt.Errorf("delivery: receiver root: %w", err)
		}
	}
	if err := os.MkdirAll(cfg.Store, 0o755); err != nil {
		return nil, fmt.Errorf("delivery: receiver store: %w", err)
	}
	r := &Receiver{cfg: cfg, log: log, limit: NewLimiter(cfg.BandwidthLimit), revoked: map[string]bool{},
		allowed: map[uint64]bool{}, sectors: map[api.SectorID]*sectorSlot{}, queue: make(chan api.SectorID, 1024)}
	for _, j := range cfg.Revoked {
		r.revoked[j] = true
	}
	for _, m := range cfg.Miners {
		r.allowed[m] = true
	}
	return r, nil
}

// BytesReceived is the number of chunk body bytes read from the network
// since start (including chunks that were later discarded).
func (r *Receiver) BytesReceived() int64 { return r.bytesIn.Load() }

// Run verifies sectors until ctx ends. At start it re-queues sectors whose
// verification a previous run did not finish. Serve the Handler alongside.
func (r *Receiver) Run(ctx context.Context) error {
	list, err := ListSectors(r.cfg.Root)
	if err != nil {
		return err
	}
	for _, s := range list {
		if s.State == api.DeliveryVerifying {
			r.enqueue(s.ID)
		}
	}
	for range r.cfg.VerifyConcurrency {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case id := <-r.queue:
					r.verifySector(ctx, id)
				}
			}
		}()
	}
	<-ctx.Done()
	r.wg.Wait()
	return nil
}

func (r *Receiver) enqueue(id api.SectorID) {
	select {
	case r.queue <- id:
	default:
		// The queue is full; the sector stays "verifying" and is picked up
		// by the next POST verify or restart.
		r.log.Warn("verification queue full", "sector", id)
	}
}

func (r *Receiver) slot(id api.SectorID) *sectorSlot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sectors[id]
	if s == nil {
		s = &sectorSlot{uploading: map[string]bool{}}
		r.sectors[id] = s
	}
	return s
}

// Handler serves the receiver API.
func (r *Receiver) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathPrefix+"/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("PUT "+PathPrefix+"/sectors/{miner}/{number}/metadata", r.auth(r.putMetadata))
	mux.HandleFunc("GET "+PathPrefix+"/sectors/{miner}/{number}", r.auth(r.getSector))
	mux.HandleFunc("PUT "+PathPrefix+"/sectors/{miner}/{number}/chunk", r.auth(r.putChunk))
	mux.HandleFunc("POST "+PathPrefix+"/sectors/{miner}/{number}/verify", r.auth(r.postVerify))
	return mux
}

type handler func(w http.ResponseWriter, req *http.Request, provider string, id api.SectorID) error

// auth checks the provider token and the sector id of the path before
// calling h, and writes h's error as the wire error.
func (r *Receiver) auth(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		err := func() error {
			tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
			if !ok || tok == "" {
				return fmt.Errorf("%w: no bearer token", ErrUnauthorized)
			}
			c, err := rpc.VerifyToken(r.cfg.Secret, strings.TrimSpace(tok))
			if err != nil {
				return fmt.Errorf("%w: %v", ErrUnauthorized, err)
			}
			if c.Role != rpc.RoleProvider || c.Subject == "" {
				return fmt.Errorf("%w: not a provider token", ErrUnauthorized)
			}
			if r.revoked[c.ID] {
				return fmt.Errorf("%w: token %s is revoked", ErrUnauthorized, c.ID)
			}
			m, err1 := strconv.ParseUint(req.PathValue("miner"), 10, 63)
			n, err2 := strconv.ParseUint(req.PathValue("number"), 10, 63)
			if err1 != nil || err2 != nil {
				return fmt.Errorf("%w: bad sector id in path", ErrInvalid)
			}
			id := api.SectorID{Miner: m, Number: n}
			if len(r.allowed) > 0 && !r.allowed[m] {
				return fmt.Errorf("%w: this receiver does not take sectors of miner f0%d", ErrForbidden, m)
			}
			return h(w, req, c.Subject, id)
		}()
		if err != nil {
			writeError(w, err, nil)
		}
	}
}

func writeError(w http.ResponseWriter, err error, f *api.ReceiverFile) {
	status, code := statusOf(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(wireError{Error: err.Error(), Code: code, File: f})
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(v)
}

// record loads the sector's record and checks it belongs to provider.
func (r *Receiver) record(id api.SectorID, provider string) (*sectorRecord, error) {
	rec, err := loadRecord(r.cfg.Root, id)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, nil
	}
	if rec.Provider != provider {
		return nil, fmt.Errorf("%w: sector %s is delivered by another provider", ErrForbidden, id)
	}
	return rec, nil
}

func (r *Receiver) getSector(w http.ResponseWriter, _ *http.Request, provider string, id api.SectorID) error {
	s := r.slot(id)
	s.mu.Lock()
	rec, err := r.record(id, provider)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if rec == nil {
		return fmt.Errorf("%w: sector %s", ErrNotFound, id)
	}
	return writeJSON(w, rec.public())
}

// validateMetadata checks what can be checked without the files.
func (r *Receiver) validateMetadata(md *api.SectorMetadata, id api.SectorID) ([]api.SectorFile, error) {
	if md.ID != id {
		return nil, fmt.Errorf("%w: metadata is for %s, path says %s", ErrInvalid, md.ID, id)
	}
	files, err := checkFileSet(md)
	if err != nil {
		return nil, err
	}
	c, err := cid.Decode(md.CommR)
	if err != nil {
		return nil, fmt.Errorf("%w: comm_r %q: %v", ErrInvalid, md.CommR, err)
	}
	commR, err := commp.CommFromSealedCID(c)
	if err != nil {
		return nil, fmt.Errorf("%w: comm_r: %v", ErrInvalid, err)
	}
	got, err := porep.CommR(md.CommC, md.CommRLast)
	if err != nil || got != commR {
		return nil, fmt.Errorf("%w: Poseidon2(comm_c, comm_r_last) is not comm_r", ErrInvalid)
	}
	return files, nil
}

func (r *Receiver) putMetadata(w http.ResponseWriter, req *http.Request, provider string, id api.SectorID) error {
	var md api.SectorMetadata
	dec := json.NewDecoder(io.LimitReader(req.Body, maxMetadataSize))
	if err := dec.Decode(&md); err != nil {
		return fmt.Errorf("%w: metadata: %v", ErrInvalid, err)
	}
	files, err := r.validateMetadata(&md, id)
	if err != nil {
		return err
	}
	s := r.slot(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := r.record(id, provider)
	if err != nil {
		return err
	}
	now := r.cfg.Now()
	fresh := func() *sectorRecord {
		nr := &sectorRecord{ID: id, Provider: provider, State: api.DeliveryPending, Metadata: md, Updated: now}
		for _, f := range files {
			nr.Files = append(nr.Files, fileRecord{SectorFile: f})
		}
		return nr
	}
	switch {
	case rec == nil:
		if exists, err := InStore(r.cfg.Store, id); err != nil {
			return err
		} else if exists {
			return fmt.Errorf("%w: sector %s already exists in the store; refusing to receive it again", ErrConflict, id)
		}
		rec = fresh()
	case sameMetadata(&rec.Metadata, &md) && rec.State != api.DeliveryRejected:
		return writeJSON(w, rec.public()) // idempotent re-push
	case rec.State == api.DeliveryAccepted:
		return fmt.Errorf("%w: sector %s was accepted with other metadata", ErrConflict, id)
	case rec.State == api.DeliveryVerifying || s.verifying:
		return fmt.Errorf("%w: sector %s is being verified", ErrBusy, id)
	case len(s.uploading) > 0:
		return fmt.Errorf("%w: sector %s has an upload in progress", ErrBusy, id)
	case rec.State == api.DeliveryRejected:
		// A push after a rejection is a retry: start over (the rejected
		// files are in quarantine).
		if exists, err := InStore(r.cfg.Store, id); err != nil {
			return err
		} else if exists {
			return fmt.Errorf("%w: sector %s already exists in the store; refusing to receive it again", ErrConflict, id)
		}
		_ = os.RemoveAll(r.incomingDir(id))
		rec = fresh()
	default:
		// New metadata before verification: keep the progress of files
		// whose size and checksum did not change.
		nr := fresh()
		for i := range nr.Files {
			if old := rec.file(nr.Files[i].Name); old != nil && old.SectorFile == nr.Files[i].SectorFile {
				nr.Files[i] = *old
			} else {
				_ = os.Remove(r.incomingPath(id, nr.Files[i].Name))
			}
		}
		if nr.allComplete() {
			nr.State = api.DeliveryVerifying
		}
		rec = nr
	}
	rec.Updated = now
	if err := saveRecord(r.cfg.Root, rec); err != nil {
		return err
	}
	if rec.State == api.DeliveryVerifying {
		r.enqueue(id)
	}
	r.log.Info("sector metadata", "sector", id, "provider", provider, "state", rec.State)
	return writeJSON(w, rec.public())
}

func sameMetadata(a, b *api.SectorMetadata) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

func (r *Receiver) incomingDir(id api.SectorID) string {
	return filepath.Join(r.cfg.Root, incomingDirName, id.String())
}

func (r *Receiver) incomingPath(id api.SectorID, name string) string {
	return filepath.Join(r.incomingDir(id), filepath.FromSlash(name))
}

// putChunk receives one chunk: it must start exactly at the file's
// committed offset. The body is streamed to disk while two hashes run over
// it (the chunk's, checked against the sender's, and the whole file's,
// resumed from the saved state); only a chunk whose hash matches is
// committed, so after any interruption the file ends at a chunk boundary.
func (r *Receiver) putChunk(w http.ResponseWriter, req *http.Request, provider string, id api.SectorID) error {
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
	if err == nil {
		err = chunkAllowed(rec, s, name, offset, length)
		f = rec.file(name)
	}
	if err != nil {
		var pub *api.ReceiverFile
		if f != nil {
			p := f.public()
			pub = &p
		}
		s.mu.Unlock()
		writeError(w, err, pub)
		return nil
	}
	s.uploading[name] = true
	size, hashState := f.Size, f.HashState
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.uploading, name)
		s.mu.Unlock()
	}()

	fileHash, err := resumeHash(hashState, offset)
	if err != nil {
		return err
	}
	if err := r.receiveChunk(req, id, name, offset, length, fileHash); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err = r.record(id, provider)
	if err != nil {
		return err
	}
	if rec == nil || rec.file(name) == nil || rec.file(name).Received != offset {
		return fmt.Errorf("%w: sector %s changed during the upload", ErrConflict, id)
	}
	f = rec.file(name)
	st, err := fileHash.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return err
	}
	f.Received, f.HashState = offset+length, st
	rec.State, rec.Updated = api.DeliveryTransferring, r.cfg.Now()
	if f.Received == size {
		sum := [32]byte(fileHash.Sum(nil))
		if sum != [32]byte(f.SHA256) {
			// Every chunk arrived as sent, so the sender's file is not the
			// one the metadata describes: reject, keep the evidence.
			reason := fmt.Sprintf("%s: whole-file sha256 %x, metadata says %s", name, sum, f.SHA256)
			r.reject(rec, reason, []api.VerifyCheck{{Name: CheckChecksums, Detail: reason}})
			return fmt.Errorf("%w: %s", ErrRejected, reason)
		}
		f.Complete = true
		if rec.allComplete() {
			rec.State = api.DeliveryVerifying
		}
	}
	if err := saveRecord(r.cfg.Root, rec); err != nil {
		return err
	}
	if rec.State == api.DeliveryVerifying {
		r.log.Info("sector received", "sector", id, "provider", provider)
		r.enqueue(id)
	}
	return writeJSON(w, f.public())
}

// chunkAllowed checks a chunk against the record (called locked).
func chunkAllowed(rec *sectorRecord, s *sectorSlot, name string, offset, length int64) error {
	switch rec.State {
	case api.DeliveryPending, api.DeliveryTransferring:
	case api.DeliveryRejected:
		return fmt.Errorf("%w: %s", ErrRejected, rec.Reason)
	default:
		return fmt.Errorf("%w: sector %s is %s, it takes no more data", ErrConflict, rec.ID, rec.State)
	}
	f := rec.file(name)
	switch {
	case f == nil:
		return fmt.Errorf("%w: %s is not a file of sector %s", ErrInvalid, name, rec.ID)
	case f.Complete:
		return fmt.Errorf("%w: %s is complete", ErrConflict, name)
	case offset != f.Received:
		return fmt.Errorf("%w: %s continues at offset %d, not %d", ErrConflict, name, f.Received, offset)
	case offset+length > f.Size:
		return fmt.Errorf("%w: chunk [%d, %d) exceeds %s's %d bytes", ErrInvalid, offset, offset+length, name, f.Size)
	case s.uploading[name]:
		return fmt.Errorf("%w: %s is being uploaded by another request", ErrBusy, name)
	}
	return nil
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

// receiveChunk streams the body to the file at offset. On any failure the
// file is truncated back to offset, so partial chunks never survive.
func (r *Receiver) receiveChunk(req *http.Request, id api.SectorID, name string, offset, length int64, fileHash hash.Hash) (err error) {
	p := r.incomingPath(id, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return mapDiskErr(err)
	}
	f, err := r.cfg.Disk.OpenFile(p)
	if err != nil {
		return mapDiskErr(err)
	}
	defer func() {
		if err != nil {
			_ = f.Truncate(offset)
		}
		if cerr := f.Close(); cerr != nil && err == nil {
			err = mapDiskErr(cerr)
		}
	}()
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	chunkHash := sha256.New()
	body := limitReader(req.Context(), req.Body, r.limit)
	var n int64
	for {
		k, rerr := body.Read(buf)
		if k > 0 {
			r.bytesIn.Add(int64(k))
			if n+int64(k) > length {
				return fmt.Errorf("%w: chunk body longer than %d bytes", ErrInvalid, length)
			}
			chunkHash.Write(buf[:k])
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
	want := req.Trailer.Get(ChunkSHAHeader)
	if want == "" {
		want = req.Header.Get(ChunkSHAHeader)
	}
	if sum := hex.EncodeToString(chunkHash.Sum(nil)); !strings.EqualFold(sum, want) {
		return fmt.Errorf("%w: %s [%d, %d): sha256 %s, sender says %q", ErrChecksum, name, offset, offset+length, sum, want)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("delivery: sync %s: %w", name, mapDiskErr(err))
	}
	return nil
}

func (r *Receiver) postVerify(w http.ResponseWriter, _ *http.Request, provider string, id api.SectorID) error {
	s := r.slot(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := r.record(id, provider)
	if err != nil {
		return err
	}
	if rec == nil {
		return fmt.Errorf("%w: sector %s", ErrNoMetadata, id)
	}
	switch rec.State {
	case api.DeliveryPending, api.DeliveryTransferring:
		if !rec.allComplete() {
			return fmt.Errorf("%w: sector %s is not completely received", ErrConflict, id)
		}
		rec.State, rec.Updated = api.DeliveryVerifying, r.cfg.Now()
		if err := saveRecord(r.cfg.Root, rec); err != nil {
			return err
		}
		r.enqueue(id)
	case api.DeliveryVerifying:
		if !s.verifying {
			r.enqueue(id) // e.g. dropped from a full queue
		}
	}
	return writeJSON(w, rec.public())
}

// reject quarantines a sector (called with its slot locked).
func (r *Receiver) reject(rec *sectorRecord, reason string, checks []api.VerifyCheck) {
	now := r.cfg.Now()
	rec.State, rec.Reason, rec.Checks, rec.Updated = api.DeliveryRejected, reason, checks, now
	dst, err := quarantine(r.cfg.Root, rec, now)
	if err != nil {
		r.log.Error("quarantine failed", "sector", rec.ID, "err", err)
	}
	rec.Quarantine = dst
	if err := saveRecord(r.cfg.Root, rec); err != nil {
		r.log.Error("save rejected sector", "sector", rec.ID, "err", err)
	}
	r.log.Warn("sector rejected", "sector", rec.ID, "provider", rec.Provider, "reason", reason, "quarantine", dst)
}

// verifySector runs the verified import of one received sector.
func (r *Receiver) verifySector(ctx context.Context, id api.SectorID) {
	s := r.slot(id)
	s.mu.Lock()
	rec, err := loadRecord(r.cfg.Root, id)
	if err != nil || rec == nil || rec.State != api.DeliveryVerifying || s.verifying {
		s.mu.Unlock()
		return
	}
	s.verifying = true
	md := rec.Metadata
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.verifying = false
		s.mu.Unlock()
	}()

	scratch, err := os.MkdirTemp(filepath.Join(r.cfg.Root, scratchDirName), id.String()+"-")
	if err != nil {
		r.log.Error("verify scratch", "sector", id, "err", err)
		return
	}
	defer os.RemoveAll(scratch)
	start := time.Now()
	res := r.cfg.Verify(ctx, VerifyInput{Metadata: md, Dir: r.incomingDir(id), Chain: r.cfg.Chain, Scratch: scratch})
	if ctx.Err() != nil {
		return // shutting down: stays "verifying", re-queued on restart
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err = loadRecord(r.cfg.Root, id)
	if err != nil || rec == nil || rec.State != api.DeliveryVerifying {
		return
	}
	if !res.OK {
		r.reject(rec, "verification failed: "+FailedChecks(res), res.Checks)
		return
	}
	files := make([]api.SectorFile, len(rec.Files))
	for i, f := range rec.Files {
		files[i] = f.SectorFile
	}
	if err := importSector(r.cfg.Store, r.incomingDir(id), id, files); err != nil {
		if errors.Is(err, ErrDiskFull) {
			// Verified but no room to import: stay verifying and try
			// again in a minute (the provider keeps polling).
			r.log.Error("import: store full, retrying in a minute", "sector", id, "err", err)
			time.AfterFunc(time.Minute, func() { r.enqueue(id) })
			return
		}
		r.reject(rec, "import: "+err.Error(), res.Checks)
		return
	}
	_ = os.RemoveAll(r.incomingDir(id))
	rec.State, rec.Checks, rec.Reason, rec.Updated = api.DeliveryAccepted, res.Checks, "", r.cfg.Now()
	for i := range rec.Files {
		rec.Files[i].HashState = nil
	}
	if err := saveRecord(r.cfg.Root, rec); err != nil {
		r.log.Error("save accepted sector", "sector", id, "err", err)
		return
	}
	r.log.Info("sector accepted", "sector", id, "provider", rec.Provider, "verify_time", time.Since(start).Round(time.Millisecond),
		"store", r.cfg.Store)
}

// SectorStatus is the public record of a sector (for tools in-process).
func (r *Receiver) SectorStatus(id api.SectorID) (*api.ReceiverSector, error) {
	s := r.slot(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := loadRecord(r.cfg.Root, id)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("%w: sector %s", ErrNotFound, id)
	}
	pub := rec.public()
	return &pub, nil
}
