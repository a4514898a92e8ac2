//go:build linux

package sdr

import (
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// threadCPU returns the CPU time consumed by the calling OS thread. The
// benchmarks lock their goroutine to a thread and report cpu-ns/op next to
// the wall-clock ns/op, because on a shared 2-core machine wall time mostly
// measures the neighbours.
func threadCPU() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

// cpuTimer reports cpu-ns/op for the rest of the benchmark.
func cpuTimer(b *testing.B) func() {
	runtime.LockOSThread()
	start := threadCPU()
	return func() {
		el := threadCPU() - start
		runtime.UnlockOSThread()
		b.ReportMetric(float64(el.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
