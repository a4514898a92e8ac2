//go:build !unix

package sdr

import (
	"fmt"
	"io"
	"os"
)

// mappedFile is a whole file read into memory (no mmap on this platform).
type mappedFile struct{ data []byte }

func mapFile(path string, size int64) (*mappedFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data := make([]byte, size)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &mappedFile{data: data}, nil
}

func (m *mappedFile) close() error {
	if m != nil {
		m.data = nil
	}
	return nil
}

func syncDir(string) error { return nil }
