//go:build unix

package sha2

import "syscall"

// processCPUSeconds returns the user+system CPU time of this process. The
// benchmarks report CPU time per pair next to wall-clock figures because
// the shared build machine makes wall time noisy.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
