package sdr

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/sealant/sealant/proofs/abi"
)

// ErrParentCache reports a parent cache file that is missing, has the wrong
// size or does not hash to the expected digest.
var ErrParentCache = errors.New("sdr: bad parent cache")

// ParentCacheBytesPerNode is the size of one node's entry in a parent cache
// file: 14 little-endian u32 parents.
const ParentCacheBytesPerNode = abi.Degree * 4

// parentCacheVersion is rust-fil-proofs' parameter_cache VERSION, part of the
// cache file name.
const parentCacheVersion = 28

// productionDigests are the SHA-256 digests of the parent cache files listed
// in rust-fil-proofs storage-proofs-porep/parent_cache.json, by proof id.
// The Synthetic ids have no published entry.
var productionDigests = map[abi.RegisteredSealProof]string{
	abi.StackedDrg2KiBV1:     "3da49221e2ed55371b86d0bf3d6526fcf128af61bed904f966428db1b531750d",
	abi.StackedDrg8MiBV1:     "a76604f2f59f2744c7151653bbb1d8596b6b57d295e6fa6c1f0c41d725b502ce",
	abi.StackedDrg512MiBV1:   "3adcc092423aa76d6a7184016893406da44dd974b219a89cd3ece25e4e3018f5",
	abi.StackedDrg32GiBV1:    "3c4f9841fcc75aed8c695800e58d08480629f25af3a2aefd81904181d75cc0b6",
	abi.StackedDrg64GiBV1:    "2778a732ad46a7dc18e0564dfdf59fd321dcde74ab476fd6d3c4e6735d7cd89c",
	abi.StackedDrg2KiBV1_1:   "840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97",
	abi.StackedDrg8MiBV1_1:   "03cd13565ded97c240a5f52e54295ad127bd0461b57904cb3a4d79b097bbecab",
	abi.StackedDrg512MiBV1_1: "b5877d1963793efebc261fd8fde4dd6bc59e6b5c7abf52617a4ee023b8dc173a",
	abi.StackedDrg32GiBV1_1:  "93deeac5e3052b6927467d4b2641bb782f05491de18d510147c93eeedd8672da",
	abi.StackedDrg64GiBV1_1:  "2698b74eb2606b55b98d8b095e18b6320b47f46e00075956d48640ccd1641b03",
}

// ProductionParentCacheDigest returns the hex SHA-256 of proof's parent cache
// as published by rust-fil-proofs, if there is one.
func ProductionParentCacheDigest(proof abi.RegisteredSealProof) (string, bool) {
	d, ok := productionDigests[proof]
	return d, ok
}

// ParentCacheSize is the size in bytes of the parent cache file of g.
func (g *Graph) ParentCacheSize() uint64 { return g.nodes * ParentCacheBytesPerNode }

// ParentCacheFileName is the file name rust-fil-proofs gives g's parent cache
// (cache.rs cache_path), so an existing rust-fil-proofs cache directory
// (FIL_PROOFS_PARENT_CACHE, default /var/tmp/filecoin-parents) can be shared.
func (g *Graph) ParentCacheFileName() string {
	id := "stacked_graph::StackedGraph{expansion_degree: 8 base_graph: drgraph::BucketGraph{size: " +
		strconv.FormatUint(g.nodes, 10) + "; degree: 6; hasher: poseidon_hasher} }"
	h := sha256.New()
	h.Write([]byte("poseidon_hasher"))
	h.Write([]byte(id))
	var b [8]byte
	for _, k := range g.keys {
		binary.LittleEndian.PutUint64(b[:], k)
		h.Write(b[:])
	}
	binary.LittleEndian.PutUint32(b[:4], uint32(g.nodes))
	h.Write(b[:4])
	return fmt.Sprintf("v%d-sdr-parent-%s.cache", parentCacheVersion, hex.EncodeToString(h.Sum(nil)))
}

// DefaultParentCacheDir is where parent caches live unless told otherwise:
// $FIL_PROOFS_PARENT_CACHE, else $FIL_PROOFS_CACHE_DIR/filecoin-parents, else
// /var/tmp/filecoin-parents (the rust-fil-proofs defaults).
func DefaultParentCacheDir() string {
	if d := os.Getenv("FIL_PROOFS_PARENT_CACHE"); d != "" {
		return d
	}
	base := os.Getenv("FIL_PROOFS_CACHE_DIR")
	if base == "" {
		base = "/var/tmp/"
	}
	return base + "filecoin-parents"
}

// cacheChunkNodes is the unit of parallel parent generation and of buffered
// cache reads: 4096 nodes = 224 KiB.
const cacheChunkNodes = 4096

// WriteParentCache generates g's parent cache and streams it to w (nil: only
// hash it), returning the SHA-256 of the whole stream. Parents of different
// nodes are independent, so `workers` goroutines (≤ 0: GOMAXPROCS) compute
// chunks concurrently while the caller's goroutine writes them in order;
// memory stays at a few chunks per worker whatever the sector size.
func WriteParentCache(ctx context.Context, g *Graph, w io.Writer, workers int) ([32]byte, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g.Warm()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type job struct {
		first uint64
		out   chan []byte
	}
	chunks := (g.nodes + cacheChunkNodes - 1) / cacheChunkNodes
	jobs := make(chan job)
	futures := make(chan chan []byte, 2*workers)
	// free recycles chunk buffers; at most len(futures)+workers+1 exist.
	free := make(chan []byte, 3*workers+1)
	getBuf := func() []byte {
		select {
		case b := <-free:
			return b
		default:
			return make([]byte, cacheChunkNodes*ParentCacheBytesPerNode)
		}
	}

	go func() { // producer: hands out chunks in order, records their futures in order
		defer close(jobs)
		defer close(futures)
		for c := range chunks {
			j := job{first: c * cacheChunkNodes, out: make(chan []byte, 1)}
			select {
			case futures <- j.out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				// The future is queued; complete it so the consumer's drain ends.
				j.out <- nil
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ps [abi.Degree]uint32
			for j := range jobs {
				n := min(uint64(cacheChunkNodes), g.nodes-j.first)
				buf := getBuf()[:n*ParentCacheBytesPerNode]
				for i := range n {
					g.Parents(uint32(j.first+i), ps[:])
					o := buf[i*ParentCacheBytesPerNode:]
					for k, p := range ps {
						binary.LittleEndian.PutUint32(o[4*k:], p)
					}
				}
				j.out <- buf
			}
		}()
	}

	h := sha256.New()
	var err error
	for f := range futures {
		buf := <-f
		if err != nil || buf == nil {
			continue // draining after an error or cancellation
		}
		if err = ctx.Err(); err != nil {
			cancel()
			continue
		}
		h.Write(buf)
		if w != nil {
			if _, werr := w.Write(buf); werr != nil {
				err = fmt.Errorf("sdr: write parent cache: %w", werr)
				cancel()
			}
		}
		select {
		case free <- buf[:cap(buf)]:
		default:
		}
	}
	wg.Wait()
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return [32]byte{}, err
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, nil
}

// ParentCacheDigest computes the SHA-256 of g's parent cache without storing
// it (see WriteParentCache).
func ParentCacheDigest(ctx context.Context, g *Graph, workers int) ([32]byte, error) {
	return WriteParentCache(ctx, g, nil, workers)
}

// GenerateParentCacheFile writes g's parent cache to path atomically (a
// temporary file in the same directory, fsynced and renamed) and returns its
// digest. If rust-fil-proofs publishes a digest for the proof, a mismatch is
// an error and nothing is left at path.
func GenerateParentCacheFile(ctx context.Context, g *Graph, path string, workers int) ([32]byte, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return [32]byte{}, fmt.Errorf("sdr: parent cache dir: %w", err)
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return [32]byte{}, fmt.Errorf("sdr: parent cache: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename

	bw := bufio.NewWriterSize(f, 1<<20)
	sum, err := WriteParentCache(ctx, g, bw, workers)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return [32]byte{}, fmt.Errorf("sdr: write parent cache %s: %w", path, err)
	}
	if want, ok := ProductionParentCacheDigest(g.proof); ok && hex.EncodeToString(sum[:]) != want {
		return [32]byte{}, fmt.Errorf("%w: generated %v cache has digest %x, production digest is %s", ErrParentCache, g.proof, sum, want)
	}
	if err := os.Rename(tmp, path); err != nil {
		return [32]byte{}, fmt.Errorf("sdr: parent cache: %w", err)
	}
	return sum, syncDir(dir)
}

// ParentSource yields the parents of consecutive nodes. Implementations are
// the Graph itself (computes on the fly), *ParentCacheFile (reads a cache
// file) and *ParentCacheMem (holds the cache in memory).
type ParentSource interface {
	// Iter returns an iterator positioned at node first.
	Iter(first uint64) (ParentIter, error)
}

// ParentIter walks nodes in increasing order. It is not safe for concurrent
// use.
type ParentIter interface {
	// Next writes the parents of the next node to ps.
	Next(ps *[abi.Degree]uint32) error
	// Close releases the iterator.
	Close() error
}

// Iter computes parents on the fly (after Warm: a few hundred ns per node,
// mostly the ChaCha8 DRG draws).
func (g *Graph) Iter(first uint64) (ParentIter, error) {
	if first > g.nodes {
		return nil, fmt.Errorf("%w: %d", ErrNodeRange, first)
	}
	g.Warm()
	return &graphIter{g: g, next: first}, nil
}

type graphIter struct {
	g    *Graph
	next uint64
}

func (it *graphIter) Next(ps *[abi.Degree]uint32) error {
	if it.next >= it.g.nodes {
		return io.EOF
	}
	it.g.Parents(uint32(it.next), ps[:])
	it.next++
	return nil
}

func (it *graphIter) Close() error { return nil }

// ParentCacheMem is a whole parent cache in memory (N·56 bytes: 14.7 MB for
// 8MiB, 940 MB for 512MiB sectors). Safe for concurrent use.
type ParentCacheMem struct {
	nodes   uint64
	parents []uint32
}

// NewParentCacheMem generates the cache of g in memory using `workers`
// goroutines.
func NewParentCacheMem(ctx context.Context, g *Graph, workers int) (*ParentCacheMem, error) {
	m := &ParentCacheMem{nodes: g.nodes, parents: make([]uint32, g.nodes*abi.Degree)}
	w := &memWriter{dst: m.parents}
	if _, err := WriteParentCache(ctx, g, w, workers); err != nil {
		return nil, err
	}
	return m, nil
}

type memWriter struct {
	dst []uint32
	off int
}

func (w *memWriter) Write(b []byte) (int, error) {
	for i := 0; i+4 <= len(b); i += 4 {
		w.dst[w.off] = binary.LittleEndian.Uint32(b[i:])
		w.off++
	}
	return len(b), nil
}

// Parents returns the 14 parents of node (a view into the cache).
func (m *ParentCacheMem) Parents(node uint64) []uint32 {
	return m.parents[node*abi.Degree : (node+1)*abi.Degree]
}

// Iter implements ParentSource.
func (m *ParentCacheMem) Iter(first uint64) (ParentIter, error) {
	if first > m.nodes {
		return nil, fmt.Errorf("%w: %d", ErrNodeRange, first)
	}
	return &memIter{m: m, next: first}, nil
}

type memIter struct {
	m    *ParentCacheMem
	next uint64
}

func (it *memIter) Next(ps *[abi.Degree]uint32) error {
	if it.next >= it.m.nodes {
		return io.EOF
	}
	copy(ps[:], it.m.parents[it.next*abi.Degree:])
	it.next++
	return nil
}

func (it *memIter) Close() error { return nil }

// ParentCacheFile is an open parent cache file. Iterators read it
// sequentially in large chunks with one chunk of read-ahead, so memory is
// bounded (~2 MiB) whatever the sector size. Safe for concurrent use.
type ParentCacheFile struct {
	f     *os.File
	nodes uint64
	path  string
}

// OpenParentCacheFile opens the parent cache of g at path, checking its size.
// With verify, it also hashes the whole file and compares the digest with the
// production digest (if the proof has one); use VerifyDigest to learn the
// digest of a cache without a published one.
func OpenParentCacheFile(ctx context.Context, g *Graph, path string, verify bool) (*ParentCacheFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParentCache, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %w", ErrParentCache, err)
	}
	if uint64(st.Size()) != g.ParentCacheSize() {
		f.Close()
		return nil, fmt.Errorf("%w: %s has %d bytes, want %d", ErrParentCache, path, st.Size(), g.ParentCacheSize())
	}
	pc := &ParentCacheFile{f: f, nodes: g.nodes, path: path}
	if verify {
		if want, ok := ProductionParentCacheDigest(g.proof); ok {
			sum, err := pc.Digest(ctx)
			if err != nil {
				f.Close()
				return nil, err
			}
			if got := hex.EncodeToString(sum[:]); got != want {
				f.Close()
				return nil, fmt.Errorf("%w: %s has digest %s, want %s", ErrParentCache, path, got, want)
			}
		}
	}
	return pc, nil
}

// Path is the file's path.
func (pc *ParentCacheFile) Path() string { return pc.path }

// Close closes the file; open iterators must not be used afterwards.
func (pc *ParentCacheFile) Close() error { return pc.f.Close() }

// Digest hashes the whole file.
func (pc *ParentCacheFile) Digest(ctx context.Context) ([32]byte, error) {
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for off := int64(0); ; {
		if err := ctx.Err(); err != nil {
			return [32]byte{}, err
		}
		n, err := pc.f.ReadAt(buf, off)
		h.Write(buf[:n])
		off += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return [32]byte{}, fmt.Errorf("%w: %w", ErrParentCache, err)
		}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, nil
}

// Iter implements ParentSource.
func (pc *ParentCacheFile) Iter(first uint64) (ParentIter, error) {
	if first > pc.nodes {
		return nil, fmt.Errorf("%w: %d", ErrNodeRange, first)
	}
	it := &fileIter{pc: pc, next: first, chunks: make(chan fileChunk, 1), done: make(chan struct{}), free: make(chan []uint32, 2)}
	go it.readAhead(first)
	return it, nil
}

// fileChunkNodes is the read unit of fileIter: 16384 nodes = 896 KiB.
const fileChunkNodes = 4 * cacheChunkNodes

type fileChunk struct {
	parents []uint32
	err     error
}

type fileIter struct {
	pc     *ParentCacheFile
	next   uint64
	cur    []uint32
	spent  []uint32 // the chunk cur points into
	chunks chan fileChunk
	free   chan []uint32 // consumed chunks handed back for reuse
	done   chan struct{}
	closed bool
}

// readAhead decodes chunks in a goroutine so file reads overlap labelling.
func (it *fileIter) readAhead(first uint64) {
	defer close(it.chunks)
	raw := make([]byte, fileChunkNodes*ParentCacheBytesPerNode)
	for node := first; node < it.pc.nodes; node += fileChunkNodes {
		n := min(uint64(fileChunkNodes), it.pc.nodes-node)
		b := raw[:n*ParentCacheBytesPerNode]
		var c fileChunk
		if _, err := it.pc.f.ReadAt(b, int64(node*ParentCacheBytesPerNode)); err != nil {
			c.err = fmt.Errorf("%w: read %s: %w", ErrParentCache, it.pc.path, err)
		} else {
			select {
			case c.parents = <-it.free:
			default:
				c.parents = make([]uint32, fileChunkNodes*abi.Degree)
			}
			c.parents = c.parents[:n*abi.Degree]
			for i := range c.parents {
				c.parents[i] = binary.LittleEndian.Uint32(b[4*i:])
			}
		}
		select {
		case it.chunks <- c:
		case <-it.done:
			return
		}
		if c.err != nil {
			return
		}
	}
}

func (it *fileIter) Next(ps *[abi.Degree]uint32) error {
	if len(it.cur) == 0 {
		if it.spent != nil {
			select {
			case it.free <- it.spent[:cap(it.spent)]:
			default:
			}
			it.spent = nil
		}
		c, ok := <-it.chunks
		if !ok {
			return io.EOF
		}
		if c.err != nil {
			return c.err
		}
		it.cur, it.spent = c.parents, c.parents
	}
	copy(ps[:], it.cur[:abi.Degree])
	it.cur = it.cur[abi.Degree:]
	it.next++
	return nil
}

func (it *fileIter) Close() error {
	if !it.closed {
		it.closed = true
		close(it.done)
	}
	return nil
}
