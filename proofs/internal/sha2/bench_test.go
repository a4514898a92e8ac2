package sha2

import (
	"crypto/sha256"
	"testing"
)

// cpuMeter reports CPU time per unit and MB per CPU-second at the end of a
// benchmark, robust to other load on the machine.
type cpuMeter struct {
	b     *testing.B
	start float64
}

func startCPU(b *testing.B) cpuMeter { return cpuMeter{b, processCPUSeconds()} }

// stop reports cpu-ns per unit (units per op) and MB/cpu-s for bytes per op.
func (m cpuMeter) stop(unit string, units, bytes float64) {
	cpu := processCPUSeconds() - m.start
	if cpu <= 0 {
		return
	}
	n := float64(m.b.N)
	m.b.ReportMetric(cpu*1e9/(n*units), "cpu-ns/"+unit)
	m.b.ReportMetric(n*bytes/cpu/1e6, "MB/cpu-s")
}

// The benchmarks report ns per pair (one node hash, two compressions) and,
// via SetBytes, MB/s of tree input hashed. The machine they were written on
// is shared, so compare them with -count and benchstat rather than singly.

func BenchmarkHashPair(b *testing.B) {
	impls(b, func(name string) {
		b.Run(name, func(b *testing.B) {
			var x, y [32]byte
			b.SetBytes(64)
			b.ReportAllocs()
			m := startCPU(b)
			for b.Loop() {
				HashPair(&x, &x, &y)
			}
			m.stop("pair", 1, 64)
		})
	})
}

// BenchmarkHashPairs hashes one 1 MiB level (16384 pairs) per op.
func BenchmarkHashPairs(b *testing.B) {
	const size = 1 << 20
	src := make([]byte, size)
	for i := range src {
		src[i] = byte(i * 7)
	}
	dst := make([]byte, size/2)
	impls(b, func(name string) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			m := startCPU(b)
			for b.Loop() {
				HashPairs(dst, src)
			}
			m.stop("pair", size/64, size)
		})
	})
}

// BenchmarkTree reduces 1 MiB of leaves to the root of its binary tree,
// level by level in place, as CommP does for each chunk.
func BenchmarkTree(b *testing.B) {
	const size = 1 << 20
	leaves := make([]byte, size)
	for i := range leaves {
		leaves[i] = byte(i * 7)
	}
	buf := make([]byte, size)
	impls(b, func(name string) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			m := startCPU(b)
			for b.Loop() {
				copy(buf, leaves)
				for n := size; n > NodeSize; n /= 2 {
					HashPairs(buf[:n/2], buf[:n])
				}
			}
			m.stop("pair", size/32-1, size)
		})
	})
}

// BenchmarkStdlibPair is the crypto/sha256 baseline this package replaces.
func BenchmarkStdlibPair(b *testing.B) {
	var pair [64]byte
	b.SetBytes(64)
	b.ReportAllocs()
	m := startCPU(b)
	for b.Loop() {
		out := sha256.Sum256(pair[:])
		out[31] &= 0x3f
		copy(pair[:32], out[:])
	}
	m.stop("pair", 1, 64)
}
