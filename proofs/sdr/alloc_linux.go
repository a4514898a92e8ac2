//go:build linux

package sdr

import "syscall"

// allocLayer returns a zeroed buffer for a whole label layer. Labelling reads
// 13 labels per node at effectively random offsets of two such buffers, so
// with 4 KiB pages nearly every read is also a TLB miss; anonymous memory
// advised MADV_HUGEPAGE gets 2 MiB pages (THP "madvise" mode, the common
// default) and removes most of them. The Go heap does not ask for huge
// pages itself. free must be called exactly once.
func allocLayer(size int) (buf []byte, free func()) {
	if size < 1<<21 {
		return make([]byte, size), func() {}
	}
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]byte, size), func() {}
	}
	_ = syscall.Madvise(b, 14) // MADV_HUGEPAGE; advisory, failure only costs speed
	return b, func() { _ = syscall.Munmap(b) }
}
