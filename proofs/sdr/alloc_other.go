//go:build !linux

package sdr

// allocLayer returns a zeroed buffer for a whole label layer (see the linux
// version for why it is not always a plain make).
func allocLayer(size int) (buf []byte, free func()) {
	return make([]byte, size), func() {}
}
