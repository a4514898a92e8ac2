package sdr

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/internal/sha2"
	"golang.org/x/sync/errgroup"
)

// ErrBatchMemory reports a batch whose working set exceeds the memory it
// was given; the message carries the number of bytes it would need.
var ErrBatchMemory = errors.New("sdr: batch does not fit in memory")

// BatchSector is one sector of a batch PC1: its cache directory (the layer
// files and manifest go there, exactly as RunPC1 writes them) and its
// replica id.
type BatchSector struct {
	CacheDir  string
	ReplicaID [32]byte
}

// BatchOptions tunes RunPC1Batch. The zero value is usable.
type BatchOptions struct {
	// Parents, ParentCacheDir and Logger are as in PC1Options.
	Parents        ParentSource
	ParentCacheDir string
	Logger         *slog.Logger
	// Workers is the number of labelling goroutines, one per core to use
	// (≤ 0: GOMAXPROCS). The sectors are split among them as evenly as
	// possible; more workers than sectors are not used.
	Workers int
	// MemoryLimit, if > 0, is the most memory the batch may use
	// (BatchMemory); a larger batch is refused before any work.
	MemoryLimit int64
	// Layers, if > 0 and below the proof's layer count, stops after that
	// many layers. For benchmarks only: the result is not a complete PC1.
	Layers int
}

// BatchMemory is the memory RunPC1Batch needs for n sectors of proof:
//
//   - two label layers per sector in anonymous memory (the layer being
//     labelled and the previous one, both read at random offsets, so both
//     are kept resident, on 2 MiB pages, rather than paged from disk):
//     2 × sector size per sector;
//   - per sector, the 8 MiB buffer its layer file is written through;
//   - the window of decoded parent-cache chunks shared by the workers;
//   - 64 MiB for the rest of the process (Go runtime, stacks, buffers).
//
// The parent cache file itself (56 bytes per node: 1.75 × sector size) is
// read sequentially once per layer through the page cache and is not
// counted: the kernel can drop those pages at will, though keeping it
// cached saves the re-read. Written layer files bypass the page cache
// (O_DIRECT) where the filesystem allows it.
func BatchMemory(proof abi.RegisteredSealProof, n int) int64 {
	layer := int64(proof.SectorSize()) // N nodes × 32 bytes
	chunk := min(int64(laneChunkNodes)*abi.NodeSize, layer)
	return int64(n)*(2*layer+chunk) + parentFeedWindowBytes + batchOverheadBytes
}

// CheckBatchMemory returns ErrBatchMemory, with the bytes needed, when n
// sectors of proof do not fit limit (≤ 0: no limit).
func CheckBatchMemory(proof abi.RegisteredSealProof, n int, limit int64) error {
	if need := BatchMemory(proof, n); limit > 0 && need > limit {
		return fmt.Errorf("%w: %d sectors of %s need %d bytes (%.1f GiB), limit is %d bytes (%.1f GiB)",
			ErrBatchMemory, n, proof, need, float64(need)/(1<<30), limit, float64(limit)/(1<<30))
	}
	return nil
}

// batchOverheadBytes is BatchMemory's allowance for the process itself.
const batchOverheadBytes = 64 << 20

// parentFeedDepth is how many decoded chunks the parent feed keeps in
// flight (being read, queued or labelled); parentFeedWindowBytes is their
// memory.
const (
	parentFeedDepth       = 4
	parentFeedWindowBytes = parentFeedDepth * fileChunkNodes * abi.Degree * 4
)

// RunPC1Batch computes the label layers of several sectors of the same
// proof in one pass per layer, with the result for each sector identical,
// file for file, to RunPC1 on it alone.
//
// Why a batch: every sector of one proof shares the graph, so one read of a
// node's parents serves the whole batch; and the labels of one node in two
// sectors do not depend on each other, so each worker hashes four of them
// at once (sha2.Label4) or two (sha2.Label2), keeping the SHA unit busy
// where one label alone waits on its own chain of 20 compressions.
//
// Work is split layer by layer: every worker labels layer L of its sectors,
// then each sector's layer file and manifest are written (as in RunPC1), and
// only then does layer L+1 start. A batch killed at any point therefore
// resumes at the first layer some sector lacks; layers every sector has
// finished are kept (and re-hashed once to check them). A sector that
// already holds all its layers still takes part if others do not, and its
// layers past the batch's resume point are rewritten, bit for bit the same.
//
// Memory is BatchMemory(proof, len(sectors)); with opts.MemoryLimit set, a
// larger batch is refused with ErrBatchMemory before anything is written.
func RunPC1Batch(ctx context.Context, proof abi.RegisteredSealProof, sectors []BatchSector, opts *BatchOptions) ([]*PC1Result, error) {
	if opts == nil {
		opts = &BatchOptions{}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(sectors) == 0 {
		return nil, fmt.Errorf("sdr: batch of no sectors")
	}
	g, err := NewGraph(proof)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i, s := range sectors {
		if s.ReplicaID[31]&0xc0 != 0 {
			return nil, fmt.Errorf("sdr: batch sector %d: replica id %x is not a field element (top bits set)", i, s.ReplicaID)
		}
		if s.CacheDir == "" || seen[s.CacheDir] {
			return nil, fmt.Errorf("sdr: batch sector %d: cache dir %q empty or used twice", i, s.CacheDir)
		}
		seen[s.CacheDir] = true
	}
	if err := CheckBatchMemory(proof, len(sectors), opts.MemoryLimit); err != nil {
		return nil, err
	}
	for _, s := range sectors {
		if err := os.MkdirAll(s.CacheDir, 0o755); err != nil {
			return nil, fmt.Errorf("sdr: cache dir: %w", err)
		}
	}

	src := opts.Parents
	if src == nil {
		pc, err := ensureParentCache(ctx, g, &PC1Options{ParentCacheDir: opts.ParentCacheDir, Workers: opts.Workers}, log)
		if err != nil {
			return nil, err
		}
		defer pc.Close()
		src = pc
	}

	layers := proof.Layers()
	if opts.Layers > 0 && opts.Layers < layers {
		layers = opts.Layers
	}
	layerBytes := int64(g.nodes * abi.NodeSize)

	// Resume point: the first layer some sector lacks.
	wants := make([]manifest, len(sectors))
	kept := make([][]manifestLayer, len(sectors))
	start := layers + 1
	for i, s := range sectors {
		wants[i] = manifest{Version: 1, Proof: int64(proof), ReplicaID: hex.EncodeToString(s.ReplicaID[:]), Nodes: g.nodes}
		k, err := resumableLayers(ctx, s.CacheDir, &wants[i], layerBytes, layers)
		if err != nil {
			return nil, err
		}
		kept[i] = k
		start = min(start, len(k)+1)
	}
	res := make([]*PC1Result, len(sectors))
	for i := range sectors {
		k := kept[i][:start-1]
		wants[i].Layers = k
		r := &PC1Result{Resumed: len(k)}
		for _, l := range k {
			var d [32]byte
			hex.Decode(d[:], []byte(l.SHA256))
			r.LayerDigests = append(r.LayerDigests, d)
		}
		res[i] = r
	}
	if start > layers {
		log.Info("batch pc1 already complete", "sectors", len(sectors))
		return res, nil
	}
	// Forget layers past the resume point before overwriting any file.
	for i, s := range sectors {
		if len(kept[i]) >= start {
			if err := writeManifest(s.CacheDir, &wants[i]); err != nil {
				return nil, err
			}
		}
	}

	// Each worker's sectors keep their two resident layers interleaved node
	// by node (see laneGroup), swapped after each layer; prev of the first
	// labelled layer is read back from the files when resuming.
	groups := make([]*laneGroup, 0, len(sectors))
	for _, idx := range splitBatch(len(sectors), opts.Workers) {
		lg := &laneGroup{idx: idx}
		var free func()
		lg.cur, free = allocLayer(int(layerBytes) * len(idx))
		defer free()
		if start < layers || start > 1 {
			lg.prev, free = allocLayer(int(layerBytes) * len(idx))
			defer free()
		}
		if start > 1 {
			for lane, i := range idx {
				if err := readLaneLayer(LayerPath(sectors[i].CacheDir, start-1), lg.prev, lane, len(idx)); err != nil {
					return nil, err
				}
			}
		}
		groups = append(groups, lg)
	}

	// Layer L is written (de-interleaved, hashed, written, fsynced,
	// recorded in each manifest) while layer L+1 is labelled: its buffer is
	// then only read, as the previous layer. pending is that write; it must
	// finish before the buffer is relabelled, and before the next layer's
	// own write so that manifests only ever grow by whole layers in order.
	var pending *errgroup.Group
	wait := func() error {
		if pending == nil {
			return nil
		}
		err := pending.Wait()
		pending = nil
		return err
	}
	defer wait()
	for layer := start; layer <= layers; layer++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t0 := time.Now()
		if err := labelBatchLayer(ctx, g, src, uint32(layer), sectors, groups); err != nil {
			return nil, fmt.Errorf("sdr: batch layer %d: %w", layer, err)
		}
		labelled := time.Since(t0)
		if err := wait(); err != nil {
			return nil, err
		}
		labels := int64(g.nodes) * int64(len(sectors))
		log.Info("batch pc1 layer labelled", "layer", layer, "of", layers, "sectors", len(sectors),
			"elapsed", labelled, "ns_per_label", labelled.Nanoseconds()/labels)
		pending = &errgroup.Group{}
		for _, lg := range groups {
			buf := lg.cur
			for lane, i := range lg.idx {
				s := sectors[i]
				pending.Go(func() error {
					sum, err := writeLaneLayer(s.CacheDir, layer, buf, lane, len(lg.idx))
					if err != nil {
						return err
					}
					wants[i].Layers = append(wants[i].Layers, manifestLayer{Layer: layer, SHA256: hex.EncodeToString(sum[:])})
					res[i].LayerDigests = append(res[i].LayerDigests, sum)
					return writeManifest(s.CacheDir, &wants[i])
				})
			}
		}
		if layer < layers {
			for _, lg := range groups {
				lg.cur, lg.prev = lg.prev, lg.cur
			}
		}
	}
	if err := wait(); err != nil {
		return nil, err
	}
	return res, nil
}

// laneGroup is one worker's share of a batch: the sectors idx (its lanes)
// and their current and previous layers, interleaved node by node: the
// label of node n in lane k is at (n·lanes + k)·32. A node's parents are
// the same in every sector, so one cache line (two lanes) or two adjacent
// ones (three or four) hold a parent's labels for the whole group, and one
// TLB entry and one memory round trip serve them all; that is the same
// reason SupraSeal keeps its batch's layers interleaved. The files are
// written per sector in the rust-fil-proofs layout (writeLaneLayer).
type laneGroup struct {
	idx       []int
	cur, prev []byte
}

// laneChunkNodes is the unit in which a lane is copied between the
// interleaved layers and its file: 8 MiB of labels.
const laneChunkNodes = 1 << 18

// writeLaneLayer writes lane's labels of an interleaved layer as the
// sector's layer file (atomically, like writeLayer) and returns its SHA-256.
func writeLaneLayer(dir string, layer int, buf []byte, lane, lanes int) ([32]byte, error) {
	nodes := len(buf) / (abi.NodeSize * lanes)
	chunk, free := allocLayer(min(laneChunkNodes, nodes) * abi.NodeSize)
	defer free()
	produce := func(off int, dst []byte) {
		first := off / abi.NodeSize
		for j := range len(dst) / abi.NodeSize {
			src := ((first+j)*lanes + lane) * abi.NodeSize
			*(*[32]byte)(dst[j*abi.NodeSize:]) = *(*[32]byte)(buf[src:])
		}
	}
	sum, err := writeFileChunked(dir, LayerFileName(layer), nodes*abi.NodeSize, chunk, produce)
	if err != nil {
		return [32]byte{}, fmt.Errorf("sdr: write layer %d: %w", layer, err)
	}
	return sum, nil
}

// readLaneLayer reads a sector's layer file into lane of an interleaved
// layer.
func readLaneLayer(path string, buf []byte, lane, lanes int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrLayer, err)
	}
	defer f.Close()
	nodes := len(buf) / (abi.NodeSize * lanes)
	chunk := make([]byte, min(laneChunkNodes, nodes)*abi.NodeSize)
	for first := 0; first < nodes; {
		n := min(laneChunkNodes, nodes-first)
		if _, err := io.ReadFull(f, chunk[:n*abi.NodeSize]); err != nil {
			return fmt.Errorf("%w: read %s: %w", ErrLayer, path, err)
		}
		for j := range n {
			dst := ((first+j)*lanes + lane) * abi.NodeSize
			*(*[32]byte)(buf[dst:]) = *(*[32]byte)(chunk[j*abi.NodeSize:])
		}
		first += n
	}
	return nil
}

// OpenParentCache opens the parent cache of proof in dir ("" means
// DefaultParentCacheDir), generating it with `workers` goroutines if it is
// missing or bad, and verifying a file this process has not yet checked
// against the production digest, exactly as RunPC1 does before labelling.
func OpenParentCache(ctx context.Context, proof abi.RegisteredSealProof, dir string, workers int, log *slog.Logger) (*ParentCacheFile, error) {
	g, err := NewGraph(proof)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return ensureParentCache(ctx, g, &PC1Options{ParentCacheDir: dir, Workers: workers}, log)
}

// splitBatch deals n sectors to at most workers groups (≤ 0: GOMAXPROCS),
// as evenly as possible and in order, and returns each group's indexes.
func splitBatch(n, workers int) [][]int {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	groups := make([][]int, workers)
	for i := range n {
		g := i * workers / n
		groups[g] = append(groups[g], i)
	}
	return groups
}

// labelBatchLayer labels one layer of every sector: one goroutine per
// lane group, all fed by one reader of the parent source.
func labelBatchLayer(ctx context.Context, g *Graph, src ParentSource, layer uint32, sectors []BatchSector, groups []*laneGroup) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	feed := newParentFeed(len(groups))
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return feed.run(ctx, src, g.nodes) })
	for gi, lg := range groups {
		eg.Go(func() error {
			err := labelGroup(ctx, feed, gi, g.nodes, layer, sectors, lg)
			if err != nil {
				feed.abort()
			}
			return err
		})
	}
	return eg.Wait()
}

// labelGroup labels one layer of a lane group, four lanes at a time
// through sha2.Label4, then pairs through sha2.Label2 and an odd lane
// alone, node by node from the shared feed.
func labelGroup(ctx context.Context, feed *parentFeed, gi int, nodes uint64, layer uint32, sectors []BatchSector, lg *laneGroup) error {
	var ids []*[32]byte
	for _, i := range lg.idx {
		ids = append(ids, &sectors[i].ReplicaID)
	}
	bl := newBatchLanes(layer, ids, lg.cur, lg.prev)
	for {
		c, ok := feed.next(gi)
		if !ok {
			return nil
		}
		if c.err != nil {
			return c.err
		}
		if err := ctx.Err(); err != nil {
			feed.release(c)
			return err
		}
		first := c.first
		cnt := uint64(len(c.parents) / abi.Degree)
		for j := range cnt {
			node := first + j
			ps := (*[abi.Degree]uint32)(c.parents[j*abi.Degree:])
			// See labelLayer: a parent source other than a verified cache
			// could hand us anything.
			for k, p := range ps {
				if (k < abi.BaseDegree && uint64(p) >= node) || uint64(p) >= nodes {
					feed.release(c)
					return fmt.Errorf("%w: parent %d of node %d is %d", ErrNodeRange, k, node, p)
				}
			}
			if j+prefetchDistance < cnt {
				bl.prefetch((*[abi.Degree]uint32)(c.parents[(j+prefetchDistance)*abi.Degree:]))
			}
			bl.labelNode(node, ps)
		}
		feed.release(c)
	}
}

// batchLanes labels one node of every lane of a group, reading and
// writing the group's interleaved layers (laneGroup).
type batchLanes struct {
	cur, prev []byte // interleaved; prev is nil for layer 1
	lanes     int
	stride    uint64 // bytes per node: lanes × 32
	exp       bool   // expander parents (every layer but the first)
	n         int    // unique parents hashed: 6 or 14
	prefix    [][prefixLen]byte
	uniq      [][abi.Degree * abi.NodeSize]byte
}

// newBatchLanes prepares the lanes for layer and labels node 0 of each.
func newBatchLanes(layer uint32, ids []*[32]byte, cur, prev []byte) *batchLanes {
	lanes := len(ids)
	bl := &batchLanes{cur: cur, lanes: lanes, stride: uint64(lanes) * abi.NodeSize, exp: layer > 1, n: abi.BaseDegree,
		prefix: make([][prefixLen]byte, lanes), uniq: make([][abi.Degree * abi.NodeSize]byte, lanes)}
	if bl.exp {
		bl.prev, bl.n = prev, abi.Degree
	}
	for k := range lanes {
		putPrefix(&bl.prefix[k], ids[k], layer, 0)
		// Node 0 has no parents: the hash of its prefix alone.
		p := &bl.prefix[k]
		sha2.HashPair((*[32]byte)(cur[k*abi.NodeSize:]), (*[32]byte)(p[:32]), (*[32]byte)(p[32:]))
	}
	return bl
}

// prefetch starts loading the parent labels of a node a few ahead: one
// line per parent for up to two lanes, the following one for more.
func (bl *batchLanes) prefetch(ps *[abi.Degree]uint32) {
	var prevBase *byte
	if bl.exp {
		prevBase = &bl.prev[0]
	}
	switch {
	case bl.lanes <= 2:
		prefetchParentsStride(&bl.cur[0], prevBase, ps, bl.stride)
	default:
		prefetchParentsStride(&bl.cur[0], prevBase, ps, bl.stride)
		prefetchParentsStride(&bl.cur[64], offsetPtr(prevBase, 64), ps, bl.stride)
	}
}

// offsetPtr is p+off, or nil for nil.
func offsetPtr(p *byte, off uintptr) *byte {
	if p == nil {
		return nil
	}
	return (*byte)(unsafe.Add(unsafe.Pointer(p), off))
}

// gather copies lane k's unique parent labels of a node into bl.uniq[k].
func (bl *batchLanes) gather(k int, ps *[abi.Degree]uint32) {
	u := &bl.uniq[k]
	lane := uint64(k) * abi.NodeSize
	for j := range abi.BaseDegree {
		*(*[32]byte)(u[j*32:]) = *(*[32]byte)(bl.cur[uint64(ps[j])*bl.stride+lane:])
	}
	if bl.exp {
		for j := abi.BaseDegree; j < abi.Degree; j++ {
			*(*[32]byte)(u[j*32:]) = *(*[32]byte)(bl.prev[uint64(ps[j])*bl.stride+lane:])
		}
	}
}

// labelNode labels node (> 0, parents ps already checked) in every lane.
func (bl *batchLanes) labelNode(node uint64, ps *[abi.Degree]uint32) {
	base := node * bl.stride
	size := bl.n * abi.NodeSize
	k := 0
	for ; useLabel4 && k+3 < bl.lanes && bl.n <= sha2.Label4MaxParents; k += 4 {
		var dst [4]*[32]byte
		var prefix [4]*[prefixLen]byte
		var parents [4][]byte
		for i := range 4 {
			bl.gather(k+i, ps)
			putNode(&bl.prefix[k+i], node)
			dst[i] = (*[32]byte)(bl.cur[base+uint64(k+i)*abi.NodeSize:])
			prefix[i] = &bl.prefix[k+i]
			parents[i] = bl.uniq[k+i][:size]
		}
		sha2.Label4(dst, prefix, parents)
	}
	for ; k+1 < bl.lanes; k += 2 {
		bl.gather(k, ps)
		bl.gather(k+1, ps)
		putNode(&bl.prefix[k], node)
		putNode(&bl.prefix[k+1], node)
		off := base + uint64(k)*abi.NodeSize
		sha2.Label2((*[32]byte)(bl.cur[off:]), (*[32]byte)(bl.cur[off+abi.NodeSize:]), &bl.prefix[k], &bl.prefix[k+1],
			bl.uniq[k][:size], bl.uniq[k+1][:size])
	}
	if k < bl.lanes {
		bl.gather(k, ps)
		putNode(&bl.prefix[k], node)
		sha2.Label((*[32]byte)(bl.cur[base+uint64(k)*abi.NodeSize:]), &bl.prefix[k], bl.uniq[k][:size])
	}
}

// useLabel4 hashes groups of four lanes with sha2.Label4 (else as two
// Label2 pairs). A variable so benchmarks can compare the two.
var useLabel4 = true

// putNode sets the node index of a label prefix.
func putNode(p *[prefixLen]byte, node uint64) {
	p[36], p[37], p[38], p[39] = byte(node>>56), byte(node>>48), byte(node>>40), byte(node>>32)
	p[40], p[41], p[42], p[43] = byte(node>>24), byte(node>>16), byte(node>>8), byte(node)
}

// parentChunk is a run of consecutive nodes' parents (abi.Degree each),
// shared read-only by every group; the last group to release it recycles it.
type parentChunk struct {
	first   uint64
	parents []uint32
	err     error
	refs    atomic.Int32
}

// parentFeed reads a parent source once per layer and hands every chunk to
// each of its consumers, so a batch decodes each node's parents once
// however many workers label it. It holds at most parentFeedDepth chunks.
type parentFeed struct {
	consumers int
	queues    []chan *parentChunk
	free      chan *parentChunk
	done      chan struct{}
	abortOnce sync.Once
}

func newParentFeed(consumers int) *parentFeed {
	f := &parentFeed{consumers: consumers, free: make(chan *parentChunk, parentFeedDepth), done: make(chan struct{})}
	for range consumers {
		f.queues = append(f.queues, make(chan *parentChunk, parentFeedDepth))
	}
	for range parentFeedDepth {
		f.free <- &parentChunk{parents: make([]uint32, fileChunkNodes*abi.Degree)}
	}
	return f
}

// run reads parents of nodes 1…nodes-1 into chunks until done or aborted.
func (f *parentFeed) run(ctx context.Context, src ParentSource, nodes uint64) error {
	defer func() {
		for _, q := range f.queues {
			close(q)
		}
	}()
	if nodes < 2 {
		return nil
	}
	it, err := src.Iter(1)
	if err != nil {
		return err
	}
	defer it.Close()
	for node := uint64(1); node < nodes; {
		var c *parentChunk
		select {
		case c = <-f.free:
		case <-f.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
		cnt := min(uint64(fileChunkNodes), nodes-node)
		c.first, c.err = node, nil
		c.parents = c.parents[:cnt*abi.Degree]
		for j := range cnt {
			if err := it.Next((*[abi.Degree]uint32)(c.parents[j*abi.Degree:])); err != nil {
				c.err = fmt.Errorf("sdr: parents of node %d: %w", node+j, err)
				c.parents = c.parents[:0]
				break
			}
		}
		c.refs.Store(int32(f.consumers))
		for _, q := range f.queues {
			select {
			case q <- c:
			case <-f.done:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if c.err != nil {
			return nil // each consumer reports it
		}
		node += cnt
	}
	return nil
}

// next returns consumer gi's next chunk; false once the layer's parents are
// exhausted.
func (f *parentFeed) next(gi int) (*parentChunk, bool) {
	c, ok := <-f.queues[gi]
	return c, ok
}

// release hands a chunk back; the last consumer recycles it.
func (f *parentFeed) release(c *parentChunk) {
	if c.refs.Add(-1) == 0 {
		c.parents = c.parents[:cap(c.parents)]
		select {
		case f.free <- c:
		default:
		}
	}
}

// abort stops the reader after a consumer failed, so it does not wait on
// a consumer that will never read again.
func (f *parentFeed) abort() { f.abortOnce.Do(func() { close(f.done) }) }

// HashImpl names the SHA-256 code labelling runs on: "sha-ni" (the
// assembly, two labels interleaved in batches) or "portable" (pure Go: no
// SHA extensions, another architecture, a purego build, or
// SEALANT_NO_SHANI=1 in the environment).
func HashImpl() string {
	if sha2.HasSHANI() {
		return "sha-ni"
	}
	return "portable"
}
