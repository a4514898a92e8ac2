//go:build !linux

package sdr

import (
	"errors"
	"os"
)

// errDirectRefused is never returned here.
var errDirectRefused = errors.New("sdr: O_DIRECT write refused")

// createForWrite creates path for buffered writing.
func createForWrite(path string, size int, buf []byte, direct bool) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	return f, false, err
}
