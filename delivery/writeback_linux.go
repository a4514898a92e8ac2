package delivery

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing a just-received range
// out (sync_file_range SYNC_FILE_RANGE_WRITE: asynchronous, no wait for
// completion, no metadata). Without it the kernel keeps gigabytes dirty
// until its thresholds, and each commit's fsync would write them all at
// once, stalling the chunk that triggered it. Only a hint: errors are
// ignored (the commit's fsync reports real ones), and files that are not
// *os.File (test disks) are skipped.
func startWriteback(f File, off, n int64) {
	sc, ok := f.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
