package worker

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/fr32"
	"github.com/sealant/sealant/proofs/porep"
	"github.com/sealant/sealant/worker/sectorfsm"
)

func fr32PaddedSize(n uint64) fr32.PaddedPieceSize { return fr32.PaddedPieceSize(n) }

// keptCacheFile reports whether a cache file is one the SP needs to keep
// proving the sector: tree-r-last (one or more files) and p_aux/t_aux.
// Label layers, tree C and tree D are dropped.
func keptCacheFile(name string) bool {
	return name == porep.PAuxFileName || name == porep.TAuxFileName ||
		strings.HasPrefix(name, "sc-02-data-tree-r-last")
}

// sectorFileName is the lotus name of a sector ("s-t01000-5").
func sectorFileName(id sectorfsm.SectorID) string { return apiID(id).String() }

// finalize moves what the SP needs into the persist store in lotus layout,
// drops the rest, checksums the kept files and reports them.
func (x *Executor) finalize(ctx context.Context, rec sectorfsm.Record, a sectorfsm.Finalize) (sectorfsm.Event, error) {
	x.stage("finalize")
	if x.Persist == "" {
		return nil, fmt.Errorf("%w: no writable [[attached]] persist store for thread %s", ErrPermanent, x.Thread)
	}
	dir := x.Store.SectorDir()
	name := sectorFileName(rec.Sector)
	type move struct{ src, rel string }
	moves := []move{{porep.SealedPath(dir), filepath.Join("sealed", name)}}
	if a.KeepUnsealed {
		moves = append(moves, move{porep.UnsealedPath(dir), filepath.Join("unsealed", name)})
	}
	cache := porep.CachePath(dir)
	entries, err := os.ReadDir(cache)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("worker: finalize: %w", err)
	}
	for _, e := range entries {
		if keptCacheFile(e.Name()) {
			moves = append(moves, move{filepath.Join(cache, e.Name()), filepath.Join("cache", name, e.Name())})
		}
	}
	for _, m := range moves {
		if err := moveFile(m.src, filepath.Join(x.Persist, m.rel)); err != nil {
			return nil, fmt.Errorf("worker: finalize: keep %s: %w", m.rel, err)
		}
	}
	// Drop the rest of the cache (layers, tree C, tree D) and a CC
	// sector's staged file: they are large and nobody needs them now.
	if err := os.RemoveAll(cache); err != nil {
		return nil, fmt.Errorf("worker: finalize: drop layers: %w", err)
	}
	if !a.KeepUnsealed {
		if err := os.Remove(porep.UnsealedPath(dir)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("worker: finalize: drop staged file: %w", err)
		}
	}
	// Checksum what the persist store holds for this sector; listing the
	// store (not the moves) makes a rerun after a crash see every file.
	var files []sectorfsm.File
	var rels []string
	rels = append(rels, filepath.Join("sealed", name))
	if a.KeepUnsealed {
		rels = append(rels, filepath.Join("unsealed", name))
	}
	kept, err := os.ReadDir(filepath.Join(x.Persist, "cache", name))
	if err != nil {
		return nil, fmt.Errorf("worker: finalize: %w", err)
	}
	for _, e := range kept {
		if keptCacheFile(e.Name()) {
			rels = append(rels, filepath.Join("cache", name, e.Name()))
		}
	}
	slices.Sort(rels)
	for _, rel := range rels {
		sum, size, err := fileSHA256(ctx, filepath.Join(x.Persist, rel))
		if err != nil {
			return nil, fmt.Errorf("worker: finalize: checksum %s: %w", rel, err)
		}
		files = append(files, sectorfsm.File{Name: filepath.ToSlash(rel), Size: size, SHA256: sum})
	}
	info := api.FinalizedInfo{Location: x.Persist, Files: apiFiles(files)}
	if _, err := x.Manager.ReportFinalized(ctx, apiID(rec.Sector), info); err != nil {
		return nil, err
	}
	return sectorfsm.Finalized{Location: x.Persist, Files: files}, nil
}

func apiFiles(files []sectorfsm.File) []api.SectorFile {
	out := make([]api.SectorFile, len(files))
	for i, f := range files {
		out[i] = api.SectorFile{Name: f.Name, Size: f.Size, SHA256: api.Hex32(f.SHA256)}
	}
	return out
}

// moveFile moves src to dst durably. It is idempotent: when src is gone
// and dst exists, the move already happened. Across filesystems it copies
// to a temporary name, fsyncs, renames, then removes src.
func moveFile(src, dst string) error {
	if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
		if _, derr := os.Stat(dst); derr == nil {
			return nil
		}
		return fmt.Errorf("%s is missing and %s does not exist", src, dst)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Rename(src, dst); err == nil {
		return syncDir(filepath.Dir(dst))
	}
	if err := copyFileSync(src, dst); err != nil {
		return err
	}
	return os.Remove(src)
}

func fileSHA256(ctx context.Context, path string) (sectorfsm.Bytes32, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return sectorfsm.Bytes32{}, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, &ctxReader{ctx: ctx, r: f})
	if err != nil {
		return sectorfsm.Bytes32{}, 0, err
	}
	var sum sectorfsm.Bytes32
	copy(sum[:], h.Sum(nil))
	return sum, n, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// deliveryRecord is what Deliver decided, kept in the sector directory so
// that ConfirmDelivery repeats the same report and Cleanup knows whether
// the persist store is the provider's long-term store.
type deliveryRecord struct {
	Target  api.DeliveryTarget `json:"target"`
	Report  api.DeliveryReport `json:"report"`
	InPlace bool               `json:"in_place"`
}

const deliveryFile = "delivery.json"

func (x *Executor) localFiles(rec sectorfsm.Record) []LocalFile {
	out := make([]LocalFile, len(rec.Files))
	for i, f := range rec.Files {
		out[i] = LocalFile{
			SectorFile: api.SectorFile{Name: f.Name, Size: f.Size, SHA256: api.Hex32(f.SHA256)},
			Path:       filepath.Join(rec.Location, filepath.FromSlash(f.Name)),
		}
	}
	return out
}

// deliver hands the finalized files over and reports it.
func (x *Executor) deliver(ctx context.Context, rec sectorfsm.Record) (sectorfsm.Event, error) {
	x.stage("deliver")
	id := apiID(rec.Sector)
	target, err := x.Manager.DeliveryTarget(ctx, id)
	if err != nil {
		return nil, err
	}
	files := x.localFiles(rec)
	d := deliveryRecord{Target: target, Report: api.DeliveryReport{State: api.DeliveryAccepted, Files: apiFiles(rec.Files)}}
	switch target.Architecture {
	case api.ArchSPProves:
		// The upload is done and verification asked for: the verdict is
		// the receiver's, which ConfirmDelivery waits for.
		state, err := x.transfer(ctx, target, id, files)
		switch {
		case errors.Is(err, ErrDeliveryRejected):
			d.Report.State, d.Report.Desc = api.DeliveryRejected, err.Error()
		case err != nil:
			return nil, err
		case state == "":
			d.Report.State = api.DeliveryVerifying
		default:
			d.Report.State = state
		}
	case api.ArchProviderProves:
		if target.StorePath == "" {
			return nil, fmt.Errorf("%w: architecture 1 target without store_path", ErrPermanent)
		}
		same, err := samePath(target.StorePath, rec.Location)
		if err != nil {
			return nil, err
		}
		d.InPlace = same
		if !same {
			for _, f := range files {
				dst := filepath.Join(target.StorePath, filepath.FromSlash(f.Name))
				if err := copyVerified(ctx, f, dst); err != nil {
					return nil, fmt.Errorf("worker: deliver to store: %w", err)
				}
			}
		}
	default:
		return nil, fmt.Errorf("%w: unknown delivery architecture %d", ErrPermanent, target.Architecture)
	}
	data, _ := json.Marshal(d)
	if err := writeFileSync(filepath.Join(x.Store.SectorDir(), deliveryFile), data); err != nil {
		return nil, err
	}
	resp, err := x.Manager.ReportDelivery(ctx, id, d.Report)
	if err != nil {
		return nil, err
	}
	if d.Report.State == api.DeliveryRejected || resp.State == api.DeliveryRejected {
		return sectorfsm.Delivered{Result: sectorfsm.SubmitRejected, Desc: d.Report.Desc + resp.Desc}, nil
	}
	return sectorfsm.Delivered{Result: sectorfsm.SubmitAccepted, Desc: resp.Desc}, nil
}

func (x *Executor) transfer(ctx context.Context, target api.DeliveryTarget, id api.SectorID, files []LocalFile) (api.DeliveryState, error) {
	release, err := x.Limits.acquire(ctx, StageTransfer, nil)
	if err != nil {
		return "", err
	}
	defer release()
	if pool := x.Pools[StageTransfer]; pool != nil {
		store := "receiver"
		task := TransferTask{Stores: map[string]TransferStore{store: {Name: store,
			Meta: map[string]string{"url": target.ReceiverURL, "token": target.Token, "sector": id.String()}}}}
		for _, f := range files {
			task.Routes = append(task.Routes, TransferRoute{Src: TransferEnd{URI: f.Path},
				Dest: TransferEnd{StoreName: &store, URI: f.Name}})
		}
		// A transfer program moves the files; the receiver's verdict is
		// read through the manager afterwards, as for the built-in client.
		var ok bool
		return api.DeliveryVerifying, pool.Run(ctx, task, &ok)
	}
	if x.Transferer != nil {
		return x.Transferer.Upload(ctx, target, id, files)
	}
	return "", fmt.Errorf("%w: sector goes to receiver %s but this worker has no transfer (delivery client or [[processors.transfer]])",
		ErrPermanent, target.ReceiverURL)
}

// confirmDelivery reads the delivery's verdict (DeliveryStatus, which
// records nothing the worker claims); while there is none the state
// machine sleeps and asks again.
func (x *Executor) confirmDelivery(ctx context.Context, rec sectorfsm.Record) (sectorfsm.Event, error) {
	data, err := os.ReadFile(filepath.Join(x.Store.SectorDir(), deliveryFile))
	if err != nil {
		return nil, fmt.Errorf("worker: confirm delivery: %w", err)
	}
	var d deliveryRecord
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("worker: confirm delivery: %w", err)
	}
	resp, err := x.Manager.DeliveryStatus(ctx, apiID(rec.Sector))
	if err != nil {
		return nil, err
	}
	switch resp.State {
	case api.DeliveryAccepted:
		// Files delivered in place are the provider's only copy.
		return sectorfsm.DeliveryState{Status: sectorfsm.DeliveryAccepted, MayCleanUp: resp.MayCleanUp && !d.InPlace, Desc: resp.Desc}, nil
	case api.DeliveryRejected:
		return sectorfsm.DeliveryState{Status: sectorfsm.DeliveryRejected, Desc: resp.Desc}, nil
	}
	return sectorfsm.DeliveryState{Status: sectorfsm.DeliveryPending, Desc: resp.Desc}, nil
}

// cleanup removes the sector's persisted files when allowed; the sealing
// directory itself is emptied by Store.Reset after the exit actions.
func (x *Executor) cleanup(rec sectorfsm.Record, a sectorfsm.Cleanup) error {
	if a.KeepPersisted || rec.Location == "" {
		return nil
	}
	for _, f := range rec.Files {
		p := filepath.Join(rec.Location, filepath.FromSlash(f.Name))
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("worker: cleanup: %w", err)
		}
	}
	_ = os.Remove(filepath.Join(rec.Location, "cache", sectorFileName(rec.Sector)))
	return nil
}

func samePath(a, b string) (bool, error) {
	aa, err := filepath.Abs(a)
	if err != nil {
		return false, err
	}
	bb, err := filepath.Abs(b)
	if err != nil {
		return false, err
	}
	if filepath.Clean(aa) == filepath.Clean(bb) {
		return true, nil
	}
	sa, err1 := os.Stat(aa)
	sb, err2 := os.Stat(bb)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb), nil
}

// copyVerified copies f to dst unless dst already has f's checksum, and
// checks the copy's checksum.
func copyVerified(ctx context.Context, f LocalFile, dst string) error {
	if sum, _, err := fileSHA256(ctx, dst); err == nil && sum == sectorfsm.Bytes32(f.SHA256) {
		return nil
	}
	if err := copyFileSync(f.Path, dst); err != nil {
		return err
	}
	sum, _, err := fileSHA256(ctx, dst)
	if err != nil {
		return err
	}
	if sum != sectorfsm.Bytes32(f.SHA256) {
		return fmt.Errorf("%s: checksum %s after copy, want %s", dst, sum, sectorfsm.Bytes32(f.SHA256))
	}
	return nil
}
