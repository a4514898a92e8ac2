package sdr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/sealant/sealant/proofs/abi"
)

// ErrLayer reports a label layer file that is missing or does not match the
// PC1 manifest.
var ErrLayer = errors.New("sdr: bad label layer")

// ManifestFileName is the PC1 manifest in the cache directory. It binds the
// layer files to the proof and replica id and records each completed layer's
// SHA-256, so a restart only trusts layers that hash to what was written.
const ManifestFileName = "sdr-pc1-manifest.json"

// LayerFileName is the name of layer `layer`'s label file (1-based), the name
// rust-fil-proofs uses (CacheKey::label_layer + StoreConfig data path):
// "sc-02-data-layer-1.dat". Each file holds N labels of 32 bytes in node
// order.
func LayerFileName(layer int) string {
	return "sc-02-data-layer-" + strconv.Itoa(layer) + ".dat"
}

// LayerPath is LayerFileName inside cacheDir.
func LayerPath(cacheDir string, layer int) string {
	return filepath.Join(cacheDir, LayerFileName(layer))
}

// PC1Options tunes RunPC1. The zero value is usable.
type PC1Options struct {
	// Parents supplies graph parents. Nil means the proof's parent cache file
	// in ParentCacheDir, generated there (verified against the production
	// digest when one is published) if missing.
	Parents ParentSource
	// ParentCacheDir overrides DefaultParentCacheDir.
	ParentCacheDir string
	// Workers bounds parent cache generation (≤ 0: GOMAXPROCS). Labelling
	// itself is sequential.
	Workers int
	// Logger receives one line per layer; nil discards.
	Logger *slog.Logger
}

// PC1Result describes a finished PC1.
type PC1Result struct {
	// LayerDigests is the SHA-256 of each layer file, layer 1 first.
	LayerDigests [][32]byte
	// Resumed is the number of layers kept from an earlier, interrupted run.
	Resumed int
}

// manifest is the JSON content of ManifestFileName.
type manifest struct {
	Version   int             `json:"version"`
	Proof     int64           `json:"proof"`
	ReplicaID string          `json:"replica_id"`
	Nodes     uint64          `json:"nodes"`
	Layers    []manifestLayer `json:"layers"`
}

type manifestLayer struct {
	Layer  int    `json:"layer"`
	SHA256 string `json:"sha256"`
}

// RunPC1 computes the label layers of a sector into cacheDir (spec §6):
// layer files LayerFileName(1…Layers) and the manifest.
//
// It is idempotent and resumable: layer files are written under a temporary
// name, fsynced and renamed, then recorded with their SHA-256 in the
// manifest; a rerun keeps every leading layer whose file still matches the
// manifest for the same proof and replica id and recomputes the rest (the
// kept layers are re-hashed once, a sequential read of N·32 bytes each).
//
// Memory: the layer being computed is held in memory (N·32 bytes: 512 MiB
// for a 512MiB sector, 32 GiB for 32GiB) and the previous layer is mapped
// read-only from its file (another N·32 bytes of page cache); parents are
// streamed from the parent cache. A cancelled ctx stops within ~65k nodes.
func RunPC1(ctx context.Context, cacheDir string, replicaID [32]byte, proof abi.RegisteredSealProof, opts *PC1Options) (*PC1Result, error) {
	if opts == nil {
		opts = &PC1Options{}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g, err := NewGraph(proof)
	if err != nil {
		return nil, err
	}
	if replicaID[31]&0xc0 != 0 {
		return nil, fmt.Errorf("sdr: replica id %x is not a field element (top bits set)", replicaID)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("sdr: cache dir: %w", err)
	}

	src := opts.Parents
	if src == nil {
		pc, err := ensureParentCache(ctx, g, opts, log)
		if err != nil {
			return nil, err
		}
		defer pc.Close()
		src = pc
	}

	layers := proof.Layers()
	layerBytes := int64(g.nodes * abi.NodeSize)
	want := manifest{Version: 1, Proof: int64(proof), ReplicaID: hex.EncodeToString(replicaID[:]), Nodes: g.nodes}
	res := &PC1Result{}

	kept, err := resumableLayers(ctx, cacheDir, &want, layerBytes, layers)
	if err != nil {
		return nil, err
	}
	want.Layers = kept
	for _, l := range kept {
		var d [32]byte
		hex.Decode(d[:], []byte(l.SHA256))
		res.LayerDigests = append(res.LayerDigests, d)
	}
	res.Resumed = len(kept)
	if len(kept) == layers {
		log.Info("pc1 already complete", "cache", cacheDir)
		return res, nil
	}
	// Forget layers past the resume point before overwriting any file.
	if err := writeManifest(cacheDir, &want); err != nil {
		return nil, err
	}

	cur, free := allocLayer(int(layerBytes))
	defer free()
	var prev *mappedFile
	defer func() { prev.close() }()
	if len(kept) > 0 {
		if prev, err = mapFile(LayerPath(cacheDir, len(kept)), layerBytes); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrLayer, err)
		}
	}
	stop := ctx.Err
	for layer := len(kept) + 1; layer <= layers; layer++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		var prevData []byte
		if prev != nil {
			prevData = prev.data
		}
		if err := labelLayer(&replicaID, uint32(layer), src, cur, prevData, stop); err != nil {
			return nil, fmt.Errorf("sdr: layer %d: %w", layer, err)
		}
		sum, err := writeLayer(cacheDir, layer, cur)
		if err != nil {
			return nil, err
		}
		want.Layers = append(want.Layers, manifestLayer{Layer: layer, SHA256: hex.EncodeToString(sum[:])})
		if err := writeManifest(cacheDir, &want); err != nil {
			return nil, err
		}
		res.LayerDigests = append(res.LayerDigests, sum)
		el := time.Since(start)
		log.Info("pc1 layer done", "layer", layer, "of", layers, "elapsed", el,
			"ns_per_label", el.Nanoseconds()/int64(g.nodes))

		if layer < layers {
			prev.close()
			if prev, err = mapFile(LayerPath(cacheDir, layer), layerBytes); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrLayer, err)
			}
		}
	}
	return res, nil
}

// ensureParentCache opens (or generates) the proof's parent cache file.
func ensureParentCache(ctx context.Context, g *Graph, opts *PC1Options, log *slog.Logger) (*ParentCacheFile, error) {
	dir := opts.ParentCacheDir
	if dir == "" {
		dir = DefaultParentCacheDir()
	}
	path := filepath.Join(dir, g.ParentCacheFileName())
	st, err := os.Stat(path)
	if err == nil {
		// A cache this process did not write is hashed once before it is
		// trusted; later sectors reuse the verdict while the file is unchanged.
		key := verifiedKey{path: path, size: st.Size(), mtime: st.ModTime().UnixNano()}
		_, seen := verifiedCaches.Load(key)
		pc, err := OpenParentCacheFile(ctx, g, path, !seen)
		if err == nil {
			verifiedCaches.Store(key, struct{}{})
			return pc, nil
		}
		if !errors.Is(err, ErrParentCache) || ctx.Err() != nil {
			return nil, err
		}
		// Wrong size or digest: like rust-fil-proofs, replace it.
		log.Warn("replacing bad parent cache", "path", path, "err", err)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrParentCache, err)
	}
	log.Info("generating parent cache", "path", path, "bytes", g.ParentCacheSize())
	if _, err := GenerateParentCacheFile(ctx, g, path, opts.Workers); err != nil {
		return nil, err
	}
	// GenerateParentCacheFile already compared the production digest.
	return OpenParentCacheFile(ctx, g, path, false)
}

// verifiedCaches remembers parent cache files whose digest was checked, so a
// 56 GiB 32GiB cache is hashed once per process, not once per sector.
var verifiedCaches sync.Map

type verifiedKey struct {
	path  string
	size  int64
	mtime int64
}

// resumableLayers returns the leading manifest entries whose files verify.
func resumableLayers(ctx context.Context, dir string, want *manifest, layerBytes int64, layers int) ([]manifestLayer, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sdr: read manifest: %w", err)
	}
	var have manifest
	if json.Unmarshal(b, &have) != nil || have.Version != want.Version || have.Proof != want.Proof ||
		have.ReplicaID != want.ReplicaID || have.Nodes != want.Nodes {
		return nil, nil // another sector's or an unreadable manifest: start over
	}
	var kept []manifestLayer
	for i, l := range have.Layers {
		if l.Layer != i+1 || l.Layer > layers {
			break
		}
		sum, err := hashFile(ctx, LayerPath(dir, l.Layer), layerBytes)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			break
		}
		if hex.EncodeToString(sum[:]) != l.SHA256 {
			break
		}
		kept = append(kept, l)
	}
	return kept, nil
}

// hashFile returns the SHA-256 of a file that must have exactly size bytes.
func hashFile(ctx context.Context, path string, size int64) ([32]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return [32]byte{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return [32]byte{}, err
	}
	if st.Size() != size {
		return [32]byte{}, fmt.Errorf("%w: %s has %d bytes, want %d", ErrLayer, path, st.Size(), size)
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return [32]byte{}, err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return [32]byte{}, err
		}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, nil
}

// writeLayer writes one completed layer atomically and returns its SHA-256.
func writeLayer(dir string, layer int, data []byte) ([32]byte, error) {
	sum, err := writeFileChunked(dir, LayerFileName(layer), len(data), data, nil)
	if err != nil {
		return [32]byte{}, fmt.Errorf("sdr: write layer %d: %w", layer, err)
	}
	return sum, nil
}

func writeManifest(dir string, m *manifest) error {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(dir, ManifestFileName, append(b, '\n')); err != nil {
		return fmt.Errorf("sdr: write manifest: %w", err)
	}
	return nil
}

// writeFileChunked writes a file of size bytes atomically (a fsynced
// temporary file renamed into place, then the directory fsynced), its
// content produced chunk by chunk into buf by produce(offset, dst) (nil:
// buf already holds all size bytes), and returns the content's SHA-256. Where the sizes and the filesystem allow
// it the file is written with O_DIRECT, so a layer goes from buf to the
// disk without a copy into the page cache.
func writeFileChunked(dir, name string, size int, buf []byte, produce func(off int, dst []byte)) ([32]byte, error) {
	sum, err := writeChunked(dir, name, size, buf, produce, true)
	if errors.Is(err, errDirectRefused) {
		sum, err = writeChunked(dir, name, size, buf, produce, false)
	}
	return sum, err
}

func writeChunked(dir, name string, size int, buf []byte, produce func(off int, dst []byte), direct bool) ([32]byte, error) {
	tmp := filepath.Join(dir, name+".tmp")
	f, direct, err := createForWrite(tmp, size, buf, direct)
	if err != nil {
		return [32]byte{}, err
	}
	h := sha256.New()
	for off := 0; off < size && err == nil; {
		n := min(len(buf), size-off)
		if produce != nil {
			produce(off, buf[:n])
		}
		h.Write(buf[:n])
		_, err = f.Write(buf[:n])
		off += n
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		if direct && errors.Is(err, syscall.EINVAL) {
			return [32]byte{}, errDirectRefused // opened with O_DIRECT, but a write was refused
		}
		return [32]byte{}, err
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, syncDir(dir)
}

// writeFileAtomic writes name in dir via a fsynced temporary file and a
// rename, then fsyncs dir, so a crash leaves either the old or the new file.
func writeFileAtomic(dir, name string, data []byte) error {
	_, err := writeFileChunked(dir, name, len(data), data, nil)
	return err
}
