package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/types"
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
	// CommitBytes is how many acknowledged bytes of a file start a commit
	// (fsync, then offset and hash state saved in the record; in the
	// background, see upload.go). A chunk that would leave twice as many
	// uncommitted waits for the running commit, so after a receiver crash
	// a sender re-sends at most about 2×CommitBytes per file. ≤ 0 is
	// DefaultCommitBytes; 1 commits every chunk.
	CommitBytes int64
	// CommitInterval bounds how long acknowledged bytes stay uncommitted:
	// checked at every chunk end, and by a timer once a file's upload
	// pauses. ≤ 0 is DefaultCommitInterval.
	CommitInterval time.Duration
	// Disk receives file data; nil is OSDisk.
	Disk Disk
	// VerifyConcurrency bounds simultaneous verifications (default 1: a
	// TreeR_last rebuild keeps every core busy).
	VerifyConcurrency int
	// Verify replaces the verified import's checks; nil is Verify. Only
	// benchmarks that measure the transfer alone replace it.
	Verify func(ctx context.Context, in VerifyInput) api.VerifyResult
	// Quarantine bounds the copies of rejected sectors kept for
	// inspection (zero value: the defaults).
	Quarantine QuarantineLimits
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
	// bg is the asynchronous work Run owns (background.go).
	bg background

	// bytesIn counts chunk body bytes read from the network.
	bytesIn atomic.Int64
}

// sectorSlot serialises changes to one sector's record.
type sectorSlot struct {
	mu        sync.Mutex
	uploading map[string]bool
	verifying bool
	// live holds the acknowledged progress of files ahead of the record,
	// which has only the committed progress (upload.go).
	live map[string]*liveFile
	// bg is the receiver's background work (pause timers).
	bg *background
}

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
	if cfg.CommitBytes <= 0 {
		cfg.CommitBytes = DefaultCommitBytes
	}
	if cfg.CommitInterval <= 0 {
		cfg.CommitInterval = DefaultCommitInterval
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

// Run verifies sectors until ctx ends, then commits acknowledged uploads
// (Flush). At start it re-queues sectors whose verification a previous run
// did not finish. Serve the Handler alongside. Run owns the receiver's
// background work (pause timers, background commits, retries): when it
// returns none is left running or pending, and chunks that still arrive
// are committed before they are answered.
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
	r.bg.close()
	// Make what was acknowledged durable, so a clean restart re-sends
	// nothing. Chunks still arriving commit on their own or by timer.
	return r.Flush()
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
		s = &sectorSlot{uploading: map[string]bool{}, live: map[string]*liveFile{}, bg: &r.bg}
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
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// Announced on every answer, errors included, so a client can
		// tell this receiver's protocol from an older one's.
		w.Header().Set(ProtocolHeader, ProtocolVersion)
		mux.ServeHTTP(w, req)
	})
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
	var pub api.ReceiverSector
	if err == nil && rec != nil {
		pub = s.view(rec)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if rec == nil {
		return fmt.Errorf("%w: sector %s", ErrNotFound, id)
	}
	return writeJSON(w, pub)
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
	// No byte is taken for a sector the chain does not have with this
	// CommR: a token holder cannot fill the disk with made-up sectors.
	if err := r.checkChain(req.Context(), &md); err != nil {
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
		return writeJSON(w, s.view(rec)) // idempotent re-push
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
		s.dropAll()
		_ = os.RemoveAll(r.incomingDir(id))
		rec = fresh()
	default:
		// New metadata before verification: keep the progress of files
		// whose size and checksum did not change (acknowledged progress
		// included: no upload runs, so committing it is safe).
		if err := r.commitAllLocked(s, id); err != nil {
			return err
		}
		if rec, err = r.record(id, provider); err != nil {
			return err
		}
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
	return writeJSON(w, s.view(rec))
}

// checkChain requires md's sector to be pre-committed or proven on chain
// with md's CommR and proof type. An unreachable chain is ErrBusy (the
// provider retries); no chain at all, or a sector the chain does not have
// so, is ErrConflict.
func (r *Receiver) checkChain(ctx context.Context, md *api.SectorMetadata) error {
	if r.cfg.Chain == nil {
		return fmt.Errorf("%w: no chain configured: this receiver cannot check sectors against the chain, so it takes none", ErrConflict)
	}
	maddr := address.NewIDAddress(md.ID.Miner)
	var onChain cid.Cid
	var proof int64
	si, err := r.cfg.Chain.StateSectorGetInfo(ctx, maddr, md.ID.Number, types.EmptyTSK)
	if err != nil {
		return fmt.Errorf("%w: cannot read sector %s from the chain: %v", ErrBusy, md.ID, err)
	}
	if si != nil {
		onChain, proof = si.SealedCID, si.SealProof
	} else {
		pc, err := r.cfg.Chain.StateSectorPreCommitInfo(ctx, maddr, md.ID.Number, types.EmptyTSK)
		if err != nil {
			return fmt.Errorf("%w: cannot read sector %s from the chain: %v", ErrBusy, md.ID, err)
		}
		if pc == nil {
			return fmt.Errorf("%w: sector %s is neither pre-committed nor proven on chain; its files are not taken", ErrConflict, md.ID)
		}
		onChain, proof = pc.Info.SealedCID, int64(pc.Info.SealProof)
	}
	want, err1 := commp.CommFromSealedCID(onChain)
	c, _ := cid.Decode(md.CommR) // parsed by validateMetadata
	got, err2 := commp.CommFromSealedCID(c)
	if err1 != nil || err2 != nil || want != got {
		return fmt.Errorf("%w: sector %s has CommR %s on chain, the metadata says %s; its files are not taken", ErrConflict, md.ID, onChain, md.CommR)
	}
	if proof != md.ProofType {
		return fmt.Errorf("%w: sector %s has seal proof %d on chain, the metadata says %d", ErrConflict, md.ID, proof, md.ProofType)
	}
	return nil
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
	return writeJSON(w, s.view(rec))
}

// reject quarantines a sector (called with its slot locked).
func (r *Receiver) reject(s *sectorSlot, rec *sectorRecord, reason string, checks []api.VerifyCheck) {
	s.dropAll()
	now := r.cfg.Now()
	rec.State, rec.Reason, rec.Checks, rec.Updated = api.DeliveryRejected, reason, checks, now
	dropOlderCopies(r.cfg.Root, rec.ID) // one copy per sector
	dst, err := quarantine(r.cfg.Root, rec, now)
	if err != nil {
		r.log.Error("quarantine failed", "sector", rec.ID, "err", err)
	}
	for _, d := range enforceQuarantine(r.cfg.Root, r.cfg.Quarantine, dst) {
		r.log.Warn("quarantine full: oldest copy deleted", "dir", d)
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
		r.reject(s, rec, "verification failed: "+FailedChecks(res), res.Checks)
		return
	}
	files := make([]api.SectorFile, len(rec.Files))
	for i, f := range rec.Files {
		files[i] = f.SectorFile
	}
	if err := importSector(r.cfg.Store, r.incomingDir(id), id, files); err != nil {
		if errors.Is(err, ErrDiskFull) {
			// Verified but no room to import: stay verifying and try
			// again in a minute (the provider keeps polling); a stopped
			// receiver re-queues it when it starts again.
			r.log.Error("import: store full, retrying in a minute", "sector", id, "err", err)
			r.bg.after(time.Minute, func() { r.enqueue(id) })
			return
		}
		r.reject(s, rec, "import: "+err.Error(), res.Checks)
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
	pub := s.view(rec)
	return &pub, nil
}
