//go:build !linux

package main

// peakRSS is not measured outside Linux.
func peakRSS() int64 { return 0 }

// loadAverage is not read outside Linux.
func loadAverage() string { return "" }

// processCPU is not measured outside Linux.
func processCPU() float64 { return 0 }
