package delivery

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/porep"
)

// BenchConfig configures BenchTransfer.
type BenchConfig struct {
	// Proof sets the sector size (default StackedDrg512MiBV1_1).
	Proof abi.RegisteredSealProof
	// Dir holds the generated sector and the receiver (default a temp dir,
	// removed afterwards).
	Dir string
	// ChunkSize is the client's chunk size (default DefaultChunkSize).
	ChunkSize int64
	// BandwidthLimit throttles the client (0: none).
	BandwidthLimit int64
	// CommitBytes is the receiver's commit size (default
	// DefaultCommitBytes).
	CommitBytes int64
}

// BenchReport is what `sealant bench transfer` prints.
type BenchReport struct {
	Proof       string  `json:"proof"`
	Bytes       int64   `json:"bytes"`
	ChunkSize   int64   `json:"chunk_size"`
	CommitBytes int64   `json:"commit_bytes"`
	Seconds     float64 `json:"seconds"`
	MBps        float64 `json:"transfer_mb_per_s"`
	// LoopbackMBps is a raw TCP stream over loopback from memory to a
	// discarding reader, measured in the same run: the ceiling.
	LoopbackMBps float64 `json:"loopback_mb_per_s"`
	// CopyMBps is file → loopback TCP → file with no hashing or fsync: a
	// plain network copy of the same bytes.
	CopyMBps float64 `json:"copy_mb_per_s"`
	// HashedCopyMBps is the same copy with one SHA-256 pass on each side
	// (a plain loop per side, 1 MiB pieces, no HTTP, no fsync): a
	// reference for what hashing on both ends costs here, not a bound —
	// the transfer, whose receiver hashes and writes whole 1 MiB pieces,
	// can beat it.
	HashedCopyMBps float64 `json:"hashed_copy_mb_per_s"`
	// SHA256MBps is one core hashing in memory (the sender and the
	// receiver each hash every byte once).
	SHA256MBps float64 `json:"sha256_mb_per_s"`
	// DiskMBps is writing the same bytes from memory to a file in chunks
	// of ChunkSize with an fsync after each: what the receiver's
	// durability cost when it committed every chunk (before commit
	// intervals; kept for comparison).
	DiskMBps float64 `json:"disk_mb_per_s"`
	// DiskCommitMBps is writing the same bytes the way the receiver does
	// now: ChunkSize writes, each handed to writeback at once, an fsync
	// every CommitBytes and at the end. A transfer cannot end
	// before its bytes are durable, so this caps it too; on a VM whose
	// disk is a host file it varies a lot from run to run.
	DiskCommitMBps float64 `json:"disk_commit_mb_per_s"`
	// CeilingMBps is min(CPUBoundMBps, DiskCommitMBps): what this machine
	// allows a transfer that hashes on both ends and is durable at its
	// end. RatioCeiling is the transfer against it.
	CeilingMBps  float64 `json:"ceiling_mb_per_s"`
	RatioCeiling float64 `json:"ratio_vs_ceiling"`
	// CopyCPUPerMB is the CPU time (all threads, user + system) the plain
	// copy took per MB; TransferCPUPerMB the same for the transfer.
	CopyCPUPerMB     float64 `json:"copy_cpu_ms_per_mb"`
	TransferCPUPerMB float64 `json:"transfer_cpu_ms_per_mb"`
	// CPUBoundMBps is the CPU budget: GOMAXPROCS cores divided by the CPU
	// a byte needs at least — the plain copy's per-MB CPU plus two
	// SHA-256 passes at SHA256MBps. Both ends share these cores here, so
	// no transfer that hashes on both ends can beat it, whatever the raw
	// loopback does; it assumes perfect overlap, so it is optimistic.
	CPUBoundMBps float64 `json:"cpu_bound_mb_per_s"`
	Ratio        float64 `json:"ratio_vs_loopback"`
	RatioCopy    float64 `json:"ratio_vs_copy"`
	RatioHashed  float64 `json:"ratio_vs_hashed_copy"`
	RatioCPU     float64 `json:"ratio_vs_cpu_bound"`
	RatioDisk    float64 `json:"ratio_vs_disk"`
	// PeakRSSMiB is the process's peak resident memory (VmHWM) while both
	// ends ran in it; PeakHeapMiB the Go heap's peak sampled every 10 ms.
	PeakRSSMiB  float64 `json:"peak_rss_mib"`
	PeakHeapMiB float64 `json:"peak_heap_mib"`
	GOMAXPROCS  int     `json:"gomaxprocs"`
}

// BenchTransfer generates a sector-sized replica and cache files, then
// measures a complete delivery (metadata, chunked upload with the prefix
// SHA-256 on both ends, commits by the receiver's default policy) to an
// in-process receiver over loopback, and in the same run the raw loopback
// throughput, plain and hashed file copies and the CPU budget they imply. The receiver's checks are
// replaced by an accept-all, since the generated data is not a real
// sector: this measures the transfer alone.
func BenchTransfer(ctx context.Context, cfg BenchConfig) (*BenchReport, error) {
	if cfg.Proof == 0 {
		cfg.Proof = abi.StackedDrg512MiBV1_1
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = DefaultChunkSize
	}
	if cfg.CommitBytes <= 0 {
		cfg.CommitBytes = DefaultCommitBytes
	}
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "sealant-bench-transfer-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	id := api.SectorID{Miner: 1000, Number: 1}
	files, md, err := benchSector(ctx, dir, id, cfg.Proof)
	if err != nil {
		return nil, err
	}
	rep := &BenchReport{Proof: cfg.Proof.String(), ChunkSize: cfg.ChunkSize, CommitBytes: cfg.CommitBytes, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	for _, f := range files {
		rep.Bytes += f.Size
	}
	sealedPath := files[0].Path

	if rep.LoopbackMBps, err = loopbackRaw(ctx, rep.Bytes); err != nil {
		return nil, err
	}
	cpu0 := cpuSeconds()
	if rep.CopyMBps, err = loopbackCopy(ctx, sealedPath, filepath.Join(dir, "copy"), false); err != nil {
		return nil, err
	}
	copyBytes := fileSize(sealedPath)
	rep.CopyCPUPerMB = (cpuSeconds() - cpu0) * 1e3 / (float64(copyBytes) / 1e6)
	os.Remove(filepath.Join(dir, "copy"))
	if rep.HashedCopyMBps, err = loopbackCopy(ctx, sealedPath, filepath.Join(dir, "copy"), true); err != nil {
		return nil, err
	}
	os.Remove(filepath.Join(dir, "copy"))
	rep.SHA256MBps = sha256Speed()
	if rep.CopyCPUPerMB > 0 {
		rep.CPUBoundMBps = float64(rep.GOMAXPROCS) / (rep.CopyCPUPerMB/1e3 + 2/rep.SHA256MBps)
	}
	if rep.DiskMBps, err = diskSpeed(filepath.Join(dir, "disk"), rep.Bytes, cfg.ChunkSize, cfg.ChunkSize); err != nil {
		return nil, err
	}
	if rep.DiskCommitMBps, err = diskSpeed(filepath.Join(dir, "disk"), rep.Bytes, cfg.ChunkSize, cfg.CommitBytes); err != nil {
		return nil, err
	}
	rep.CeilingMBps = rep.DiskCommitMBps
	if rep.CPUBoundMBps > 0 {
		rep.CeilingMBps = min(rep.CPUBoundMBps, rep.DiskCommitMBps)
	}

	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i + 1)
	}
	r, err := NewReceiver(ReceiverConfig{Root: filepath.Join(dir, "root"), Store: filepath.Join(dir, "store"), Secret: secret,
		CommitBytes: cfg.CommitBytes, Miners: []uint64{md.ID.Miner}, Chain: benchChain{md},
		Verify: func(context.Context, VerifyInput) api.VerifyResult { return api.VerifyResult{OK: true} }})
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go r.Run(rctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: r.Handler()}
	go srv.Serve(ln)
	defer srv.Close()
	tok, err := IssueProviderToken(secret, "bench", 0)
	if err != nil {
		return nil, err
	}
	c := &Client{ChunkSize: cfg.ChunkSize, PollInterval: 10 * time.Millisecond}
	target := api.DeliveryTarget{ReceiverURL: "http://" + ln.Addr().String(), Token: tok, BandwidthLimit: cfg.BandwidthLimit}
	ep, _ := EndpointOf(target)

	runtime.GC()
	var peakHeap atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peakHeap.Load() {
					peakHeap.Store(ms.HeapInuse)
				}
			}
		}
	}()
	start, cpu0 := time.Now(), cpuSeconds()
	if _, err := c.PushMetadata(ctx, ep, md); err != nil {
		close(stop)
		return nil, err
	}
	err = c.Transfer(ctx, target, id, files)
	rep.Seconds = time.Since(start).Seconds()
	rep.TransferCPUPerMB = (cpuSeconds() - cpu0) * 1e3 / (float64(rep.Bytes) / 1e6)
	close(stop)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	rep.MBps = float64(rep.Bytes) / 1e6 / rep.Seconds
	rep.Ratio = rep.MBps / rep.LoopbackMBps
	rep.RatioCopy = rep.MBps / rep.CopyMBps
	rep.RatioHashed = rep.MBps / rep.HashedCopyMBps
	if rep.CPUBoundMBps > 0 {
		rep.RatioCPU = rep.MBps / rep.CPUBoundMBps
	}
	rep.RatioDisk = rep.MBps / rep.DiskMBps
	rep.RatioCeiling = rep.MBps / rep.CeilingMBps
	rep.PeakHeapMiB = float64(peakHeap.Load()) / (1 << 20)
	rep.PeakRSSMiB = peakRSSMiB()
	return rep, nil
}

// benchChain has the bench sector proven with its CommR, so the receiver's
// chain check before the upload passes.
type benchChain struct{ md api.SectorMetadata }

func (c benchChain) StateSectorGetInfo(_ context.Context, maddr address.Address, n uint64, _ types.TipSetKey) (*lotus.SectorOnChainInfo, error) {
	if id, _ := address.IDOf(maddr); id != c.md.ID.Miner || n != c.md.ID.Number {
		return nil, nil
	}
	sealed, err := cid.Decode(c.md.CommR)
	if err != nil {
		return nil, err
	}
	return &lotus.SectorOnChainInfo{SectorNumber: n, SealProof: c.md.ProofType, SealedCID: sealed}, nil
}

func (benchChain) StateSectorPreCommitInfo(context.Context, address.Address, uint64, types.TipSetKey) (*lotus.SectorPreCommitOnChainInfo, error) {
	return nil, nil
}

// benchSector writes a pseudo-random replica and well-formed cache files
// and describes them; comm_c and comm_r_last are random field elements
// with the matching CommR, so the metadata passes the receiver's checks.
func benchSector(ctx context.Context, dir string, id api.SectorID, p abi.RegisteredSealProof) ([]api.LocalFile, api.SectorMetadata, error) {
	exp, err := ExpectedFiles(id, p)
	if err != nil {
		return nil, api.SectorMetadata{}, err
	}
	rng := rand.NewChaCha8([32]byte{7})
	var commC, commRLast [32]byte
	rng.Read(commC[:])
	rng.Read(commRLast[:])
	commC[31] &= 0x0f
	commRLast[31] &= 0x0f
	commR, err := porep.CommR(commC, commRLast)
	if err != nil {
		return nil, api.SectorMetadata{}, err
	}
	src := filepath.Join(dir, "src")
	buf := make([]byte, 1<<20)
	var files []api.LocalFile
	for _, e := range exp {
		fp := filepath.Join(src, path.Base(e.Name))
		size := e.Size
		switch path.Base(e.Name) {
		case porep.TAuxFileName:
			size = 1024
		case porep.PAuxFileName:
		}
		if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
			return nil, api.SectorMetadata{}, err
		}
		f, err := os.Create(fp)
		if err != nil {
			return nil, api.SectorMetadata{}, err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		for left := size; left > 0; {
			n := min(int64(len(buf)), left)
			if path.Base(e.Name) == porep.PAuxFileName {
				copy(buf, commC[:])
				copy(buf[32:], commRLast[:])
			} else {
				rng.Read(buf[:n])
			}
			w.Write(buf[:n])
			left -= n
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return nil, api.SectorMetadata{}, err
		}
		f.Close()
		sum, got, err := hashFile(ctx, fp, buf)
		if err != nil {
			return nil, api.SectorMetadata{}, err
		}
		files = append(files, api.LocalFile{SectorFile: api.SectorFile{Name: e.Name, Size: got, SHA256: api.Hex32(sum)}, Path: fp})
	}
	md := api.SectorMetadata{ID: id, ProofType: int64(p), CommR: commp.SealedCID(commR).String(),
		CommD: commp.PieceCID([32]byte{}).String(), CommC: commC, CommRLast: commRLast, Files: SectorFiles(files)}
	return files, md, nil
}

// loopbackRaw streams n bytes from a memory buffer over a loopback TCP
// connection to a reader that discards them.
func loopbackRaw(ctx context.Context, n int64) (float64, error) {
	send := func(w io.Writer) error {
		buf := make([]byte, 1<<20)
		for left := n; left > 0; left -= int64(len(buf)) {
			if _, err := w.Write(buf[:min(int64(len(buf)), left)]); err != nil {
				return err
			}
		}
		return nil
	}
	recv := func(r io.Reader) error {
		_, err := io.CopyBuffer(io.Discard, r, make([]byte, 1<<20))
		return err
	}
	return loopbackMBps(ctx, n, send, recv)
}

// loopbackCopy copies a file over loopback TCP into another file in
// 1 MiB pieces, hashing every piece with SHA-256 on both sides if hashed.
func loopbackCopy(ctx context.Context, from, to string, hashed bool) (float64, error) {
	in, err := os.Open(from)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return 0, err
	}
	// hashing tees w through SHA-256 when hashed; the struct hides
	// ReaderFrom/WriterTo so every copy goes through the 1 MiB buffer.
	hashing := func(w io.Writer) io.Writer {
		if hashed {
			w = io.MultiWriter(sha256.New(), w)
		}
		return struct{ io.Writer }{w}
	}
	send := func(w io.Writer) error {
		_, err := io.CopyBuffer(hashing(w), struct{ io.Reader }{in}, make([]byte, 1<<20))
		return err
	}
	recv := func(r io.Reader) error {
		f, err := os.Create(to)
		if err != nil {
			return err
		}
		_, err = io.CopyBuffer(hashing(f), r, make([]byte, 1<<20))
		return errors.Join(err, f.Close())
	}
	return loopbackMBps(ctx, st.Size(), send, recv)
}

// loopbackMBps runs send on one end of a loopback TCP connection and recv
// on the other, and returns n bytes over the time from the start of send
// to the end of recv, in MB/s.
func loopbackMBps(ctx context.Context, n int64, send func(io.Writer) error, recv func(io.Reader) error) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		done <- recv(c)
	}()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		return 0, err
	}
	start := time.Now()
	err = send(c)
	c.Close()
	if err != nil {
		return 0, err
	}
	if err := <-done; err != nil {
		return 0, err
	}
	return float64(n) / 1e6 / time.Since(start).Seconds(), nil
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

func sha256Speed() float64 {
	buf := make([]byte, 1<<20)
	h := sha256.New()
	start := time.Now()
	for range 128 {
		h.Write(buf)
	}
	return 128 * float64(len(buf)) / 1e6 / time.Since(start).Seconds()
}

// diskSpeed writes n bytes to path in chunks, fsyncing every commit
// bytes and at the end, and removes it. When commit exceeds chunk, each
// chunk is handed to writeback as it is written, as the receiver does.
func diskSpeed(path string, n, chunk, commit int64) (float64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer os.Remove(path)
	defer f.Close()
	// Incompressible data, like a replica: a disk (or a VM's backing
	// store) may treat zeros specially.
	buf := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{9}).Read(buf)
	start := time.Now()
	synced := int64(0)
	for off := int64(0); off < n; {
		from, end := off, min(off+chunk, n)
		for off < end {
			k := min(int64(len(buf)), end-off)
			if _, err := f.Write(buf[:k]); err != nil {
				return 0, err
			}
			off += k
		}
		if commit > chunk {
			startWriteback(f, from, end-from)
		}
		if off-synced >= commit || off == n {
			if err := f.Sync(); err != nil {
				return 0, err
			}
			synced = off
		}
	}
	return float64(n) / 1e6 / time.Since(start).Seconds(), nil
}

// peakRSSMiB reads VmHWM from /proc/self/status (0 where unavailable).
func peakRSSMiB() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}
