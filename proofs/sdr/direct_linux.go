//go:build linux

package sdr

import (
	"errors"
	"os"
	"syscall"
	"unsafe"
)

// directAlign is the alignment O_DIRECT needs of offsets, lengths and the
// buffer on the filesystems layers live on (logical block size ≤ 4 KiB).
// O_DIRECT lets the kernel DMA a whole layer from our buffer instead of
// copying it into the page cache first (a tenth of PC1's CPU time in
// profiles), and keeps written layers from crowding the page cache.
const directAlign = 4096

// errDirectRefused reports a filesystem that accepted O_DIRECT at open but
// refused an aligned write; the caller writes again without it.
var errDirectRefused = errors.New("sdr: O_DIRECT write refused")

// createForWrite creates path for writing size bytes from buf in chunks:
// with O_DIRECT when direct is set and size, buf's length and address are
// aligned for it and the filesystem accepts it; otherwise buffered. It
// reports whether O_DIRECT is in use.
func createForWrite(path string, size int, buf []byte, direct bool) (*os.File, bool, error) {
	flags := os.O_CREATE | os.O_TRUNC | os.O_WRONLY
	if direct && size >= 1<<20 && size%directAlign == 0 && len(buf) > 0 && len(buf)%directAlign == 0 &&
		uintptr(unsafe.Pointer(&buf[0]))%directAlign == 0 {
		if f, err := os.OpenFile(path, flags|syscall.O_DIRECT, 0o644); err == nil {
			return f, true, nil
		}
	}
	f, err := os.OpenFile(path, flags, 0o644)
	return f, false, err
}
