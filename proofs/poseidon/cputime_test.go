package poseidon

import (
	"syscall"
	"testing"
	"time"
)

// cpuTimer reports process CPU time per operation next to wall time. The
// build machine is shared, so wall-clock ns/op swings with other load while
// CPU time (with -cpu 1) stays close to the uncontended figure.
type cpuTimer struct{ start time.Duration }

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuTimer { return cpuTimer{cpuNow()} }

func (c cpuTimer) report(b *testing.B) {
	b.ReportMetric(float64(cpuNow()-c.start)/float64(b.N), "cpu-ns/op")
}
