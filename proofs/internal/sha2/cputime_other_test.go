//go:build !unix

package sha2

// processCPUSeconds is unavailable here; the CPU metrics are then omitted.
func processCPUSeconds() float64 { return 0 }
