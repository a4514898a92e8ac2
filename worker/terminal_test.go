package worker

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
)

// TestTerminalSentinelNotRetried: when the manager answers SubmitPreCommit
// with a terminal sentinel of the registry (the sector is finished, or
// leased elsewhere), the thread aborts the sector after that one call —
// no retry with backoff — and reports it aborted.
func TestTerminalSentinelNotRetried(t *testing.T) {
	for _, sentinel := range []error{api.ErrSectorDone, api.ErrNotLeaseHolder} {
		t.Run(sentinel.Error(), func(t *testing.T) {
			f := newFakeManager(t, 1)
			cfg, root := testConfig(t, f.URL, 1, "")
			f.target = api.DeliveryTarget{Architecture: api.ArchProviderProves, StorePath: filepath.Join(root, "store")}
			f.failWith = map[string]error{api.MethodSubmitPreCommit: fmt.Errorf("sector s-t01000-1: %w", sentinel)}
			runWorker(t, cfg, Options{})
			select {
			case <-f.abortedCh:
			case <-time.After(60 * time.Second):
				t.Fatal("sector not aborted")
			}
			f.mu.Lock()
			n := f.calls[api.MethodSubmitPreCommit]
			f.mu.Unlock()
			if n != 1 {
				t.Errorf("SubmitPreCommit called %d times, want 1 (a terminal answer is not retried)", n)
			}
		})
	}
}
