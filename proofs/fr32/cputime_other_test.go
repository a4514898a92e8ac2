//go:build !unix

package fr32

// processCPUSeconds is unavailable here; the CPU-time metric reads 0.
func processCPUSeconds() float64 { return 0 }
