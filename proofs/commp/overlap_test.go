package commp

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// countingReader counts the chunks the reader goroutine has read.
type countingReader struct {
	r     *bytes.Reader
	reads atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.reads.Add(1)
	}
	return n, err
}

// TestReadOverlapsHashing: while every worker is busy hashing, the reader
// keeps reading ahead (raw buffers return to it once padded), so a read
// that has to wait for the CPU or the disk does not leave workers idle.
func TestReadOverlapsHashing(t *testing.T) {
	const workers = 2
	release := make(chan struct{})
	var hashing atomic.Int64
	beforeHash = func() {
		hashing.Add(1)
		<-release
	}
	defer func() { beforeHash = nil }()

	payload := make([]byte, 40*chunkRaw)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	want, wantSize := naiveCommP(payload)
	r := &countingReader{r: bytes.NewReader(payload)}
	done := make(chan Result, 1)
	go func() {
		res, err := FromReader(context.Background(), r, workers)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	// Both workers are now blocked in hashing; wait for the reader to
	// stop, then count what it read.
	deadline := time.Now().Add(5 * time.Second)
	for hashing.Load() < workers && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	last := int64(-1)
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n := r.reads.Load()
		if n == last {
			break
		}
		last = n
	}
	ahead := r.reads.Load() - workers // chunks read beyond those being hashed
	close(release)
	res := <-done
	if res.Commitment != want || uint64(res.PieceSize) != wantSize {
		t.Fatalf("commp %x/%d, want %x/%d", res.Commitment, res.PieceSize, want, wantSize)
	}
	if ahead < readAhead {
		t.Fatalf("reader got %d chunks ahead of %d hashing workers, want ≥ %d: reading stalls behind hashing", ahead, workers, readAhead)
	}
}
