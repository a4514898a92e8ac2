//go:build !unix

package delivery

// cpuSeconds is unavailable here; the bench then reports no CPU figures.
func cpuSeconds() float64 { return 0 }
