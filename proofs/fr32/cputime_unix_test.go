//go:build unix

package fr32

import "syscall"

// processCPUSeconds returns the user+system CPU time of this process. The
// benchmarks report throughput per CPU-second next to wall-clock MB/s
// because the shared 2-core build machine makes wall time noisy.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
