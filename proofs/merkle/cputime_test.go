package merkle

import (
	"syscall"
	"time"
)

// cpuNow is the process CPU time (user + system), used by the benchmarks
// to report throughput per CPU-second on a shared machine.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
