package manager

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/store"
)

// heartbeatFlush is how often collected worker heartbeats are written.
const heartbeatFlush = 2 * time.Second

// heartbeats collects workers' pings in memory and writes them to the
// store together, at most every heartbeatFlush, in one transaction. A
// heartbeat is information for operators (the worker is the authority on
// its own threads), so a crash loses at most the last few seconds of it;
// the ping that finds the last write old enough does the write, so no
// goroutine is needed and an idle manager writes nothing.
type heartbeats struct {
	st    *store.Store
	every time.Duration

	mu      sync.Mutex
	pending map[string]api.WorkerInfo
	last    time.Time // wall clock of the last write
}

func newHeartbeats(st *store.Store) *heartbeats {
	return &heartbeats{st: st, every: heartbeatFlush, pending: map[string]api.WorkerInfo{}, last: time.Now()}
}

// note records a heartbeat, writing the collected ones when due.
func (h *heartbeats) note(ctx context.Context, w api.WorkerInfo) error {
	h.mu.Lock()
	h.pending[w.Name] = w
	due := time.Since(h.last) >= h.every
	h.mu.Unlock()
	if !due {
		return nil
	}
	return h.flush(ctx)
}

// flush writes the collected heartbeats. On failure they stay collected
// (unless a newer one arrived meanwhile) for the next write.
func (h *heartbeats) flush(ctx context.Context) error {
	h.mu.Lock()
	batch := h.pending
	h.pending = map[string]api.WorkerInfo{}
	h.last = time.Now()
	h.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	ws := make([]store.Worker, 0, len(batch))
	for _, w := range batch {
		raw, err := json.Marshal(w)
		if err != nil {
			return fmt.Errorf("manager: worker %s: %w", w.Name, err)
		}
		ws = append(ws, store.Worker{Name: w.Name, Info: string(raw), Seen: w.LastSeen})
	}
	if err := h.st.PutWorkers(ctx, ws); err != nil {
		h.mu.Lock()
		for name, w := range batch {
			if _, newer := h.pending[name]; !newer {
				h.pending[name] = w
			}
		}
		h.mu.Unlock()
		return fmt.Errorf("manager: worker heartbeats: %w", err)
	}
	return nil
}

// list returns the known workers by name: the stored ones, with this
// process's newer heartbeats not written yet.
func (h *heartbeats) list(ctx context.Context) ([]api.WorkerInfo, error) {
	stored, err := h.st.ListWorkers(ctx)
	if err != nil {
		return nil, fmt.Errorf("manager: list workers: %w", err)
	}
	byName := map[string]api.WorkerInfo{}
	for _, sw := range stored {
		var w api.WorkerInfo
		if err := json.Unmarshal([]byte(sw.Info), &w); err != nil {
			return nil, fmt.Errorf("manager: worker %s: %w", sw.Name, err)
		}
		byName[sw.Name] = w
	}
	h.mu.Lock()
	for name, w := range h.pending {
		if cur, ok := byName[name]; !ok || !w.LastSeen.Before(cur.LastSeen) {
			byName[name] = w
		}
	}
	h.mu.Unlock()
	out := make([]api.WorkerInfo, 0, len(byName))
	for _, w := range byName {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
