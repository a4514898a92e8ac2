package commp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/sealant/sealant/proofs/fr32"
)

const (
	// MinPayload is the smallest payload FromReader accepts. It is
	// go-fil-commp-hashhash's MinPiecePayload, kept so that both tools
	// accept exactly the same inputs.
	MinPayload = 65
	// MaxPayload is the largest payload FromReader accepts: the unpadded
	// capacity of a 32 GiB sector, 32 GiB·127/128 bytes. (Current
	// go-fil-commp-hashhash accepts up to 64 GiB·127/128; the limit here is
	// the one the Sealant issue specifies.)
	MaxPayload = 32 << 30 / 128 * 127

	// chunkPadded is the padded size of one unit of parallel work. A power
	// of two, so a full chunk is one complete subtree; 1 MiB keeps the
	// working set of a worker in L2 while making the per-chunk coordination
	// cost negligible.
	chunkPadded = 1 << 20
	chunkRaw    = chunkPadded / fr32.PaddedBlockSize * fr32.UnpaddedBlockSize

	// bufferBudget caps the chunk buffers of one computation. On machines
	// with many cores the chunks shrink (down to minChunkPadded) instead of
	// memory growing with the core count.
	bufferBudget   = 32 << 20
	minChunkPadded = 64 << 10
	// maxWorkers keeps even the smallest chunks within bufferBudget:
	// (240 raw + 4 read ahead + 240 padded) × 64 KiB ≈ 30 MiB.
	maxWorkers = 240
	// readAhead is how many raw chunks the reader may have filled beyond
	// one per worker. Measured on 2 cores with a cached 1 GiB file, 4 is
	// as fast as the old 2 and 12 was 4 % slower (chunks read too far
	// ahead leave the cache before they are padded).
	readAhead = 4
)

// chunkSizeFor returns the padded chunk size for nbuf buffers: the largest
// power of two ≤ chunkPadded whose raw+padded buffers fit the budget.
func chunkSizeFor(nbuf int) int {
	size := chunkPadded
	for size > minChunkPadded && nbuf*2*size > bufferBudget {
		size /= 2
	}
	return size
}

// Sentinel errors of FromReader and Calc.
var (
	// ErrPayloadTooSmall reports a payload shorter than MinPayload bytes.
	ErrPayloadTooSmall = errors.New("commp: payload too small")
	// ErrPayloadTooLarge reports a payload longer than MaxPayload bytes.
	ErrPayloadTooLarge = errors.New("commp: payload too large")
)

// Result is the outcome of a CommP computation.
type Result struct {
	// Commitment is the raw CommP; PieceCID(Commitment) is the piece CID.
	Commitment [32]byte
	// PayloadSize is the number of bytes read.
	PayloadSize uint64
	// PieceSize is the padded piece size: the payload zero-padded to the
	// next 127·2^k bytes, Fr32-padded.
	PieceSize fr32.PaddedPieceSize
}

// chunk is one unit of work: up to len(raw) payload bytes and the buffer
// their padding is written to. Buffers circulate through a fixed pool, which
// bounds memory.
type chunk struct {
	idx int
	n   int // payload bytes in raw
	raw []byte
}

// beforeHash, when set (tests), runs in a worker after it handed its raw
// buffer back and before it hashes.
var beforeHash func()

type chunkRoot struct {
	idx  int
	root [32]byte
	size uint64
}

// FromReader computes the CommP of everything read from r until io.EOF,
// with the semantics of go-fil-commp-hashhash: the payload (MinPayload to
// MaxPayload bytes) is zero-padded to the next 127·2^k bytes and
// Fr32-padded, and the result is the root of the binary trunc254 SHA-256
// tree over it.
//
// workers goroutines hash in parallel (≤ 0 means GOMAXPROCS, at most 240);
// one more goroutine reads, up to readAhead chunks ahead of the workers,
// so reading overlaps hashing. Memory use is about 2 MiB per worker plus
// 4 MiB and never above 32 MiB (chunks shrink on many-core machines),
// whatever the payload size. FromReader stops early when ctx is cancelled or r fails, and
// never leaves goroutines behind.
func FromReader(ctx context.Context, r io.Reader, workers int) (Result, error) {
	return fromReader(ctx, r, workers, MaxPayload)
}

// fromReader is FromReader with the payload limit as a parameter, so tests
// can exercise the limit without hashing 32 GiB.
func fromReader(ctx context.Context, r io.Reader, workers int, maxPayload uint64) (Result, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, maxWorkers)
	// Raw buffers go back to the reader as soon as a worker has padded
	// them, not after hashing, and readAhead more than there are workers
	// exist: the reader keeps reading while every worker hashes, and a
	// reader the scheduler leaves waiting (both cores hashing) finds
	// readAhead chunks queued when it runs again instead of idle workers.
	nraw := workers + readAhead
	padSize := chunkSizeFor((nraw + workers + 1) / 2)
	rawSize := padSize / fr32.PaddedBlockSize * fr32.UnpaddedBlockSize
	pool := make(chan *chunk, nraw)
	for range nraw {
		pool <- &chunk{raw: make([]byte, rawSize)}
	}
	jobs := make(chan *chunk, nraw)
	results := make(chan chunkRoot, nraw)

	g, gctx := errgroup.WithContext(ctx)
	var total uint64

	// Reader: fills chunks in order. Only it touches r and total.
	g.Go(func() error {
		defer close(jobs)
		for idx := 0; ; idx++ {
			var c *chunk
			select {
			case c = <-pool:
			case <-gctx.Done():
				return gctx.Err()
			}
			n, err := io.ReadFull(r, c.raw)
			total += uint64(n)
			if total > maxPayload {
				return fmt.Errorf("%w: more than %d bytes", ErrPayloadTooLarge, maxPayload)
			}
			eof := err == io.EOF || err == io.ErrUnexpectedEOF
			if err != nil && !eof {
				return fmt.Errorf("commp: read payload: %w", err)
			}
			if n == 0 {
				return nil
			}
			c.idx, c.n = idx, n
			select {
			case jobs <- c:
			case <-gctx.Done():
				return gctx.Err()
			}
			if eof {
				return nil
			}
		}
	})

	// Workers: pad a chunk into their own buffer, hand the raw buffer back
	// to the reader, reduce the padded chunk to its subtree root.
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		g.Go(func() error {
			defer wg.Done()
			nh := newNodeHasher()
			own := make([]byte, padSize)
			for c := range jobs {
				blocks := (c.n + fr32.UnpaddedBlockSize - 1) / fr32.UnpaddedBlockSize
				clear(c.raw[c.n : blocks*fr32.UnpaddedBlockSize]) // zero-fill the last block
				padded := own[:blocks*fr32.PaddedBlockSize]
				fr32.Pad(c.raw[:blocks*fr32.UnpaddedBlockSize], padded)
				idx := c.idx
				pool <- c // cannot block: the pool has room for every buffer
				if beforeHash != nil {
					beforeHash()
				}
				root, size := nh.root(padded)
				res := chunkRoot{idx: idx, root: root, size: size}
				select {
				case results <- res:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	// Combiner (this goroutine): folds chunk roots in payload order. Chunks
	// are power-of-two subtrees laid out back to back, and only the last
	// may be smaller, so folding them on the CommD stack and collapsing with
	// zero subtrees yields the root of the zero-padded piece.
	var ps pieceStack
	pending := make(map[int]chunkRoot)
	next := 0
	for res := range results {
		pending[res.idx] = res
		for {
			cr, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			ps.push(cr.root, cr.size)
			next++
		}
	}
	if err := g.Wait(); err != nil {
		return Result{}, err
	}
	if total < MinPayload {
		if total == 0 {
			return Result{}, fmt.Errorf("%w: payload is empty, need at least %d bytes", ErrPayloadTooSmall, MinPayload)
		}
		return Result{}, fmt.Errorf("%w: %d bytes, need at least %d", ErrPayloadTooSmall, total, MinPayload)
	}
	top := ps.collapse()
	return Result{Commitment: top.comm, PayloadSize: total, PieceSize: fr32.PaddedPieceSize(top.size)}, nil
}

// Calc computes CommP from data written to it, like go-fil-commp-hashhash's
// Calc: Write the payload, then call Digest. The zero value is ready to use;
// the first Write starts the parallel pipeline of FromReader (GOMAXPROCS
// workers) in the background. A Calc that is abandoned after a Write must
// be released with Reset. Calc is not safe for concurrent use.
type Calc struct {
	pw   *io.PipeWriter
	done chan struct{}
	res  Result
	err  error
}

// Write feeds payload bytes to the calculation. It fails once the payload
// exceeds MaxPayload.
func (c *Calc) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.pw == nil {
		pr, pw := io.Pipe()
		c.pw, c.done = pw, make(chan struct{})
		go func() {
			defer close(c.done)
			c.res, c.err = FromReader(context.Background(), pr, 0)
			pr.CloseWithError(errCalcDone) // unblock a Write racing with an early failure
		}()
	}
	n, err := c.pw.Write(p)
	if err != nil {
		<-c.done
		if c.err != nil {
			return n, c.err
		}
		return n, err
	}
	return n, nil
}

var errCalcDone = errors.New("commp: calc finished")

// Digest ends the payload and returns the raw CommP and the padded piece
// size. It fails for a payload shorter than MinPayload. The Calc is reset
// and may be reused.
func (c *Calc) Digest() (commP [32]byte, paddedPieceSize uint64, err error) {
	if c.pw == nil {
		return [32]byte{}, 0, fmt.Errorf("%w: payload is empty, need at least %d bytes", ErrPayloadTooSmall, MinPayload)
	}
	c.pw.Close()
	<-c.done
	res, err := c.res, c.err
	*c = Calc{}
	if err != nil {
		return [32]byte{}, 0, err
	}
	return res.Commitment, uint64(res.PieceSize), nil
}

// Reset abandons any calculation in progress, stopping its goroutines, and
// makes c ready for a new payload.
func (c *Calc) Reset() {
	if c.pw != nil {
		c.pw.CloseWithError(errCalcDone)
		<-c.done
	}
	*c = Calc{}
}
