//go:build !unix

package commp

// processCPUSeconds is unavailable here; the CPU-time metric reads 0.
func processCPUSeconds() float64 { return 0 }
