//go:build linux

package sdr

import "syscall"

// adviseWillNeed asks the kernel to read a mapped layer in up front:
// expander parents are random reads, which would otherwise fault it in page
// by page.
func adviseWillNeed(b []byte) { _ = syscall.Madvise(b, syscall.MADV_WILLNEED) }
