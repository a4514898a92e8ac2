//go:build !linux

package sdr

// adviseWillNeed is a no-op where syscall has no Madvise.
func adviseWillNeed([]byte) {}
