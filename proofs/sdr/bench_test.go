package sdr

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
)

// BenchmarkSHA256Floor is the floor for a label: one SHA-256 over 1,248
// bytes (20 compressions) with nothing else.
func BenchmarkSHA256Floor(b *testing.B) {
	var msg [labelMsgLen]byte
	b.SetBytes(labelMsgLen)
	b.ReportAllocs()
	defer cpuTimer(b)()
	for i := range b.N {
		msg[40] = byte(i)
		sum := sha256.Sum256(msg[:])
		msg[0] = sum[0]
	}
}

// BenchmarkLabelHot labels with all parents in L1: the hashing and message
// assembly cost without memory latency.
func BenchmarkLabelHot(b *testing.B) {
	rid := [32]byte{7}
	l := newLabeler(&rid, 2)
	cur := make([]byte, 1<<16)
	prev := make([]byte, 1<<16)
	var ps [abi.Degree]uint32
	for k := range ps {
		ps[k] = uint32(k * 37 % 2048)
	}
	b.SetBytes(labelMsgLen)
	b.ReportAllocs()
	defer cpuTimer(b)()
	for i := range b.N {
		l.label(cur[(i%1024)*32:], uint64(i), &ps, cur, prev, true)
	}
}

func BenchmarkFeistelRound(b *testing.B) {
	b.ReportAllocs()
	var acc uint64
	defer cpuTimer(b)()
	for i := range b.N {
		acc += feistelRound(uint64(i), 0x90b15b1c4509e47a)
	}
	_ = acc
}

func BenchmarkBaseParents(b *testing.B) {
	g := mustGraph(b, abi.StackedDrg512MiBV1_1)
	var ps [abi.Degree]uint32
	b.ReportAllocs()
	defer cpuTimer(b)()
	for i := range b.N {
		g.BaseParents(uint32(2+i%(1<<24-2)), ps[:])
	}
}

func BenchmarkExpParents(b *testing.B) {
	for _, warm := range []bool{false, true} {
		b.Run(map[bool]string{false: "direct", true: "table"}[warm], func(b *testing.B) {
			benchExpParents(b, warm)
		})
	}
}

func benchExpParents(b *testing.B, warm bool) {
	g := mustGraph(b, abi.StackedDrg512MiBV1_1)
	if warm {
		g.Warm()
	}
	var ps [abi.Degree]uint32
	b.ReportAllocs()
	b.ResetTimer()
	defer cpuTimer(b)()
	for i := range b.N {
		g.ExpParents(uint32(i%(1<<24)), ps[:])
	}
}

// BenchmarkParentCache8MiB generates the whole 8MiB parent cache (2^18
// nodes, 14.7 MB) with every core; ns/op is per cache.
func BenchmarkParentCache8MiB(b *testing.B) {
	g := mustGraph(b, abi.StackedDrg8MiBV1_1)
	b.SetBytes(int64(g.ParentCacheSize()))
	b.ReportAllocs()
	g.Warm()
	b.ResetTimer()
	for range b.N {
		if _, err := ParentCacheDigest(context.Background(), g, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// labelBench sets up a realistic layer-2 labelling workload on the 512MiB
// graph: two full random 512 MiB layers and the true parents of a window of
// nodes in the middle of the graph, so parent reads hit memory the way PC1's
// do.
type labelBench struct {
	cur, prev []byte
	first     uint64
	parents   [][abi.Degree]uint32
	g         *Graph
}

const benchWindow = 1 << 15

func newLabelBench(b *testing.B) *labelBench {
	b.Helper()
	if testing.Short() {
		b.Skip("needs 1 GiB of memory")
	}
	g := mustGraph(b, abi.StackedDrg512MiBV1_1)
	n := g.Nodes()
	lb := &labelBench{first: n / 2, g: g}
	var free1, free2 func()
	lb.cur, free1 = allocLayer(int(n * 32))
	lb.prev, free2 = allocLayer(int(n * 32))
	b.Cleanup(func() { free1(); free2() })
	r := rand.New(rand.NewChaCha8([32]byte{1}))
	for i := 0; i < len(lb.cur); i += 8 {
		v := r.Uint64()
		for k := range 8 {
			lb.cur[i+k], lb.prev[i+k] = byte(v>>(8*k)), byte(v>>(8*k+4))
		}
	}
	lb.parents = make([][abi.Degree]uint32, benchWindow)
	for i := range lb.parents {
		g.Parents(uint32(lb.first+uint64(i)), lb.parents[i][:])
	}
	return lb
}

// BenchmarkLabel512MiB is ns per SDR label, single core, parents from a
// precomputed cache, with the parent-label prefetch PC1 uses ("prefetch=8")
// and without it ("prefetch=0") to show what memory latency costs.
func BenchmarkLabel512MiB(b *testing.B) {
	lb := newLabelBench(b)
	for _, dist := range []uint64{prefetchDistance, 0} {
		b.Run(fmt.Sprintf("prefetch=%d", dist), func(b *testing.B) {
			rid := [32]byte{7}
			l := newLabeler(&rid, 2)
			b.SetBytes(labelMsgLen)
			b.ReportAllocs()
			defer cpuTimer(b)()
			for i := range b.N {
				w := uint64(i % benchWindow)
				node := lb.first + w
				if dist > 0 {
					prefetchParents(&lb.cur[0], &lb.prev[0], &lb.parents[(w+dist)%benchWindow])
				}
				l.label(lb.cur[node*32:], node, &lb.parents[w], lb.cur, lb.prev, true)
			}
		})
	}
}

// BenchmarkLabel512MiBOnTheFly computes each node's parents in the loop
// instead of reading them from a cache.
func BenchmarkLabel512MiBOnTheFly(b *testing.B) {
	lb := newLabelBench(b)
	rid := [32]byte{7}
	l := newLabeler(&rid, 2)
	lb.g.Warm()
	var ps [abi.Degree]uint32
	b.SetBytes(labelMsgLen)
	b.ReportAllocs()
	b.ResetTimer()
	defer cpuTimer(b)()
	for i := range b.N {
		node := lb.first + uint64(i%benchWindow)
		lb.g.Parents(uint32(node), ps[:])
		l.label(lb.cur[node*32:], node, &ps, lb.cur, lb.prev, true)
	}
}

// BenchmarkBatchLabel512MiB is the batch PC1 inner loop on the 512MiB
// graph (layer 2: 14 parents, true parents of a window of nodes), ns per
// label on one core, for lane groups of 1, 2 and 4 sectors in the
// interleaved layout; a group of 4 is hashed by sha2.Label4, and
// "sectors=4/pairs" hashes it as two Label2 pairs instead. Beside it,
// BenchmarkSHA256Floor is Go's
// crypto/sha256 on one 1,248-byte label message.
func BenchmarkBatchLabel512MiB(b *testing.B) {
	lb := newLabelBench(b) // for the parents; its layers are not used
	n := lb.g.Nodes()
	for _, c := range []struct {
		lanes int
		name  string
		four  bool
	}{{1, "sectors=1", false}, {2, "sectors=2", false}, {4, "sectors=4", true}, {4, "sectors=4/pairs", false}} {
		lanes := c.lanes
		b.Run(c.name, func(b *testing.B) {
			was := useLabel4
			useLabel4 = c.four
			defer func() { useLabel4 = was }()
			cur, free1 := allocLayer(int(n*32) * lanes)
			prev, free2 := allocLayer(int(n*32) * lanes)
			defer free1()
			defer free2()
			fillRandom(cur, 1)
			fillRandom(prev, 2)
			ids := make([]*[32]byte, lanes)
			for k := range ids {
				ids[k] = &[32]byte{byte(k + 7)}
			}
			bl := newBatchLanes(2, ids, cur, prev)
			b.SetBytes(int64(lanes) * labelMsgLen)
			b.ReportAllocs()
			b.ResetTimer()
			defer cpuTimer(b)()
			for i := range b.N {
				w := uint64(i % benchWindow)
				bl.prefetch(&lb.parents[(w+prefetchDistance)%benchWindow])
				bl.labelNode(lb.first+w, &lb.parents[w])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lanes), "ns/label")
		})
	}
}

// fillRandom fills b with a deterministic pseudo-random stream.
func fillRandom(b []byte, seed byte) {
	r := rand.New(rand.NewChaCha8([32]byte{seed}))
	for i := 0; i+8 <= len(b); i += 8 {
		v := r.Uint64()
		for k := range 8 {
			b[i+k] = byte(v >> (8 * k))
		}
	}
}

// BenchmarkRandomLine is the machine's yardstick for PC1's parent reads:
// independent loads of random 64-byte lines (16 in flight per step, as a
// label's parents are) over a buffer of the given size on 2 MiB pages,
// ns per line. A batch worker with two interleaved sectors fetches 7
// random lines per label, so 7 × this figure at 1–2 GiB is the memory
// time a label must overlap with its hashing.
func BenchmarkRandomLine(b *testing.B) {
	if testing.Short() {
		b.Skip("allocates up to 2 GiB")
	}
	for _, mib := range []int{8, 256, 2048} {
		b.Run(fmt.Sprintf("MiB=%d", mib), func(b *testing.B) {
			buf, free := allocLayer(mib << 20)
			defer free()
			fillRandom(buf, 3)
			lines := uint32(len(buf) / 64)
			idx := make([]uint32, 1<<20)
			r := rand.New(rand.NewChaCha8([32]byte{4}))
			for i := range idx {
				idx[i] = r.Uint32N(lines) * 64
			}
			var s byte
			b.ResetTimer()
			for i := 0; i < b.N; i += 16 {
				j := i & (len(idx) - 16)
				for k := range 16 {
					s += buf[idx[j+k]]
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/line")
			sink = s
		})
	}
}

var sink byte
