//go:build unix

package sdr

import (
	"fmt"
	"os"
	"syscall"
)

// mappedFile is a read-only view of a whole file.
type mappedFile struct{ data []byte }

// mapFile maps path read-only. The previous label layer is read at random
// (expander parents), so mapping it lets the page cache hold it instead of
// the Go heap.
func mapFile(path string, size int64) (*mappedFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size == 0 {
		return &mappedFile{}, nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %s: %w", path, err)
	}
	adviseWillNeed(data)
	return &mappedFile{data: data}, nil
}

func (m *mappedFile) close() error {
	if m == nil || m.data == nil {
		return nil
	}
	err := syscall.Munmap(m.data)
	m.data = nil
	return err
}

// syncDir fsyncs a directory so a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
