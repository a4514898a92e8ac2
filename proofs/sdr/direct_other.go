//go:build !linux

package sdr

// writeDirect is unavailable here: the caller writes normally.
func writeDirect(path string, data []byte) (bool, error) { return false, nil }
